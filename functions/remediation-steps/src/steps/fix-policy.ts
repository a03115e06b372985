import { MissingTargetError } from '../errors.js';
import type { StepResult } from '../plan.js';
import type { IotPort, PolicyAnalyzerPort } from '../ports.js';
import { result, type StepInput } from './common.js';

export interface FixPolicyDeps {
  iot: Pick<
    IotPort,
    'getPolicy' | 'listPolicyVersions' | 'deletePolicyVersion' | 'createDefaultPolicyVersion'
  >;
  policies: PolicyAnalyzerPort;
}

/** AWS IoT keeps at most five versions of a policy. */
export const MAX_POLICY_VERSIONS = 5;

/**
 * Replaces an overly permissive managed IoT policy's default version with the least-privilege document of its
 * role. No change when the default version is already clean (or already the proposal); no automatic change for a
 * policy whose name maps to no ECU role (the result says so; notify and openTicket still run). At the five-version
 * limit the oldest non-default version is deleted first.
 */
export async function fixPolicy(input: StepInput, deps: FixPolicyDeps): Promise<StepResult> {
  const { plan } = input;
  if (plan.policyName === undefined) throw new MissingTargetError('fixPolicy', 'a policy name');
  const name = plan.policyName;
  const current = await deps.iot.getPolicy(name);
  const currentDoc = parse(current.document);
  const problems =
    currentDoc === undefined ? [{ code: 'UNPARSABLE' }] : safeAnalyze(deps.policies, currentDoc);
  if (problems.length === 0) {
    return result(
      'fixPolicy',
      'unchanged',
      `default version ${current.defaultVersionId} is already least-privilege`,
      {
        policyName: name,
        defaultVersionId: current.defaultVersionId,
      },
    );
  }
  const codes = [...new Set(problems.map((p) => p.code))].sort();
  const role = deps.policies.roleFromPolicyName(name);
  if (role === undefined) {
    return result('fixPolicy', 'declined', `${name} is not a managed ECU role policy; no automatic change`, {
      policyName: name,
      problems: codes,
    });
  }
  const proposal = deps.policies.proposeLeastPrivilege(role);
  if (currentDoc !== undefined && canonical(currentDoc) === canonical(proposal)) {
    return result(
      'fixPolicy',
      'unchanged',
      `default version ${current.defaultVersionId} is already the ${role} template`,
      {
        policyName: name,
        defaultVersionId: current.defaultVersionId,
      },
    );
  }
  const versions = await deps.iot.listPolicyVersions(name);
  let pruned: string | undefined;
  if (versions.length >= MAX_POLICY_VERSIONS) {
    const oldest = versions
      .filter((v) => !v.isDefault)
      .sort(
        (a, b) =>
          (a.createdAt?.getTime() ?? 0) - (b.createdAt?.getTime() ?? 0) ||
          Number(a.versionId) - Number(b.versionId),
      )[0];
    if (oldest !== undefined) {
      await deps.iot.deletePolicyVersion(name, oldest.versionId);
      pruned = oldest.versionId;
    }
  }
  const created = await deps.iot.createDefaultPolicyVersion(name, JSON.stringify(proposal));
  const prunedNote = pruned === undefined ? '' : `, pruned version ${pruned}`;
  return result(
    'fixPolicy',
    'changed',
    `${name}: version ${created.versionId} (${role} template) is now default, was ${current.defaultVersionId} [${codes.join(', ')}]${prunedNote}`,
    {
      policyName: name,
      role,
      previousVersionId: current.defaultVersionId,
      defaultVersionId: created.versionId,
      problems: codes,
      ...(pruned === undefined ? {} : { prunedVersionId: pruned }),
    },
  );
}

function parse(document: string): unknown {
  try {
    return JSON.parse(document) as unknown;
  } catch {
    return undefined;
  }
}

function safeAnalyze(policies: PolicyAnalyzerPort, doc: unknown): readonly { code: string }[] {
  try {
    return policies.analyze(doc);
  } catch {
    return [{ code: 'UNANALYZABLE' }];
  }
}

/** JSON with object keys sorted, so two equal documents compare equal whatever their key order. */
export function canonical(value: unknown): string {
  return JSON.stringify(sortKeys(value));
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(
      Object.entries(value as Record<string, unknown>)
        .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
        .map(([k, v]) => [k, sortKeys(v)]),
    );
  }
  return value;
}

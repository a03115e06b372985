import type { z } from 'zod';
import { type AsffFinding, AsffFindingSchema, SecurityHubImportedEventSchema } from './asff.js';
import { ForeignFindingError, ForeignResourceError, MalformedFindingError } from './errors.js';
import { type Action, type Plan, PlanSchema } from './plan.js';
import { looksLikeArn, parseArn, printable, requireOwnArn, type StackScope } from './scope.js';
import { type Targets, targetsOf } from './targets.js';

/** GeneratorId prefix of the findings our own authz-detector imports (see docs/remediation.md). */
export const OWN_GENERATOR_PREFIX = 'cv-security/';

/**
 * A copied operational key (shared certificate, conflicting client ids): cut it off (quarantine, INACTIVE), revoke it
 * at the CA so it can never be activated again, and rotate by re-enrolment (docs/protocol.md): the genuine ECU, refused,
 * re-enrols with its attestation key, which the copy lacks. The thing stays quarantined until an operator releases it.
 */
const DEVICE_COMPROMISE: readonly Action[] = [
  'quarantine',
  'deactivateCertificate',
  'revokeCertificate',
  'rotateCertificate',
  'notify',
  'openTicket',
];
const CERTIFICATE_HYGIENE: readonly Action[] = ['rotateCertificate', 'notify'];
const CA_PROBLEM: readonly Action[] = ['notify', 'openTicket'];
const BEHAVIOUR_VIOLATION: readonly Action[] = [
  'quarantine',
  'deactivateCertificate',
  'notify',
  'openTicket',
];
const OTHER: readonly Action[] = ['openTicket'];

/** GeneratorId of behaviour-detector's findings; their Id is `<GeneratorId>/<BEHAVIOUR>/<thing>/<time>`. */
export const BEHAVIOUR_GENERATOR = 'cv-security/behaviour-detector';

/**
 * Playbook of behaviour-detector's findings, by the behaviour in the finding Id (which the provenance record binds,
 * so a look-alike import cannot change it; `ProductFields['cv/Check']` is only descriptive). A cloned identity is a
 * copied key: cut off and re-enrol like a shared certificate. Statistical excesses notify (an operator judges);
 * those that suggest an attack on other ECUs or data leaving the car also open a ticket. Unknown: ticket only.
 */
export const BEHAVIOUR_PLAYBOOK: Readonly<Record<string, readonly Action[]>> = {
  CLONED_IDENTITY: DEVICE_COMPROMISE,
  AUTHORIZATION_PROBING: ['notify', 'openTicket'],
  MESSAGE_SIZE_JUMP: ['notify', 'openTicket'],
  RECONNECT_LOOP: ['notify'],
  MESSAGE_FLOOD: ['notify'],
  DATA_VOLUME: ['notify'],
  COMMAND_FLOOD: ['notify'],
};

/** The behaviour a behaviour-detector finding Id names, if any. */
function behaviourOf(findingId: string): string | undefined {
  const m = /^cv-security\/behaviour-detector\/([A-Z_]{3,64})\//.exec(findingId);
  return m?.[1];
}

/** docs/architecture.md §8 playbook, by Device Defender audit check name. Anything not listed gets {@link OTHER}. */
export const PLAYBOOK: Readonly<Record<string, readonly Action[]>> = {
  IOT_POLICY_OVERLY_PERMISSIVE_CHECK: ['fixPolicy', 'notify', 'openTicket'],
  DEVICE_CERTIFICATE_SHARED_CHECK: DEVICE_COMPROMISE,
  CONFLICTING_CLIENT_IDS_CHECK: DEVICE_COMPROMISE,
  REVOKED_DEVICE_CERTIFICATE_STILL_ACTIVE_CHECK: ['deactivateCertificate', 'notify'],
  DEVICE_CERTIFICATE_EXPIRING_CHECK: CERTIFICATE_HYGIENE,
  DEVICE_CERTIFICATE_KEY_QUALITY_CHECK: CERTIFICATE_HYGIENE,
  CA_CERTIFICATE_EXPIRING_CHECK: CA_PROBLEM,
  REVOKED_CA_CERTIFICATE_STILL_ACTIVE_CHECK: CA_PROBLEM,
  CA_CERTIFICATE_KEY_QUALITY_CHECK: CA_PROBLEM,
};

const NEEDS_DEVICE: ReadonlySet<Action> = new Set([
  'quarantine',
  'deactivateCertificate',
  'revokeCertificate',
  'rotateCertificate',
]);

export type Classification =
  | { skipped: false; plan: Plan; claimsOwnDetector: boolean; generatorId: string }
  | { skipped: true; skipReason: string; plan: Plan };

type Source = 'audit' | 'detect' | 'own';

/**
 * Turns a Security Hub "Findings - Imported" event into a remediation plan. Pure: no AWS call.
 * Suppressed, archived or already-handled findings and audit check summaries give an empty plan with a skip reason.
 * A finding that names any resource not provably this stack's (see targets.ts) gives a refused plan: no target,
 * notify only. A finding of our own detectors is flagged `claimsOwnDetector`: the caller must prove it genuine
 * (provenance.ts) before any action.
 * @throws ForeignFindingError when the finding itself belongs to another account, partition or region.
 * @throws MalformedFindingError when the event or finding is not a supported, well-formed Device Defender finding.
 */
export function classify(event: unknown, scope: StackScope): Classification {
  const envelope = SecurityHubImportedEventSchema.safeParse(event);
  if (!envelope.success)
    throw new MalformedFindingError('not a Security Hub imported-findings event', issues(envelope.error));
  const parsed = AsffFindingSchema.safeParse(envelope.data.detail.findings[0]);
  if (!parsed.success) throw new MalformedFindingError('finding does not match ASFF', issues(parsed.error));
  const finding = parsed.data;
  const source = sourceOf(finding, scope);
  const fields = finding.ProductFields ?? {};
  const check = checkOf(finding, source, fields);

  const base = {
    findingId: finding.Id,
    productArn: finding.ProductArn,
    check,
    title: finding.Title.slice(0, 256),
    severity: finding.Severity.Label ?? 'INFORMATIONAL',
    region: finding.Region ?? scope.region,
    accountId: finding.AwsAccountId,
  };

  const skipReason = skipReasonOf(finding, source, fields);
  if (skipReason !== undefined) return { skipped: true, skipReason, plan: build({ ...base, actions: [] }) };

  let targets: Targets;
  try {
    provenanceFieldsAreOurs(finding, scope);
    targets = targetsOf(finding, scope, {
      clientIdIsThing: fields.CheckName === 'CONFLICTING_CLIENT_IDS_CHECK',
      audit: source === 'audit',
    });
  } catch (error) {
    if (!(error instanceof ForeignResourceError)) throw error;
    return {
      skipped: false,
      claimsOwnDetector: source === 'own',
      generatorId: finding.GeneratorId,
      plan: build({
        ...base,
        actions: ['notify'],
        refusal: { code: 'foreign-resource', reason: error.message },
      }),
    };
  }

  const actions =
    source === 'audit'
      ? [...(PLAYBOOK[check] ?? OTHER)]
      : finding.GeneratorId === BEHAVIOUR_GENERATOR
        ? [...(BEHAVIOUR_PLAYBOOK[behaviourOf(finding.Id) ?? ''] ?? OTHER)]
        : [...BEHAVIOUR_VIOLATION];
  if (actions.includes('fixPolicy') && targets.policyName === undefined) {
    throw new MalformedFindingError(`${check} finding names no IoT policy`);
  }
  if (
    actions.some((a) => NEEDS_DEVICE.has(a)) &&
    targets.thingName === undefined &&
    targets.certificateId === undefined
  ) {
    throw new MalformedFindingError(`${check} finding names neither a thing nor a device certificate`);
  }
  return {
    skipped: false,
    claimsOwnDetector: source === 'own',
    generatorId: finding.GeneratorId,
    plan: build({ ...base, ...targets, actions }),
  };
}

/**
 * The finding's own coordinates must be this stack's, else nothing at all is done with it (not even a workflow
 * update: the finding is not ours to close). `Region` and `AwsAccountId` must be ours.
 */
function requireOwnFinding(finding: AsffFinding, scope: StackScope): void {
  if (finding.AwsAccountId !== scope.accountId) {
    throw new ForeignFindingError(`account ${finding.AwsAccountId} is not this account`);
  }
  if (finding.Region !== undefined && finding.Region !== scope.region) {
    throw new ForeignFindingError(`region ${printable(finding.Region)} is not ${scope.region}`);
  }
}

/**
 * Fields that say where the finding comes from must agree with it: a GeneratorId that is an ARN (Detect: the
 * security profile) must be ours, and Security Hub's `aws/securityhub/FindingId` must be `<ProductArn>/<Id>`.
 */
function provenanceFieldsAreOurs(finding: AsffFinding, scope: StackScope): void {
  if (looksLikeArn(finding.GeneratorId)) requireOwnArn(finding.GeneratorId, scope, 'GeneratorId');
  const hubId = finding.ProductFields?.['aws/securityhub/FindingId'];
  if (hubId !== undefined && hubId !== `${finding.ProductArn}/${finding.Id}`) {
    throw new ForeignResourceError(
      'ProductFields.aws/securityhub/FindingId',
      'does not match ProductArn and Id',
    );
  }
}

function build(candidate: Record<string, unknown>): Plan {
  const plan = PlanSchema.safeParse(candidate);
  if (!plan.success) throw new MalformedFindingError('finding identifiers are malformed', issues(plan.error));
  return plan.data;
}

function sourceOf(finding: AsffFinding, scope: StackScope): Source {
  const arn = parseArn(finding.ProductArn);
  const product = /^product\/([\w.-]+)\/([\w.-]+)$/.exec(arn?.resource ?? '');
  if (arn === undefined || arn.service !== 'securityhub' || product === null) {
    throw new MalformedFindingError('ProductArn is not a Security Hub product ARN');
  }
  if (arn.partition !== scope.partition || arn.region !== scope.region) {
    throw new ForeignFindingError(`ProductArn is not of ${scope.partition} ${scope.region}`);
  }
  requireOwnFinding(finding, scope);
  const [, company, name] = product;
  if (company === 'aws' && arn.account === '' && name === 'iot-device-defender-audit') return 'audit';
  if (company === 'aws' && arn.account === '' && name === 'iot-device-defender-detect') return 'detect';
  // Our own findings: the account's default product, imported by a detector of ours (GeneratorId prefix). Claiming
  // it proves nothing: anyone allowed BatchImportFindings can; the provenance check decides.
  if (
    company === scope.accountId &&
    arn.account === scope.accountId &&
    name === 'default' &&
    finding.GeneratorId.startsWith(OWN_GENERATOR_PREFIX)
  ) {
    return 'own';
  }
  throw new MalformedFindingError(`unsupported product ${company}/${name}`);
}

function checkOf(finding: AsffFinding, source: Source, fields: Record<string, string>): string {
  if (source === 'audit') {
    const fromTitle = /^([A-Z][A-Z0-9_]{2,127})\b/.exec(finding.Title)?.[1];
    const name = fields.CheckName ?? fromTitle;
    if (name === undefined || !/^[A-Z][A-Z0-9_]{2,127}$/.test(name)) {
      throw new MalformedFindingError('audit finding has no CheckName');
    }
    return name;
  }
  if (source === 'detect') {
    const metric = fields.MetricName ?? fields.BehaviorName ?? 'unknown';
    return `DETECT_BEHAVIOR_VIOLATION:${metric}`.slice(0, 256);
  }
  const behaviour = finding.GeneratorId === BEHAVIOUR_GENERATOR ? behaviourOf(finding.Id) : undefined;
  return `${finding.GeneratorId}${behaviour === undefined ? '' : `/${behaviour}`}`.slice(0, 256);
}

function skipReasonOf(
  finding: AsffFinding,
  source: Source,
  fields: Record<string, string>,
): string | undefined {
  if (finding.RecordState === 'ARCHIVED') return 'archived';
  const status = finding.Workflow?.Status ?? finding.WorkflowState;
  if (status === 'SUPPRESSED') return 'suppressed';
  if (status !== undefined && status !== 'NEW') return `workflow status ${status}`;
  if (fields.IsSuppressed === 'true') return 'suppressed in Device Defender';
  if (source === 'detect' && fields.SuppressAlerts === 'true') return 'alerts suppressed for this behavior';
  if (source === 'audit' && fields.ReportType === 'CheckSummary') return 'audit check summary (no resource)';
  return undefined;
}

function issues(error: z.ZodError): string[] {
  return error.issues.slice(0, 10).map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`);
}

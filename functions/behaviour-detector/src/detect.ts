/**
 * What the detector's two use cases share (presence.ts: lifecycle events; counters.ts: counter updates): their
 * collaborators, the ECU's role and parameters, and raising at most one finding per ECU and behaviour within the
 * role's cool-down.
 */
import type { BehaviourFinding } from './finding.js';
import { buildFinding, findingId, GENERATOR_ID, productArnOf } from './finding.js';
import { BUCKET_SECONDS, ROLE_PARAMETERS, type Role, type RoleParameters } from './model.js';
import type {
  CounterStore,
  FindingImporter,
  FindingLedger,
  ProvenanceWriter,
  RoleDirectory,
  StateStore,
} from './ports.js';

export interface DetectorConfig {
  region: string;
  partition: string;
  accountId: string;
  /** One ECU in this many (by a hash of its name) feeds its role's baseline: bounded writes per role item. */
  roleSampleModulo: number;
  parameters?: Readonly<Record<Role, RoleParameters>>;
}

export interface DetectDeps {
  counters: CounterStore;
  state: StateStore;
  ledger: FindingLedger;
  roles: RoleDirectory;
  provenance: ProvenanceWriter;
  findings: FindingImporter;
  clock: { now(): Date };
  config: DetectorConfig;
}

/** How long a provenance record is kept: Security Hub keeps a finding 90 days, and the workflow may re-run. */
export const PROVENANCE_TTL_SECONDS = 90 * 86_400;
/** Optimistic-concurrency retries of a baseline or presence write before the invocation fails (and is retried). */
export const MAX_CONFLICTS = 5;

export const bucketOf = (atMs: number) => Math.floor(atMs / 1000 / BUCKET_SECONDS) * BUCKET_SECONDS;

/** An unknown ECU (not in the registry) is judged with the default parameters and no role baseline. */
export async function roleAndParams(thingName: string, deps: DetectDeps) {
  const role = await deps.roles.roleOf(thingName);
  const table = deps.config.parameters ?? ROLE_PARAMETERS;
  return { role, params: table[role ?? 'telematics'] };
}

/**
 * One finding per ECU and behaviour within the cool-down: the raise is claimed first (conditional), then the
 * provenance record written, the finding imported and marked imported; a raise left unimported by a failure is
 * completed by the next call for the same ECU and behaviour (a Lambda retry included).
 */
export async function raise(
  finding: BehaviourFinding,
  params: RoleParameters,
  deps: DetectDeps,
): Promise<string | undefined> {
  const previous = await deps.ledger.lastRaised(finding.thingName, finding.behaviour);
  if (previous !== undefined && !previous.imported) await importRaised(previous, deps);
  if (
    previous !== undefined &&
    finding.firstObservedAt <= previous.finding.lastObservedAt + params.coolDownSeconds * 1000
  ) {
    return undefined;
  }
  const next = {
    findingId: findingId(finding.behaviour, finding.thingName, finding.firstObservedAt),
    finding,
    raisedAt: deps.clock.now().getTime(),
    imported: false,
  };
  if (!(await deps.ledger.claimRaise(next, previous))) return undefined;
  await importRaised(next, deps);
  return next.findingId;
}

async function importRaised(
  raised: { findingId: string; finding: BehaviourFinding; raisedAt: number },
  deps: DetectDeps,
): Promise<void> {
  const { config } = deps;
  const { finding } = raised;
  await deps.provenance.write(
    {
      findingId: raised.findingId,
      generatorId: GENERATOR_ID,
      productArn: productArnOf(config),
      accountId: config.accountId,
      targets: {
        thingName: finding.thingName,
        ...(finding.certificateId === undefined ? {} : { certificateId: finding.certificateId }),
      },
      raisedAt: new Date(raised.raisedAt).toISOString(),
    },
    Math.floor(raised.raisedAt / 1000) + PROVENANCE_TTL_SECONDS,
  );
  await deps.findings.import(buildFinding(finding, { ...config, now: new Date(raised.raisedAt) }));
  await deps.ledger.markImported(finding.thingName, finding.behaviour, raised.findingId);
}

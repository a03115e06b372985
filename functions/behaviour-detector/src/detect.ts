/**
 * The detector's use cases: lifecycle events (counters + real-time rules) and counter updates (baselines +
 * statistical judgement), both raising at most one finding per ECU and behaviour within the role's cool-down.
 */
import type { BehaviourFinding } from './finding.js';
import { buildFinding, findingId, GENERATOR_ID, productArnOf } from './finding.js';
import { judgeBucket } from './judge.js';
import {
  BUCKET_SECONDS,
  type BucketCounts,
  ROLE_PARAMETERS,
  type Role,
  type RoleParameters,
} from './model.js';
import type {
  CounterIncrement,
  CounterStore,
  FindingImporter,
  FindingLedger,
  ProvenanceWriter,
  RoleDirectory,
  StateStore,
} from './ports.js';
import { applyPresence, emptyPresence, type PresenceEvent } from './rules.js';
import { type Baseline, ECU_ALPHA, emptyBaseline, fold, ROLE_ALPHA } from './stats.js';

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
const MAX_CONFLICTS = 5;

const bucketOf = (atMs: number) => Math.floor(atMs / 1000 / BUCKET_SECONDS) * BUCKET_SECONDS;

/** An unknown ECU (not in the registry) is judged with the default parameters and no role baseline. */
async function roleAndParams(thingName: string, deps: DetectDeps) {
  const role = await deps.roles.roleOf(thingName);
  const table = deps.config.parameters ?? ROLE_PARAMETERS;
  return { role, params: table[role ?? 'telematics'] };
}

/**
 * Lifecycle events: counts connects, disconnects (by reason) and source addresses per ECU and bucket (one write per
 * ECU and bucket for the whole batch), then judges the cloned-identity and reconnect-loop rules on each ECU's
 * recent presence. Returns the finding ids raised.
 */
export async function onPresence(events: readonly PresenceEvent[], deps: DetectDeps): Promise<string[]> {
  const increments = new Map<string, CounterIncrement>();
  const byThing = new Map<string, PresenceEvent[]>();
  for (const e of events) {
    const start = bucketOf(e.at);
    const key = `${e.thingName}#${start}`;
    const inc = increments.get(key) ?? {
      thingName: e.thingName,
      start,
      add: {},
      disconnectReasons: {},
      sourceIps: [],
    };
    if (e.kind === 'connected') {
      inc.add.connects = (inc.add.connects ?? 0) + 1;
      if (e.ipAddress !== undefined && !inc.sourceIps?.includes(e.ipAddress))
        inc.sourceIps?.push(e.ipAddress);
    } else {
      inc.add.disconnects = (inc.add.disconnects ?? 0) + 1;
      const reason = e.disconnectReason ?? 'UNKNOWN';
      if (inc.disconnectReasons) inc.disconnectReasons[reason] = (inc.disconnectReasons[reason] ?? 0) + 1;
    }
    increments.set(key, inc);
    byThing.set(e.thingName, [...(byThing.get(e.thingName) ?? []), e]);
  }
  await deps.counters.add([...increments.values()]);
  const raised: string[] = [];
  for (const [thingName, own] of [...byThing].sort(([a], [b]) => (a < b ? -1 : 1))) {
    const { role, params } = await roleAndParams(thingName, deps);
    for (let attempt = 0; ; attempt++) {
      const stored = await deps.state.presence(thingName);
      const { state, hits } = applyPresence(stored?.value ?? emptyPresence(), own, params);
      if (!(await deps.state.savePresence(thingName, state, stored?.version))) {
        if (attempt + 1 >= MAX_CONFLICTS) throw new Error(`presence of ${thingName} kept changing`);
        continue;
      }
      for (const hit of hits) {
        const id = await raise({ ...hit, thingName, role: role ?? 'unknown' }, params, deps);
        if (id !== undefined) raised.push(id);
      }
      break;
    }
  }
  return raised;
}

/**
 * Counter updates (the counters table's stream, new images): judges each ECU's bucket against its baselines; the
 * first update of a new bucket first learns the ECU's previous bucket into its baseline (and, for the sampled ECUs,
 * into its role's). Returns the finding ids raised.
 */
export async function onCounters(
  updates: ReadonlyArray<{ bucket: BucketCounts; isNew: boolean }>,
  deps: DetectDeps,
): Promise<string[]> {
  const raised: string[] = [];
  for (const { bucket, isNew } of updates) {
    const { role, params } = await roleAndParams(bucket.thingName, deps);
    let own = (await deps.state.ecuBaseline(bucket.thingName))?.value;
    if (isNew) own = await learnPrevious(bucket, role, deps);
    const roleBaseline = role === undefined ? undefined : (await deps.state.roleBaseline(role))?.value;
    for (const anomaly of judgeBucket(bucket, own, roleBaseline, params)) {
      const id = await raise(
        {
          ...anomaly,
          thingName: bucket.thingName,
          role: role ?? 'unknown',
          sourceIps: [],
          firstObservedAt: bucket.start * 1000,
          lastObservedAt: Math.min(deps.clock.now().getTime(), (bucket.start + BUCKET_SECONDS) * 1000),
        },
        params,
        deps,
      );
      if (id !== undefined) raised.push(id);
    }
  }
  return raised;
}

/** At most this many unlearned buckets are learned at once (an ECU back after a long silence). */
const MAX_CATCH_UP = 48;

/**
 * Learns the ECU's stored buckets since the last one learned, up to the one before `bucket`, into its baseline
 * (once: `lastFolded` moves forward under optimistic concurrency), and the sampled ECUs' into their role's. Silent
 * buckets have no item and are not learned: a baseline describes the ECU when it is active.
 */
async function learnPrevious(
  bucket: BucketCounts,
  role: Role | undefined,
  deps: DetectDeps,
): Promise<(Baseline & { lastFolded: number }) | undefined> {
  for (let attempt = 0; attempt < MAX_CONFLICTS; attempt++) {
    const stored = await deps.state.ecuBaseline(bucket.thingName);
    const current = stored?.value ?? { ...emptyBaseline(), lastFolded: 0 };
    const from = Math.max(current.lastFolded + BUCKET_SECONDS, bucket.start - MAX_CATCH_UP * BUCKET_SECONDS);
    const pending = await deps.counters.between(
      bucket.thingName,
      from,
      bucket.start - BUCKET_SECONDS,
      MAX_CATCH_UP,
    );
    if (pending.length === 0) return stored?.value;
    let next = current;
    for (const b of pending) next = { ...fold(next, b.start, b.counts, ECU_ALPHA), lastFolded: b.start };
    if (await deps.state.saveEcuBaseline(bucket.thingName, next, stored?.version)) {
      if (role !== undefined && sampled(bucket.thingName, deps.config.roleSampleModulo)) {
        await learnRole(role, pending, deps);
      }
      return next;
    }
  }
  throw new Error(`baseline of ${bucket.thingName} kept changing`);
}

async function learnRole(role: Role, buckets: readonly BucketCounts[], deps: DetectDeps): Promise<void> {
  for (let attempt = 0; attempt < MAX_CONFLICTS; attempt++) {
    const stored = await deps.state.roleBaseline(role);
    let next = stored?.value ?? emptyBaseline();
    for (const b of buckets) next = fold(next, b.start, b.counts, ROLE_ALPHA);
    if (await deps.state.saveRoleBaseline(role, next, stored?.version)) return;
  }
  throw new Error(`baseline of role ${role} kept changing`);
}

/** FNV-1a of the thing name: a stable sample of the fleet. */
export function sampled(thingName: string, modulo: number): boolean {
  let h = 0x811c9dc5;
  for (let i = 0; i < thingName.length; i++) h = Math.imul(h ^ thingName.charCodeAt(i), 0x01000193);
  return (h >>> 0) % modulo === 0;
}

/**
 * One finding per ECU and behaviour within the cool-down: the raise is claimed first (conditional), then the
 * provenance record written, the finding imported and marked imported; a raise left unimported by a failure is
 * completed by the next call for the same ECU and behaviour (a Lambda retry included).
 */
async function raise(
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

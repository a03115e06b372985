/** Use case of behaviourCounters: counter updates judged against baselines, baselines learned. */
import { type DetectDeps, MAX_CONFLICTS, raise, roleAndParams } from './detect.js';
import { judgeBucket } from './judge.js';
import { BUCKET_SECONDS, type BucketCounts, type Role } from './model.js';
import { type Baseline, ECU_ALPHA, emptyBaseline, fold, ROLE_ALPHA } from './stats.js';

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

/**
 * Judges one ECU's bucket of counters against its baselines (its own once warmed up, else its role's) and the
 * message-size rule. Pure. Counters only grow within a bucket, so judging a bucket before it closes is sound: an
 * excess found early is an excess.
 */
import { type Behaviour, type BucketCounts, JUDGED, type Metric, type RoleParameters } from './model.js';
import { type Baseline, reference, thresholdOf } from './stats.js';

export interface Anomaly {
  behaviour: Behaviour;
  metric: Metric;
  observed: number;
  threshold: number;
  /** The level and spread judged against, and whose they are (`ecu` or `role`). */
  baseline: string;
}

export function judgeBucket(
  bucket: BucketCounts,
  own: Baseline | undefined,
  role: Baseline | undefined,
  params: RoleParameters,
): Anomaly[] {
  const found = new Map<Behaviour, Anomaly>();
  for (const [metric, behaviour] of Object.entries(JUDGED) as Array<[Metric, Behaviour]>) {
    const observed = bucket.counts[metric];
    if (observed < params.floors[metric]) continue;
    const { stat, source } = reference(own, role, metric, bucket.start, params);
    // No baseline at all yet (a new stack): only the floors speak, at twice their value.
    const threshold = source === 'none' ? 2 * params.floors[metric] : thresholdOf(stat, metric, params);
    if (observed <= threshold) continue;
    const anomaly: Anomaly = {
      behaviour,
      metric,
      observed,
      threshold: round(threshold),
      baseline: `${source} level ${round(stat.m)}, spread ${round(stat.d)}`,
    };
    const had = found.get(behaviour);
    if (had === undefined || observed / threshold > had.observed / had.threshold)
      found.set(behaviour, anomaly);
  }
  const jump = sizeJump(bucket, own, role, params);
  if (jump !== undefined) found.set('MESSAGE_SIZE_JUMP', jump);
  return [...found.values()];
}

/**
 * Rule: a message far larger than the role has been seen to send (`sizeJumpFactor` x the role's learned typical
 * max per bucket, at least `sizeJumpFloorBytes`). Judged against the role, so an ECU cannot teach itself larger
 * messages; its own history only raises the bar if it already was the larger.
 */
function sizeJump(
  bucket: BucketCounts,
  own: Baseline | undefined,
  role: Baseline | undefined,
  params: RoleParameters,
): Anomaly | undefined {
  const observed = bucket.counts.maxBytes;
  const roleRef = reference(undefined, role, 'maxBytes', bucket.start, params);
  const ownRef = reference(own, undefined, 'maxBytes', bucket.start, params);
  const typical = Math.max(
    roleRef.source === 'none' ? 0 : roleRef.stat.m + 3 * roleRef.stat.d,
    ownRef.source === 'ecu' ? ownRef.stat.m : 0,
  );
  const threshold = Math.max(params.sizeJumpFloorBytes, params.sizeJumpFactor * typical);
  if (observed <= threshold) return undefined;
  return {
    behaviour: 'MESSAGE_SIZE_JUMP',
    metric: 'maxBytes',
    observed,
    threshold: round(threshold),
    baseline: `role typical max ${round(typical)} bytes`,
  };
}

const round = (n: number) => Math.round(n * 100) / 100;

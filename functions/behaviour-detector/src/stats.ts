/**
 * Robust baselines: per metric and season slot an exponentially weighted level and mean absolute deviation, learned
 * from winsorised values (a value beyond the current threshold is clipped before it is learned, so an anomaly does
 * not teach the baseline that it is normal). Pure.
 */
import { METRICS, type Metric, type RoleParameters, SEASON_SLOTS, slotOf } from './model.js';

/** Level `m`, mean absolute deviation `d`, values learned `n`. */
export interface Stat {
  m: number;
  d: number;
  n: number;
}

export interface Baseline {
  /** Buckets learned. */
  n: number;
  stats: Record<Metric, Stat[]>;
}

/** Weight of a new bucket in an ECU's baseline (per season slot: each slot sees SEASON_SLOTS-th of the buckets). */
export const ECU_ALPHA = 0.15;
/** Weight of one ECU's bucket in its role's baseline (many ECUs feed one role). */
export const ROLE_ALPHA = 0.01;
/** A value is clipped to `m + CLIP * spread` before it is learned. */
const CLIP = 3;

export function emptyBaseline(): Baseline {
  const stats = Object.fromEntries(
    METRICS.map((m) => [m, Array.from({ length: SEASON_SLOTS }, () => ({ m: 0, d: 0, n: 0 }))]),
  ) as Record<Metric, Stat[]>;
  return { n: 0, stats };
}

/** The spread used for thresholds: the deviation, never below a quarter of the level (the floors do the rest). */
export function spreadOf(stat: Stat): number {
  return Math.max(stat.d, 0.25 * stat.m);
}

/** The value above which `metric` is anomalous against `stat`. */
export function thresholdOf(stat: Stat, metric: Metric, params: RoleParameters): number {
  return Math.max(params.floors[metric], stat.m + params.sensitivity * spreadOf(stat));
}

/** Learns one value into a stat (EWMA of level and absolute deviation, winsorised). Returns a new stat. */
export function learn(stat: Stat, value: number, alpha: number): Stat {
  if (!Number.isFinite(value) || value < 0) return stat;
  if (stat.n === 0) return { m: value, d: 0.5 * value, n: 1 };
  // Faster start: the first values weigh as an average would, then alpha.
  const a = Math.max(alpha, 1 / (stat.n + 1));
  const clipped = Math.min(value, stat.m + CLIP * spreadOf(stat));
  const m = (1 - a) * stat.m + a * clipped;
  const d = (1 - a) * stat.d + a * Math.abs(clipped - stat.m);
  return { m, d, n: stat.n + 1 };
}

/** Learns one bucket's counts into a baseline (its season slot). Returns a new baseline. */
export function fold(
  baseline: Baseline,
  bucketStart: number,
  counts: Readonly<Record<Metric, number>>,
  alpha: number,
): Baseline {
  const slot = slotOf(bucketStart);
  const stats = { ...baseline.stats };
  for (const metric of METRICS) {
    const slots = [...(stats[metric] ?? [])];
    slots[slot] = learn(slots[slot] ?? { m: 0, d: 0, n: 0 }, counts[metric], alpha);
    stats[metric] = slots;
  }
  return { n: baseline.n + 1, stats };
}

/** The stat an ECU's bucket is judged against: its own once warmed up (and the slot learned), else its role's. */
export function reference(
  own: Baseline | undefined,
  role: Baseline | undefined,
  metric: Metric,
  bucketStart: number,
  params: RoleParameters,
): { stat: Stat; source: 'ecu' | 'role' | 'none' } {
  const slot = slotOf(bucketStart);
  const mine = own?.stats[metric]?.[slot];
  if (own !== undefined && own.n >= params.warmUpBuckets && mine !== undefined && mine.n >= 3) {
    return { stat: mine, source: 'ecu' };
  }
  const theirs = role?.stats[metric]?.[slot];
  if (theirs !== undefined && theirs.n >= 10) return { stat: theirs, source: 'role' };
  return { stat: { m: 0, d: 0, n: 0 }, source: 'none' };
}

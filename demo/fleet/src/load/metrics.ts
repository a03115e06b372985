/**
 * Measurements of the load harness: per flow, completions over time (real seconds since the
 * flow started), end-to-end latencies, retries and throttles seen by the clients.
 */

export interface FlowMetrics {
  readonly name: string;
  startedAt: number;
  endedAt: number;
  completed: number;
  failed: number;
  /** Client-side retries (HTTP 429/503/409 honoured, MQTT reconnects, connect attempts). */
  retries: number;
  readonly latenciesMs: number[];
  /** Completions by real second since the flow started. */
  readonly bySecond: number[];
  /** Local-cloud requests during the flow, by `service:operation` (a delta). */
  requests: Record<string, number>;
  /** Quota throttles during the flow, by quota name (a delta). */
  throttles: Record<string, number>;
  /** Quota admissions during the flow, by quota name (a delta). */
  admitted: Record<string, number>;
  /** Admissions by real second for each quota, during the flow. */
  admittedBySecond: Record<string, number[]>;
}

export function newFlow(name: string): FlowMetrics {
  const now = performance.now();
  return {
    name,
    startedAt: now,
    endedAt: now,
    completed: 0,
    failed: 0,
    retries: 0,
    latenciesMs: [],
    bySecond: [],
    requests: {},
    throttles: {},
    admitted: {},
    admittedBySecond: {},
  };
}

/** Records one completed event that started at `startedAt` and ended at `now` (performance.now()). */
export function complete(flow: FlowMetrics, startedAt: number, now = performance.now()): void {
  flow.completed += 1;
  flow.latenciesMs.push(now - startedAt);
  const second = Math.floor((now - flow.startedAt) / 1000);
  flow.bySecond[second] = (flow.bySecond[second] ?? 0) + 1;
}

/**
 * Events per real second in the flow's middle: from the second in which 10 % of its events had
 * completed to the one in which 90 % had, so the ramp-up (the first events in flight) and the
 * tail (the last stragglers, Lambda's minute-long retries) do not dilute what the flow sustained.
 * Undefined when that middle spans under 3 seconds (too few events to tell).
 */
export function steadyRate(bySecond: readonly (number | undefined)[]): number | undefined {
  const total = bySecond.reduce<number>((a, b) => a + (b ?? 0), 0);
  if (total === 0) return undefined;
  let cumulative = 0;
  let from: { second: number; done: number } | undefined;
  for (let second = 0; second < bySecond.length; second++) {
    cumulative += bySecond[second] ?? 0;
    if (!from && cumulative >= total * 0.1) from = { second, done: cumulative };
    if (from && cumulative >= total * 0.9) {
      const seconds = second - from.second;
      return seconds < 3 ? undefined : (cumulative - from.done) / seconds;
    }
  }
  return undefined;
}

/** The q-quantile (0..1) of the values, nearest-rank; NaN when empty. */
export function quantile(values: readonly number[], q: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.min(sorted.length, Math.max(1, Math.ceil(q * sorted.length)));
  return sorted[rank - 1] ?? Number.NaN;
}

/** `after - before` for each key of `after`. */
export function delta(
  before: ReadonlyMap<string, number> | Readonly<Record<string, number>>,
  after: ReadonlyMap<string, number> | Readonly<Record<string, number>>,
): Record<string, number> {
  const get = (m: typeof before, k: string) =>
    (m instanceof Map ? m.get(k) : (m as Record<string, number>)[k]) ?? 0;
  const keys = after instanceof Map ? [...after.keys()] : Object.keys(after);
  const out: Record<string, number> = {};
  for (const k of keys) {
    const d = get(after, k) - get(before, k);
    if (d !== 0) out[k] = d;
  }
  return out;
}

/** Runs `worker` over `items` with at most `concurrency` in flight. */
export async function pool<T>(
  items: readonly T[],
  concurrency: number,
  worker: (item: T, index: number) => Promise<void>,
): Promise<void> {
  let next = 0;
  const lanes = Array.from({ length: Math.max(1, Math.min(concurrency, items.length)) }, async () => {
    for (;;) {
      const i = next++;
      if (i >= items.length) return;
      await worker(items[i] as T, i);
    }
  });
  await Promise.all(lanes);
}

/** Full-jitter exponential backoff in real milliseconds: uniform in [0, min(cap, base * 2^attempt)). */
export function backoffMs(attempt: number, baseMs: number, capMs: number, random = Math.random): number {
  return Math.floor(random() * Math.min(capMs, baseMs * 2 ** attempt));
}

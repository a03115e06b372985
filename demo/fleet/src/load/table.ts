/** The per-flow summary of a load run: achieved rate against the binding quota, and the printed table. */
import type { LoadResult } from './harness.js';
import { type FlowMetrics, quantile, steadyRate } from './metrics.js';

export interface FlowSummary {
  readonly flow: string;
  readonly events: number;
  readonly failed: number;
  /** Events per quota second. */
  readonly rate: number;
  /** The quota that bounds the flow's event rate (fewest events per second), if any. */
  readonly limitingQuota: string | undefined;
  /** Events per quota second that quota allows, at the measured calls per event. */
  readonly limitRate: number | undefined;
  readonly ratio: number | undefined;
  /** Events per quota second in the flow's middle 80 % of completions ({@link steadyRate}). */
  readonly steadyRate: number | undefined;
  /** `steadyRate` against `limitRate`: what the flow sustained once under way. */
  readonly steadyRatio: number | undefined;
  readonly throttles: number;
  readonly retries: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  /** Calls served per event, by `service:operation`, measured on the local cloud (throttled attempts excluded). */
  readonly callsPerEvent: Record<string, number>;
}

export function summarise(result: LoadResult, flow: FlowMetrics): FlowSummary {
  const scale = result.options.timeScale;
  const seconds = Math.max(0.001, (flow.endedAt - flow.startedAt) / 1000);
  const events = flow.completed;
  let limitingQuota: string | undefined;
  let limitRate: number | undefined;
  for (const [name, calls] of Object.entries(flow.admitted)) {
    const quota = result.quotas.find((q) => q.name === name);
    if (!quota || events === 0) continue;
    const bound = quota.perSecond / (calls / events);
    if (limitRate === undefined || bound < limitRate) {
      limitRate = bound;
      limitingQuota = name;
    }
  }
  const rate = events / (seconds * scale);
  const steadyReal = steadyRate(flow.bySecond);
  const steady = steadyReal === undefined ? undefined : steadyReal / scale;
  const callsPerEvent: Record<string, number> = {};
  for (const [k, v] of Object.entries(flow.requests).sort()) {
    if (events > 0) callsPerEvent[k] = Math.round((v / events) * 100) / 100;
  }
  return {
    flow: flow.name,
    events,
    failed: flow.failed,
    rate,
    limitingQuota,
    limitRate,
    ratio: limitRate ? rate / limitRate : undefined,
    steadyRate: steady,
    steadyRatio: limitRate && steady !== undefined ? steady / limitRate : undefined,
    throttles: Object.values(flow.throttles).reduce((a, b) => a + b, 0),
    retries: flow.retries,
    p50Ms: quantile(flow.latenciesMs, 0.5),
    p99Ms: quantile(flow.latenciesMs, 0.99),
    callsPerEvent,
  };
}

const fmt = (n: number | undefined, digits = 1) =>
  n === undefined || Number.isNaN(n) ? '-' : n.toFixed(digits);

/** The table printed at the end of a run (plain text, fixed width). */
export function formatTable(result: LoadResult): string {
  const rows = result.flows.map((f) => summarise(result, f));
  const head = [
    'flow',
    'events',
    'failed',
    'rate/s',
    'limiting quota',
    'limit/s',
    'ratio',
    'steady',
    'throttles',
    'retries',
    'p50 ms',
    'p99 ms',
  ];
  const body = rows.map((r) => [
    r.flow,
    String(r.events),
    String(r.failed),
    fmt(r.rate),
    r.limitingQuota ?? '-',
    fmt(r.limitRate),
    r.ratio === undefined ? '-' : `${(r.ratio * 100).toFixed(0)}%`,
    r.steadyRatio === undefined ? '-' : `${(r.steadyRatio * 100).toFixed(0)}%`,
    String(r.throttles),
    String(r.retries),
    fmt(r.p50Ms, 0),
    fmt(r.p99Ms, 0),
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => (b[i] ?? '').length)));
  const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i] ?? 0)).join('  ');
  const out = [line(head), line(widths.map((w) => '-'.repeat(w))), ...body.map(line)];
  out.push('');
  out.push(
    `rates per quota second (time scale ${result.options.timeScale}); ratio: the whole flow; steady: its middle ` +
      `80 % of completions (ramp-up and tail left out); latencies in real milliseconds`,
  );
  const containers = Object.entries(result.lambda.containers ?? {})
    .map(([fn, n]) => `${fn} ${n}`)
    .join(', ');
  out.push(
    `Lambda peak concurrency ${result.lambda.peak}/${result.lambda.limit}, ${result.lambda.asyncRetries} async retries, ` +
      `async queue peak ${result.lambda.peakQueued}${containers ? `, containers ${containers}` : ''}`,
  );
  out.push('');
  out.push('calls per event (local cloud, per completed event):');
  for (const r of rows) {
    out.push(
      `  ${r.flow}: ${Object.entries(r.callsPerEvent)
        .filter(([k]) => k.includes(':'))
        .map(([k, v]) => `${k} ${v}`)
        .join(', ')}`,
    );
  }
  out.push('');
  out.push('invariants (checked against the local cloud state):');
  for (const i of result.invariants) out.push(`  ${i.ok ? 'ok  ' : 'FAIL'} ${i.name}: ${i.detail}`);
  return out.join('\n');
}

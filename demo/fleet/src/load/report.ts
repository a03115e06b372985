/**
 * The self-contained HTML report of a load run: inline SVG only (no script, font, style sheet or
 * image fetched at view time). Per flow: the event rate over time against the quota line, the
 * binding quota's admitted calls over time, and the latency distribution. A small inline script
 * marks each chart with its rendered size (`data-rendered`), which the Chromium test reads.
 */
import type { LoadResult } from './harness.js';
import { type FlowSummary, summarise } from './table.js';

const W = 640;
const H = 200;
const PAD = { l: 48, r: 12, t: 12, b: 28 };

const esc = (s: string) =>
  s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

function axes(xMax: number, yMax: number, xLabel: string, yLabel: string): string {
  const x0 = PAD.l;
  const y0 = H - PAD.b;
  return [
    `<line x1="${x0}" y1="${y0}" x2="${W - PAD.r}" y2="${y0}" stroke="#444"/>`,
    `<line x1="${x0}" y1="${PAD.t}" x2="${x0}" y2="${y0}" stroke="#444"/>`,
    `<text x="${x0}" y="${H - 6}" font-size="11">0</text>`,
    `<text x="${W - PAD.r}" y="${H - 6}" font-size="11" text-anchor="end">${esc(xLabel)} ${xMax.toFixed(0)}</text>`,
    `<text x="4" y="${PAD.t + 10}" font-size="11">${yMax.toFixed(yMax < 10 ? 1 : 0)}</text>`,
    `<text x="4" y="${y0}" font-size="11">${esc(yLabel)}</text>`,
  ].join('');
}

/** A line chart of `values` (one per x step of `step`), with an optional horizontal limit line. */
export function lineChart(
  id: string,
  title: string,
  values: readonly number[],
  step: number,
  limit: number | undefined,
  yLabel: string,
): string {
  const n = Math.max(1, values.length);
  const yMax = Math.max(1e-9, ...values, (limit ?? 0) * 1.1);
  const sx = (i: number) => PAD.l + ((W - PAD.l - PAD.r) * i) / n;
  const sy = (v: number) => H - PAD.b - ((H - PAD.t - PAD.b) * v) / yMax;
  // A flow shorter than one step is one value: draw it across its step so the line is visible.
  const drawn =
    values.length === 1
      ? [[0, values[0] ?? 0] as const, [1, values[0] ?? 0] as const]
      : values.map((v, i) => [i + 0.5, v] as const);
  const points = drawn.map(([i, v]) => `${sx(i).toFixed(1)},${sy(v).toFixed(1)}`).join(' ');
  const limitLine =
    limit === undefined
      ? ''
      : `<line class="quota" x1="${PAD.l}" x2="${W - PAD.r}" y1="${sy(limit).toFixed(1)}" y2="${sy(limit).toFixed(1)}" stroke="#c00" stroke-dasharray="6 4"/>` +
        `<text x="${W - PAD.r}" y="${(sy(limit) - 4).toFixed(1)}" font-size="11" fill="#c00" text-anchor="end">quota ${limit.toFixed(1)}/s</text>`;
  return (
    `<figure><figcaption>${esc(title)}</figcaption>` +
    `<svg data-chart="${esc(id)}" data-points="${values.length}" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" xmlns="http://www.w3.org/2000/svg" role="img">` +
    `<title>${esc(title)}</title>${axes(n * step, yMax, 'quota s', yLabel)}` +
    `<polyline class="series" fill="none" stroke="#06c" stroke-width="1.5" points="${points}"/>${limitLine}</svg></figure>`
  );
}

/** A histogram of latencies (milliseconds) in logarithmic buckets. */
export function histogram(id: string, title: string, latencies: readonly number[]): string {
  const edges = [1, 2, 5, 10, 20, 50, 100, 200, 500, 1_000, 2_000, 5_000, 10_000, 20_000, 60_000, Infinity];
  const counts = edges.map(() => 0);
  for (const v of latencies)
    counts[edges.findIndex((e) => v < e)] = (counts[edges.findIndex((e) => v < e)] ?? 0) + 1;
  const max = Math.max(1, ...counts);
  const bw = (W - PAD.l - PAD.r) / edges.length;
  const bars = counts
    .map((c, i) => {
      const h = ((H - PAD.t - PAD.b) * c) / max;
      const label = edges[i] === Infinity ? '>60s' : `<${edges[i]}`;
      return (
        `<rect class="bar" x="${(PAD.l + i * bw + 1).toFixed(1)}" y="${(H - PAD.b - h).toFixed(1)}" width="${(bw - 2).toFixed(1)}" height="${h.toFixed(1)}" fill="#396"><title>${label} ms: ${c}</title></rect>` +
        `<text x="${(PAD.l + (i + 0.5) * bw).toFixed(1)}" y="${H - PAD.b + 12}" font-size="9" text-anchor="middle">${label}</text>`
      );
    })
    .join('');
  return (
    `<figure><figcaption>${esc(title)}</figcaption>` +
    `<svg data-chart="${esc(id)}" data-points="${latencies.length}" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" xmlns="http://www.w3.org/2000/svg" role="img">` +
    `<title>${esc(title)}</title><line x1="${PAD.l}" y1="${H - PAD.b}" x2="${W - PAD.r}" y2="${H - PAD.b}" stroke="#444"/>${bars}</svg></figure>`
  );
}

const ms = (v: number) => (Number.isFinite(v) ? `${v.toFixed(0)} ms` : '-');

function flowSection(result: LoadResult, s: FlowSummary): string {
  const flow = result.flows.find((f) => f.name === s.flow);
  if (!flow) return '';
  const scale = result.options.timeScale;
  // One point per real second = `scale` quota seconds: events per quota second.
  // Array.from: seconds without a completion are holes in the array, which map() would skip.
  const rate = Array.from(flow.bySecond, (n) => (n ?? 0) / scale);
  const quota = s.limitingQuota ? result.quotas.find((q) => q.name === s.limitingQuota) : undefined;
  const quotaSeries = s.limitingQuota
    ? Array.from(flow.admittedBySecond[s.limitingQuota] ?? [], (n) => (n ?? 0) / scale)
    : [];
  const throttles = Object.entries(flow.throttles)
    .map(([k, v]) => `${esc(k)} ${v}`)
    .join(', ');
  return [
    `<section><h2>${esc(s.flow)}</h2>`,
    `<p>${s.events} events (${s.failed} failed), ${s.rate.toFixed(1)}/s against ${s.limitRate?.toFixed(1) ?? '-'}/s allowed by ${esc(s.limitingQuota ?? 'no quota')} (${s.ratio === undefined ? '-' : `${(s.ratio * 100).toFixed(0)}%`}); throttles: ${throttles || 'none'}; client retries ${s.retries}; p50 ${ms(s.p50Ms)}, p99 ${ms(s.p99Ms)}.</p>`,
    lineChart(`${s.flow}-rate`, `${s.flow}: events per quota second`, rate, scale, s.limitRate, 'events/s'),
    quota
      ? lineChart(
          `${s.flow}-quota`,
          `${s.flow}: ${quota.name} calls per quota second (quota ${quota.perSecond}/s)`,
          quotaSeries,
          scale,
          quota.perSecond,
          'calls/s',
        )
      : '',
    histogram(`${s.flow}-latency`, `${s.flow}: end-to-end latency (real ms)`, flow.latenciesMs),
    '</section>',
  ].join('\n');
}

/** The report as one HTML document. */
export function renderReport(result: LoadResult, table: string): string {
  const sections = result.flows.map((f) => flowSection(result, summarise(result, f))).join('\n');
  const invariants = result.invariants
    .map(
      (i) =>
        `<li class="${i.ok ? 'ok' : 'fail'}">${i.ok ? 'ok' : 'FAIL'}: ${esc(i.name)}: ${esc(i.detail)}</li>`,
    )
    .join('');
  const quotas = result.quotas
    .map((q) => `<tr><td>${esc(q.name)}</td><td>${q.perSecond}</td><td>${esc(q.source)}</td></tr>`)
    .join('');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>cv-security fleet load: ${result.options.ecus} ECUs</title>
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:">
<style>body{font-family:sans-serif;margin:2em;max-width:60em}pre{background:#f4f4f4;padding:1em;overflow:auto}.ok{color:#060}.fail{color:#c00}figure{margin:1em 0}td{padding:0 .5em;font-size:12px}</style>
</head><body>
<h1>Fleet load: ${result.options.ecus} ECUs, time scale ${result.options.timeScale}, concurrency ${result.options.concurrency}</h1>
<p>Wall time ${result.seconds.toFixed(0)} s. Rates are per quota second (real rate divided by the time scale).</p>
<h2>Invariants</h2><ul>${invariants}</ul>
<h2>Summary</h2><pre>${esc(table)}</pre>
${sections}
<h2>Quotas enforced</h2><table>${quotas}</table>
<script>
for (const svg of document.querySelectorAll('svg[data-chart]')) {
  const box = svg.getBBox();
  // Marks actually drawn: a series or bar with a finite, non-empty box.
  let marks = 0;
  for (const el of svg.querySelectorAll('polyline.series, rect.bar')) {
    const b = el.getBBox();
    if (Number.isFinite(b.width) && Number.isFinite(b.height) && b.width > 0 && (b.height > 0 || el.tagName === 'polyline')) marks++;
  }
  svg.setAttribute('data-rendered', Math.round(box.width) + 'x' + Math.round(box.height) + ':' + marks);
}
document.body.setAttribute('data-charts-checked', String(document.querySelectorAll('svg[data-rendered]').length));
</script>
</body></html>
`;
}

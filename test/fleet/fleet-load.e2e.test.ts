/**
 * End to end: the load harness on a small fleet with quotas lowered so that Private CA issuance
 * and the IoT control plane throttle, checked by its invariants against the local cloud's state;
 * then its HTML report opened in headless Chromium (Debian's `chromium`), whose layout must
 * render every chart. Every server on 127.0.0.1, ephemeral ports, always shut down.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type LoadResult, runLoad } from '@cv/demo/load/harness';
import { renderReport } from '@cv/demo/load/report';
import { formatTable, summarise } from '@cv/demo/load/table';
import { afterAll, describe, expect, it } from 'vitest';

const dir = mkdtempSync(join(tmpdir(), 'fleet-load-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let result: LoadResult | undefined;

/** The Chromium binary, or a failure that says how to install it (never a silent skip). */
function chromium(): string {
  for (const candidate of ['chromium', 'chromium-browser']) {
    try {
      execFileSync('which', [candidate], { stdio: 'pipe' });
      return candidate;
    } catch {
      // next
    }
  }
  throw new Error(
    'chromium is not installed: the report test needs it (apt-get update && apt-get install -y --no-install-recommends chromium)',
  );
}

describe('fleet-load harness', () => {
  it('keeps every invariant while Private CA and the IoT control plane throttle, and retries without duplicate work', async () => {
    const lines: string[] = [];
    result = await runLoad({
      ecus: 9,
      timeScale: 5,
      concurrency: 9,
      // Three gateways and one more stay online; the other five connect for their telemetry.
      online: 4,
      flows: ['enrolment', 'jitr', 'commands', 'telemetry'],
      commandsPerVehicle: 1,
      telemetryPerEcu: 2,
      overrides: { 'acm-pca:IssueCertificate': 0.4, 'iot:ListThingPrincipals': 0.4, 'iot:CreateThing': 0.4 },
      jitrReservedConcurrency: 2,
      log: (l) => lines.push(l),
    });
    const table = formatTable(result);
    expect(
      result.invariants.filter((i) => !i.ok),
      table,
    ).toEqual([]);
    const flow = (name: string) => {
      const f = result?.flows.find((x) => x.name === name);
      if (!f || !result) throw new Error(`no flow ${name}`);
      return summarise(result, f);
    };
    // Throttled, retried, and nothing issued twice (one PCA certificate per ECU, checked by the invariants).
    expect(flow('enrolment').throttles + flow('jitr').throttles, table).toBeGreaterThan(0);
    expect(flow('enrolment')).toMatchObject({
      events: 9,
      failed: 0,
      limitingQuota: 'acm-pca:IssueCertificate',
    });
    expect(flow('enrolment').callsPerEvent['acm-pca:IssueCertificate'], table).toBe(1);
    expect(flow('jitr')).toMatchObject({ events: 9, failed: 0 });
    // jitr-handler ran in containers of its own, never more than its reserved concurrency.
    expect(result.lambda.containers['jitr-handler'], table).toBeGreaterThanOrEqual(1);
    expect(result.lambda.containers['jitr-handler'], table).toBeLessThanOrEqual(2);
    expect(flow('commands')).toMatchObject({ events: 3, failed: 0, limitingQuota: 'kms:ecc' });
    expect(flow('telemetry')).toMatchObject({ events: 18, failed: 0 });
    expect(table).toMatch(/^flow +events +failed +rate\/s +limiting quota/);
  }, 240_000);

  it('writes a self-contained HTML report whose charts render in headless Chromium', () => {
    if (!result) throw new Error('the harness run above failed');
    const html = renderReport(result, formatTable(result));
    // Self-contained: nothing fetched at view time.
    expect(html).not.toMatch(/\b(src|href)\s*=/i);
    expect(html).not.toMatch(/@import|url\(/i);
    expect(html).not.toContain('NaN');
    const file = join(dir, 'report.html');
    writeFileSync(file, html);
    const dom = execFileSync(
      chromium(),
      ['--headless', '--no-sandbox', '--disable-gpu', '--dump-dom', `file://${file}`],
      { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 60_000 },
    );
    const charts = [...dom.matchAll(/<svg data-chart="([^"]+)"[^>]*data-rendered="(\d+)x(\d+):(\d+)"/g)];
    // Per flow: the rate against its quota line, the binding quota's calls, the latency distribution.
    expect(charts.map((c) => c[1]).sort()).toEqual(
      ['commands', 'enrolment', 'jitr', 'telemetry']
        .flatMap((f) => [`${f}-latency`, `${f}-quota`, `${f}-rate`])
        .sort(),
    );
    for (const [, id, w, h, marks] of charts) {
      expect(Number(w), id).toBeGreaterThan(100);
      expect(Number(h), id).toBeGreaterThan(50);
      expect(Number(marks), id).toBeGreaterThan(0);
    }
    expect(dom).toContain(`data-charts-checked="${charts.length}"`);
  }, 90_000);
});

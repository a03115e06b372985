/** importManifest against in-memory fakes: what is written, left unchanged, refused; re-runs, races, resumption. */
import { describe, expect, it } from 'vitest';
import { InvalidInputError } from '../src/errors.js';
import { importManifest } from '../src/manifests/import.js';
import {
  ACME_KEY,
  ACME_KEY_2,
  BOSCO_KEY,
  ca,
  jsonl,
  OLD_KEY,
  source,
  VIN1,
  VIN2,
  world,
} from './manifest-fakes.js';

const row = (ecuId: string, over: Record<string, unknown> = {}) => ({
  ecuId,
  vin: VIN1,
  role: 'gateway',
  supplier: 'acme',
  ...over,
});

describe('importManifest', () => {
  it('writes each valid row as the registry row cert-broker reads, bound to the supplier’s CA key', async () => {
    const w = world();

    const report = await importManifest(
      { source: source(jsonl([row('GW-1'), row('TCU-1', { role: 'telematics', supplier: 'bosco' })])) },
      w.deps,
    );

    expect(report).toMatchObject({ written: 2, unchanged: 0, refused: 0, lines: 2 });
    expect(w.rows.get('GW-1')).toMatchObject({
      ecuId: 'GW-1',
      vin: VIN1,
      role: 'gateway',
      status: 'ACTIVE',
      supplierId: 'acme',
      attestationIssuerKeySha256: ACME_KEY,
      manifestSha256: report.manifestSha256,
    });
    expect(w.rows.get('TCU-1')?.attestationIssuerKeySha256).toBe(BOSCO_KEY);
  });

  it('a re-run of the same file changes nothing: every row unchanged, no write attempted', async () => {
    const w = world();
    const file = source(jsonl(Array.from({ length: 250 }, (_, i) => row(`GW-${i}`))));
    await importManifest({ source: file }, w.deps);
    const before = structuredClone([...w.rows]);
    const puts = w.calls.put;

    const again = await importManifest({ source: file }, w.deps);

    expect(again).toMatchObject({ written: 0, unchanged: 250, refused: 0 });
    expect(w.calls.put).toBe(puts);
    expect([...w.rows]).toEqual(before);
    expect(w.audit.map((a) => a.outcome)).toEqual(['succeeded', 'unchanged']);
  });

  it.each([
    ['another VIN', { vin: VIN2 }, 'bound_to_other_vin'],
    ['another supplier', { supplier: 'bosco' }, 'bound_to_other_supplier'],
    ['another role', { role: 'adas' }, 'role_mismatch'],
  ])('refuses an ECU already bound to %s and keeps the existing row as it was', async (_, over, reason) => {
    const existing = {
      ecuId: 'GW-9',
      vin: VIN1,
      role: 'gateway',
      status: 'ACTIVE',
      supplierId: 'acme',
      attestationIssuerKeySha256: ACME_KEY,
      certificateSerial: '01',
    };
    const w = world(undefined, { 'GW-9': existing });

    const report = await importManifest({ source: source(jsonl([row('GW-9', over)])) }, w.deps);

    expect(report).toMatchObject({ written: 0, refused: 1, refusedByReason: { [reason]: 1 } });
    expect(report.refusedExamples[0]).toMatchObject({ line: 1, ecuId: 'GW-9', reason });
    expect(w.rows.get('GW-9')).toEqual(existing);
    expect(w.calls.put).toBe(0);
  });

  it('refuses a hand-written row bound to another CA key (no supplierId), and a decommissioned ECU', async () => {
    const w = world(undefined, {
      'GW-1': {
        ecuId: 'GW-1',
        vin: VIN1,
        role: 'gateway',
        status: 'ACTIVE',
        attestationIssuerKeySha256: OLD_KEY,
      },
      'GW-2': {
        ecuId: 'GW-2',
        vin: VIN1,
        role: 'gateway',
        status: 'DECOMMISSIONED',
        supplierId: 'acme',
        attestationIssuerKeySha256: ACME_KEY,
      },
      'GW-3': {
        ecuId: 'GW-3',
        vin: VIN1,
        role: 'gateway',
        status: 'BLOCKED',
        supplierId: 'acme',
        attestationIssuerKeySha256: ACME_KEY.toUpperCase(),
      },
    });

    const report = await importManifest(
      { source: source(jsonl([row('GW-1'), row('GW-2'), row('GW-3')])) },
      w.deps,
    );

    expect(report.refusedByReason).toEqual({ bound_to_other_issuer: 1, ecu_decommissioned: 1 });
    expect(report.unchanged).toBe(1);
    expect(w.rows.get('GW-3')?.status).toBe('BLOCKED');
  });

  it('binds only to an ACTIVE CA of the named supplier', async () => {
    const w = world([
      ca('acme', ACME_KEY),
      ca('acme', ACME_KEY_2),
      ca('gone', OLD_KEY, 'RETIRED'),
      ca('bosco', BOSCO_KEY),
    ]);
    const rows = [
      row('E-1'), // acme has two ACTIVE CAs and the row names none
      row('E-2', { attestationIssuerKeySha256: ACME_KEY_2.toUpperCase() }),
      row('E-3', { attestationIssuerKeySha256: BOSCO_KEY }), // bosco's key under acme
      row('E-4', { supplier: 'gone' }),
      row('E-5', { supplier: 'gone', attestationIssuerKeySha256: OLD_KEY }),
      row('E-6', { supplier: 'nobody' }),
    ];

    const report = await importManifest({ source: source(jsonl(rows)) }, w.deps);

    expect(report.written).toBe(1);
    expect(w.rows.get('E-2')?.attestationIssuerKeySha256).toBe(ACME_KEY_2);
    expect(report.refusedByReason).toEqual({
      issuer_ambiguous: 1,
      issuer_not_of_supplier: 1,
      supplier_retired: 2,
      unknown_supplier: 1,
    });
    expect([...w.rows.keys()]).toEqual(['E-2']);
  });

  it('validates row by row: bad rows are reported with their line, the good ones still written', async () => {
    const w = world();
    const text = [
      JSON.stringify(row('OK-1')),
      '{not json',
      JSON.stringify(row('BAD VIN', {})),
      JSON.stringify(row('OK-2', { vin: 'WVWZZZ1JZXW00000O' })),
      JSON.stringify(row('OK-3', { role: 'root' })),
      JSON.stringify(row('OK-4', { extra: 1 })),
      '',
      `${JSON.stringify(row('OK-5'))}\r`,
      `{"ecuId":"${'A'.repeat(5000)}"}`,
    ].join('\n');

    const report = await importManifest({ source: source(text) }, w.deps);

    expect(report.written).toBe(2);
    expect([...w.rows.keys()].sort()).toEqual(['OK-1', 'OK-5']);
    expect(w.refusedRows.map((r) => [r.line, r.reason])).toEqual([
      [2, 'malformed'],
      [3, 'invalid_ecuId'],
      [4, 'invalid_vin'],
      [5, 'invalid_role'],
      [6, 'unknown_field'],
      [9, 'line_too_long'],
    ]);
  });

  it('CSV: columns in any order, optional ones empty; a file whose header is not a manifest writes nothing', async () => {
    const w = world();
    const csv = `vin,ecuId,supplier,role,attestationIssuerKeySha256\n${VIN1},GW-1,acme,gateway,\n${VIN2},GW-2,acme,gateway,${ACME_KEY}\n${VIN1},GW-3",acme,gateway,\n`;

    const report = await importManifest({ source: source(csv, 'line7.csv') }, w.deps);
    const bad = importManifest(
      { source: source(`ecuId,vin,role,supplier,password\n${VIN1},GW-9,acme,gateway,x\n`, 'x.csv') },
      w.deps,
    );

    expect(report).toMatchObject({ written: 2, refused: 1, refusedByReason: { malformed: 1 } });
    expect(w.rows.get('GW-2')?.vin).toBe(VIN2);
    await expect(bad).rejects.toBeInstanceOf(InvalidInputError);
    expect(w.rows.has('GW-9')).toBe(false);
    expect(w.audit.at(-1)).toMatchObject({
      action: 'manifest.import',
      outcome: 'refused',
      detail: { reason: 'invalid_input' },
    });
  });

  it('CSV as spreadsheets write it: a byte order mark, CRLF, quoted header and fields; a quote inside a field is malformed', async () => {
    const w = world();
    const csv =
      `\uFEFF"ecuId","vin","role","supplier"\r\n"GW-1","${VIN1}","gateway","acme"\r\n` +
      `GW-2,${VIN2}, "gateway" ,acme\r\n"GW-3,${VIN1}",gateway,acme\r\n"GW""4",${VIN1},gateway,acme\r\n`;

    const report = await importManifest({ source: source(csv, 'excel.csv') }, w.deps);

    expect(report).toMatchObject({ written: 2, refused: 2, refusedByReason: { malformed: 2 } });
    expect(w.rows.get('GW-1')).toMatchObject({ vin: VIN1, role: 'gateway' });
    expect(w.rows.get('GW-2')).toMatchObject({ vin: VIN2, role: 'gateway' });
    expect([...w.rows.keys()].some((id) => id.includes('GW-3') || id.includes('4'))).toBe(false);
  });

  it('JSON lines with a byte order mark: the first row is read, not refused', async () => {
    const w = world();

    const report = await importManifest({ source: source(`\uFEFF${jsonl([row('GW-1')])}`) }, w.deps);

    expect(report).toMatchObject({ written: 1, refused: 0 });
  });

  it('the same ECU twice in one file: the first binding is written, a conflicting second is refused', async () => {
    const w = world();

    const report = await importManifest(
      { source: source(jsonl([row('GW-1'), row('GW-1'), row('GW-1', { vin: VIN2 })])) },
      w.deps,
    );

    expect(report).toMatchObject({
      written: 1,
      unchanged: 1,
      refused: 1,
      refusedByReason: { bound_to_other_vin: 1 },
    });
    expect(w.rows.get('GW-1')?.vin).toBe(VIN1);
  });

  it('a racing importer that binds the ECU first wins; this import refuses the row instead of overwriting it', async () => {
    const w = world();
    w.beforePut = (ecuId) => {
      if (ecuId === 'GW-1' && !w.rows.has('GW-1')) {
        w.rows.set('GW-1', {
          ecuId: 'GW-1',
          vin: VIN2,
          role: 'gateway',
          status: 'ACTIVE',
          supplierId: 'acme',
          attestationIssuerKeySha256: ACME_KEY,
        });
      }
      if (ecuId === 'GW-2' && !w.rows.has('GW-2')) {
        w.rows.set('GW-2', {
          ecuId: 'GW-2',
          vin: VIN1,
          role: 'gateway',
          status: 'ACTIVE',
          supplierId: 'acme',
          attestationIssuerKeySha256: ACME_KEY,
        });
      }
    };

    const report = await importManifest({ source: source(jsonl([row('GW-1'), row('GW-2')])) }, w.deps);

    expect(report).toMatchObject({
      written: 0,
      unchanged: 1,
      refused: 1,
      refusedByReason: { bound_to_other_vin: 1 },
    });
    expect(w.rows.get('GW-1')?.vin).toBe(VIN2);
  });

  it('interrupted: the run fails and is audited as failed; the next run resumes after the checkpoint and ends with the counts of a clean run', async () => {
    const rows = Array.from({ length: 1000 }, (_, i) => row(`GW-${i}`, i % 100 === 7 ? { vin: 'bad' } : {}));
    const file = source(jsonl(rows), 'big.jsonl', 4096);
    const clean = world();
    const expected = await importManifest({ source: file }, clean.deps);
    const w = world();
    w.failOnPut = 550;

    await expect(importManifest({ source: file, checkpointEveryMs: 0 }, w.deps)).rejects.toThrow(
      'ECONNRESET',
    );
    const checkpoint = [...w.checkpoints.values()][0];
    const putsBefore = w.calls.put;
    const resumed = await importManifest({ source: file, checkpointEveryMs: 0 }, w.deps);

    expect(checkpoint?.lines).toBeGreaterThanOrEqual(500);
    expect(resumed.resumedAfterLine).toBe(checkpoint?.lines);
    expect(w.calls.put - putsBefore).toBeLessThanOrEqual(1000 - (checkpoint?.lines ?? 0));
    expect({ ...resumed, resumedAfterLine: undefined }).toEqual({
      ...expected,
      resumedAfterLine: undefined,
      refusedExamples: resumed.refusedExamples,
    });
    expect(resumed.written + resumed.unchanged).toBe(990);
    expect(w.rows.size).toBe(990);
    expect(w.checkpoints.size).toBe(0);
    expect(w.audit.map((a) => a.outcome)).toEqual(['failed', 'succeeded']);
  });
});

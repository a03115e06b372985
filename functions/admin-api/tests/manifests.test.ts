/**
 * POST /manifests through the Lambda handler against the local cloud: `cv-admin manifest import`'s use case, the
 * same validation and report (written, unchanged, refused with reasons) plus every refused row; a re-POST writes
 * nothing; a conflicting row is refused and the row it conflicts with kept; above 10,000 rows or 4 MiB the request is
 * refused before anything is read or written; the CLI and the API report the same for the same file.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GetItemCommand } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAX_MANIFEST_ROWS } from '../src/routes/manifests.js';
import { CALLER, makeCa, SAMPLE, type TrustWorld, trustWorld } from './trust-world.js';

let world: TrustWorld;
const dir = mkdtempSync(join(tmpdir(), 'admin-api-manifests-'));
const VIN1 = 'WVWZZZ1JZXW000101';
const VIN2 = 'WVWZZZ1JZXW000102';

const row = (ecuId: string, vin = VIN1, role = 'gateway', supplier = 'acme') =>
  JSON.stringify({ ecuId, vin, role, supplier });
const lines = (...rows: string[]) => `${rows.join('\n')}\n`;

async function registryRow(ecuId: string) {
  const out = await world.ddb.send(
    new GetItemCommand({
      TableName: world.tables.ecuRegistry,
      Key: { ecuId: { S: ecuId } },
      ConsistentRead: true,
    }),
  );
  return out.Item;
}

beforeAll(async () => {
  world = await trustWorld('adminmf');
  const added = await world.call('POST', '/suppliers/acme/cas', { certificatePem: await makeCa() });
  if (added.status !== 200) throw new Error(`supplier not onboarded: ${JSON.stringify(added.body)}`);
});
afterAll(async () => {
  await world?.stop();
});

describe('admin API: manifest import', () => {
  it('JSON lines: valid rows written, malformed rows refused with their line and reason; the caller on the audit trail and on the rows', async () => {
    const manifest = lines(
      row('GW-101'),
      row('TCU-101', VIN1, 'telematics'),
      '',
      '{"ecuId": "BAD-1", "vin": "not-a-vin", "role": "gateway", "supplier": "acme"}',
      'not json at all',
      row('GW-102', VIN2, 'gateway', 'nobody'),
      row('GW-103', VIN2, 'toaster'),
      JSON.stringify({ ecuId: 'GW-104', vin: VIN2, role: 'gateway', supplier: 'acme', extra: 1 }),
    );

    const res = await world.call('POST', '/manifests', manifest, {
      headers: { 'Content-Type': 'application/x-ndjson' },
    });

    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      lines: 8,
      written: 2,
      unchanged: 0,
      refused: 5,
      refusedByReason: {
        invalid_vin: 1,
        malformed: 1,
        unknown_supplier: 1,
        invalid_role: 1,
        unknown_field: 1,
      },
    });
    expect(
      (res.body.refusedRows as Array<{ line: number; reason: string }>)
        .map((r) => [r.line, r.reason])
        .sort(([a], [b]) => Number(a) - Number(b)),
    ).toEqual([
      [4, 'invalid_vin'],
      [5, 'malformed'],
      [6, 'unknown_supplier'],
      [7, 'invalid_role'],
      [8, 'unknown_field'],
    ]);
    expect((await registryRow('GW-101'))?.vin).toEqual({ S: VIN1 });
    expect(await registryRow('GW-102')).toBeUndefined();
    expect(await registryRow('BAD-1')).toBeUndefined();
    expect(JSON.stringify(await registryRow('TCU-101'))).toContain(CALLER);
    expect((await world.audit()).at(-1)).toMatchObject({
      action: 'manifest.import',
      actor: CALLER,
      outcome: 'succeeded',
      target: `manifest:${res.body.manifestSha256}`,
    });
  });

  it('a re-POST of the same manifest writes nothing (unchanged), and changes no row', async () => {
    const manifest = lines(row('GW-201', VIN2), row('TCU-201', VIN2, 'telematics'));
    const first = await world.call('POST', '/manifests', manifest);
    const before = await world.state();

    const again = await world.call('POST', '/manifests', manifest);

    expect(first.body).toMatchObject({ written: 2, unchanged: 0, refused: 0 });
    expect(again.body).toMatchObject({ written: 0, unchanged: 2, refused: 0 });
    expect(await world.state()).toEqual(before);
    expect((await world.audit()).at(-1)).toMatchObject({ action: 'manifest.import', outcome: 'unchanged' });
  });

  it('CSV by Content-Type or ?format=csv; a conflicting row (the ECU bound to another VIN) is refused and the existing row kept', async () => {
    await world.call('POST', '/manifests', lines(row('GW-301', VIN1)));
    const kept = await registryRow('GW-301');
    const csv =
      'ecuId,vin,role,supplier\nGW-302,WVWZZZ1JZXW000103,gateway,acme\nGW-301,WVWZZZ1JZXW000103,gateway,acme\n';

    const byType = await world.call('POST', '/manifests', csv, { headers: { 'Content-Type': 'text/csv' } });
    const byQuery = await world.call('POST', '/manifests', csv, { queryStringParameters: { format: 'csv' } });

    expect(byType.body).toMatchObject({ written: 1, refused: 1, refusedByReason: { bound_to_other_vin: 1 } });
    expect(byQuery.body).toMatchObject({ written: 0, unchanged: 1, refused: 1 });
    expect(await registryRow('GW-301')).toEqual(kept);
  });

  it('the row cap counts data rows: 10,000 pass (blank lines and the CSV header not counted), 10,001 are 413 with nothing read, written or audited', async () => {
    // Rows the parser refuses need no table access: the cap is tested without writing 10,000 rows.
    const bad = (n: number) => Array.from({ length: n }, (_, i) => `{"ecuId":"X-${i}"`).join('\n');
    const csvBad = (n: number) =>
      `ecuId,vin,role,supplier\n${Array.from({ length: n }, () => 'a,b').join('\n')}\n`;
    const before = await world.state();
    const auditBefore = await world.audit();

    const over = await world.call('POST', '/manifests', bad(MAX_MANIFEST_ROWS + 1));
    const overCsv = await world.call('POST', '/manifests', csvBad(MAX_MANIFEST_ROWS + 1), {
      headers: { 'Content-Type': 'text/csv' },
    });
    const auditAfterRefusals = await world.audit();
    const atCap = await world.call('POST', '/manifests', `${bad(MAX_MANIFEST_ROWS)}\n\n\n`);
    const atCapCsv = await world.call('POST', '/manifests', csvBad(MAX_MANIFEST_ROWS), {
      headers: { 'Content-Type': 'text/csv' },
    });

    for (const r of [over, overCsv]) {
      expect([r.status, r.body.error]).toEqual([413, 'manifest_too_large']);
      expect(r.body.message).toMatch(
        /at most 10000 rows per request: split the manifest, or import it with cv-admin/,
      );
    }
    expect(auditAfterRefusals).toEqual(auditBefore);
    expect([atCap.status, atCap.body.refused, atCap.body.written]).toEqual([200, MAX_MANIFEST_ROWS, 0]);
    expect([atCapCsv.status, atCapCsv.body.refused]).toEqual([200, MAX_MANIFEST_ROWS]);
    expect(await world.state()).toEqual(before);
  });

  it('a body over 4 MiB is 413 payload_too_large; a bad format 400; no IAM caller 403: nothing written or audited', async () => {
    const before = await world.state();
    const auditBefore = await world.audit();
    const noCaller = {
      requestContext: {
        ...SAMPLE.requestContext,
        identity: { ...SAMPLE.requestContext.identity, userArn: null },
      },
    };

    const huge = await world.call('POST', '/manifests', `${row('GW-901')}\n${' '.repeat(4 * 1024 * 1024)}`);
    const format = await world.call('POST', '/manifests', lines(row('GW-902')), {
      queryStringParameters: { format: 'xml' },
    });
    const anonymous = await world.call('POST', '/manifests', lines(row('GW-903')), noCaller);
    const wrongMethod = await world.call('GET', '/manifests');

    expect([huge.status, huge.body.error]).toEqual([413, 'payload_too_large']);
    expect([format.status, format.body.error]).toEqual([400, 'invalid_input']);
    expect(anonymous.status).toBe(403);
    expect(wrongMethod.status).toBe(405);
    expect(await world.state()).toEqual(before);
    expect(await world.audit()).toEqual(auditBefore);
  });
});

describe('the same manifest through both front doors', () => {
  it('cv-admin manifest import and POST /manifests give the same report for rows they refuse, and the same error for a bad CSV header', async () => {
    const manifest = lines(
      '{"ecuId": "BAD-2", "vin": "not-a-vin", "role": "gateway", "supplier": "acme"}',
      'garbage',
      row('GW-401', VIN2, 'gateway', 'nobody'),
      row('GW-402', VIN2, 'toaster'),
      `{"ecuId":"${'L'.repeat(5000)}"}`,
    );
    const badHeader = 'ecuId,vin,role,vendor\nGW-403,WVWZZZ1JZXW000104,gateway,acme\n';
    const path = join(dir, 'refused.jsonl');
    writeFileSync(path, manifest);
    const csvPath = join(dir, 'bad-header.csv');
    writeFileSync(csvPath, badHeader);
    const before = await world.state();

    const cli = await world.cli(['manifest', 'import', path]);
    const api = await world.call('POST', '/manifests', manifest);
    const cliCsv = await world.cli(['manifest', 'import', csvPath]);
    const apiCsv = await world.call('POST', '/manifests', badHeader, {
      headers: { 'Content-Type': 'text/csv' },
    });

    const { refusedRows, ...report } = api.body;
    expect(cli.code).toBe(0);
    expect(report).toEqual(cli.json);
    expect(refusedRows).toEqual(cli.json.refusedExamples);
    expect(cliCsv.code).not.toBe(0);
    expect(apiCsv.status).toBe(400);
    expect({ error: apiCsv.body.error, message: apiCsv.body.message }).toEqual(cliCsv.json);
    expect(await world.state()).toEqual(before);
  });
});

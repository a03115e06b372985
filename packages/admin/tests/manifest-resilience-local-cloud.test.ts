/**
 * The manifest import against the local cloud's DynamoDB under failure: throttling on the wire (the local cloud's
 * ThrottlingException, past the SDK's own retries) mapped and retried with backoff, an import interrupted mid-way
 * and resumed (nothing written twice, the rows of a clean run), and three importers racing on the same ECU ids.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DynamoDBClient, GetItemCommand, PutItemCommand, ScanCommand } from '@aws-sdk/client-dynamodb';
import { createTables, LocalCloud } from '@cv/local-cloud';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FileCheckpoints, fileSource } from '../src/adapters/manifest-files.js';
import { DynamoDbRegistryImport } from '../src/adapters/registry-import.js';
import { awsDeps } from '../src/aws.js';
import { runCli } from '../src/cli.js';
import { loadAdminConfig } from '../src/config.js';
import { importManifest } from '../src/manifests/import.js';
import type { RegistryImportPort } from '../src/manifests/ports.js';
import { ACME_KEY, jsonl, VIN1, VIN2 } from './manifest-fakes.js';

const STAGE = 'mres';
const REGISTRY = `cv-security-${STAGE}-ecu-registry`;
const dir = mkdtempSync(join(tmpdir(), 'cv-admin-manifest-res-'));
let cloud: LocalCloud;
let ddb: DynamoDBClient;
const saved = { ...process.env };
const env = () => ({ ...cloud.sdkEnv(), CV_STAGE: STAGE, XDG_STATE_HOME: dir });

async function cli(argv: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runCli(argv, {
    env: env(),
    out: (l) => out.push(l),
    err: (l) => err.push(l),
    deps: awsDeps,
  });
  return { code, out, err, report: code === 0 ? JSON.parse(out[0] ?? '{}') : undefined };
}

function file(name: string, rows: Record<string, unknown>[]): string {
  const path = join(dir, name);
  writeFileSync(path, jsonl(rows));
  return path;
}

const THROTTLES = 12;
const puts = () => cloud.requests.get('dynamodb:PutItem') ?? 0;
const vinOf = async (ecuId: string) =>
  (await ddb.send(new GetItemCommand({ TableName: REGISTRY, Key: { ecuId: { S: ecuId } } }))).Item?.vin?.S;
/** A client that does not retry by itself, so the adapter sees each throttle. */
const bareClient = () => new DynamoDBClient({ ...cloud.clientConfig(), maxAttempts: 1 });

beforeAll(async () => {
  cloud = await LocalCloud.start({ region: 'eu-west-1', account: '123456789012' });
  Object.assign(process.env, cloud.sdkEnv());
  ddb = new DynamoDBClient(cloud.clientConfig());
  await createTables(ddb, {
    ecuRegistry: REGISTRY,
    vehicleAccess: `cv-security-${STAGE}-vehicle-access`,
    commands: `cv-security-${STAGE}-commands`,
    telemetry: `cv-security-${STAGE}-telemetry`,
    adminAudit: `cv-security-${STAGE}-admin-audit`,
    suppliers: `cv-security-${STAGE}-suppliers`,
  });
  await ddb.send(
    new PutItemCommand({
      TableName: `cv-security-${STAGE}-suppliers`,
      Item: { supplierId: { S: 'acme' }, caKeySha256: { S: ACME_KEY }, status: { S: 'ACTIVE' } },
    }),
  );
});
afterAll(async () => {
  process.env = saved;
  await cloud?.stop();
});

const provenance = {
  manifestSha256: 'd'.repeat(64),
  importedBy: 'arn:aws:iam::123456789012:user/t',
  importedAt: '2026-12-03T00:00:00.000Z',
};
const wanted = (ecuId: string) => ({
  ecuId,
  vin: VIN1,
  role: 'gateway',
  supplierId: 'acme',
  attestationIssuerKeySha256: ACME_KEY,
});

describe('DynamoDbRegistryImport under throttling (local cloud)', () => {
  it('a throttled conditional put is raised as throttled and stores nothing; the retry stores the row', async () => {
    const adapter = new DynamoDbRegistryImport(bareClient(), REGISTRY);
    cloud.throttle('dynamodb', 1, 'PutItem');

    await expect(adapter.putIfAbsent(wanted('TH-1'), provenance)).rejects.toMatchObject({
      code: 'throttled',
    });
    expect(await vinOf('TH-1')).toBeUndefined();

    expect(await adapter.putIfAbsent(wanted('TH-1'), provenance)).toBe(true);
    expect(await vinOf('TH-1')).toBe(VIN1);
  });

  it('a throttled BatchGetItem is retried after a backoff until the keys are read', async () => {
    const adapter = new DynamoDbRegistryImport(bareClient(), REGISTRY, {
      random: () => 0.5,
      sleep: async (ms) => void sleeps.push(ms),
    });
    const sleeps: number[] = [];
    await adapter.putIfAbsent(wanted('TH-2'), provenance);
    cloud.throttle('dynamodb', 2, 'BatchGetItem');

    const found = await adapter.getMany(['TH-2', 'TH-absent']);

    expect([...found.keys()]).toEqual(['TH-2']);
    expect(sleeps).toEqual([25, 50]);
  });
});

describe('cv-admin manifest import under failure (local cloud)', () => {
  it('DynamoDB throttling the writes past the SDK’s retries: the import backs off and writes every row once', async () => {
    const rows = Array.from({ length: 120 }, (_, i) => ({
      ecuId: `THR-${i}`,
      vin: VIN1,
      role: 'gateway',
      supplier: 'acme',
    }));
    const path = file('throttled.jsonl', rows);
    const before = puts();
    cloud.throttle('dynamodb', THROTTLES, 'PutItem');

    const run = await cli(['manifest', 'import', path, '--concurrency', '2']);

    expect(run.code, run.err.join('\n')).toBe(0);
    expect(run.report).toMatchObject({ written: 120, unchanged: 0, refused: 0 });
    // 2 writes in flight and 12 throttles in a row: some write is throttled past the SDK's 3 attempts.
    // 120 rows + the throttled tries + the audit entry: no row was put twice.
    expect(puts() - before).toBe(120 + THROTTLES + 1);
    expect(await Promise.all(rows.map((r) => vinOf(r.ecuId)))).toEqual(rows.map(() => VIN1));
  });

  it('interrupted after 250 writes, then resumed: the rows of a clean run, each put once, the report of a clean run', async () => {
    const rows = Array.from({ length: 700 }, (_, i) => ({
      ecuId: `INT-${i}`,
      vin: i % 101 === 9 ? 'not-a-vin' : VIN1,
      role: 'gateway',
      supplier: 'acme',
    }));
    const path = file('interrupted.jsonl', rows);
    const config = loadAdminConfig(env(), {});
    const checkpoints = new FileCheckpoints(join(dir, 'checkpoints-int'));
    const real = new DynamoDbRegistryImport(new DynamoDBClient(cloud.clientConfig()), REGISTRY);
    let allowed = 250;
    const crashing: RegistryImportPort = {
      getMany: (ids) => real.getMany(ids),
      putIfAbsent: async (row, p) => {
        if (allowed-- <= 0) throw new Error('ECONNRESET');
        return real.putIfAbsent(row, p);
      },
    };
    const deps = (registryImport: RegistryImportPort) => ({
      ...awsDeps(config),
      registryImport,
      checkpoints,
    });
    const before = puts();

    await expect(
      importManifest({ source: await fileSource(path), checkpointEveryMs: 0 }, deps(crashing)),
    ).rejects.toThrow('ECONNRESET');
    const resumed = await importManifest({ source: await fileSource(path) }, deps(real));

    const valid = rows.filter((r) => r.vin === VIN1);
    expect(resumed).toMatchObject({
      written: valid.length,
      unchanged: 0,
      refused: rows.length - valid.length,
    });
    expect(resumed.resumedAfterLine).toBeGreaterThan(0);
    // Each valid row put exactly once, plus the two audit entries (failed, succeeded).
    expect(puts() - before).toBe(valid.length + 2);
    const stored = await ddb.send(
      new ScanCommand({
        TableName: REGISTRY,
        FilterExpression: 'begins_with(ecuId, :p)',
        ExpressionAttributeValues: { ':p': { S: 'INT-' } },
      }),
    );
    expect((stored.Items ?? []).map((i) => i.ecuId?.S).sort()).toEqual(valid.map((r) => r.ecuId).sort());
    expect(new Set((stored.Items ?? []).map((i) => i.manifestSha256?.S))).toEqual(
      new Set([resumed.manifestSha256]),
    );
  });

  it('three importers racing on the same 200 ECU ids (two with one binding, one with another): each ECU bound once, never overwritten', async () => {
    const ids = Array.from({ length: 200 }, (_, i) => `TRI-${i}`);
    const a = file(
      'tri-a.jsonl',
      ids.map((ecuId) => ({ ecuId, vin: VIN1, role: 'gateway', supplier: 'acme' })),
    );
    const b = file(
      'tri-b.jsonl',
      ids.map((ecuId) => ({ ecuId, vin: VIN2, role: 'gateway', supplier: 'acme' })),
    );
    const c = file(
      'tri-c.jsonl',
      [...ids].reverse().map((ecuId) => ({ ecuId, vin: VIN1, role: 'gateway', supplier: 'acme' })),
    );

    const [ra, rb, rc] = await Promise.all([
      cli(['manifest', 'import', a, '--concurrency', '50']),
      cli(['manifest', 'import', b, '--concurrency', '50']),
      cli(['manifest', 'import', c, '--concurrency', '50']),
    ]);

    expect([ra.code, rb.code, rc.code]).toEqual([0, 0, 0]);
    expect(ra.report.written + rb.report.written + rc.report.written).toBe(200);
    const vins = await Promise.all(ids.map(vinOf));
    const vin1 = vins.filter((v) => v === VIN1).length;
    expect(vin1 + vins.filter((v) => v === VIN2).length).toBe(200);
    // B's rows: written where it won, refused where A or C did; A and C agree with each other (unchanged).
    expect(rb.report.written).toBe(200 - vin1);
    expect(rb.report.refused).toBe(vin1);
    expect(ra.report.written + rc.report.written).toBe(vin1);
    expect(ra.report.refused + ra.report.unchanged + ra.report.written).toBe(200);
    expect(ra.report.refused).toBe(200 - vin1);
    expect(rc.report.refused).toBe(200 - vin1);
  });

  it.each(['0', '201', '2.5', 'many', '1e2'])(
    'refuses --concurrency %s with exit 2, nothing read or written',
    async (n) => {
      const path = file('conc.jsonl', [{ ecuId: 'CONC-1', vin: VIN1, role: 'gateway', supplier: 'acme' }]);
      const before = puts();

      const run = await cli(['manifest', 'import', path, '--concurrency', n]);

      expect(run.code).toBe(2);
      expect(JSON.parse(run.err[0] ?? '{}')).toMatchObject({ error: 'invalid_input' });
      expect(puts()).toBe(before);
      expect(await vinOf('CONC-1')).toBeUndefined();
    },
  );
});

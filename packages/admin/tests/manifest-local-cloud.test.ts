/**
 * `cv-admin manifest import` against the local cloud's DynamoDB (dynalite): the registry rows it writes, the re-run,
 * the rejects file, the audit entry, two importers racing on the same ECU ids, and BatchGetItem's unprocessed keys.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DynamoDBClient, GetItemCommand, PutItemCommand, QueryCommand } from '@aws-sdk/client-dynamodb';
import { createTables, LocalCloud } from '@cv/local-cloud';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DynamoDbRegistryImport } from '../src/adapters/registry-import.js';
import { awsDeps } from '../src/aws.js';
import { runCli } from '../src/cli.js';
import { ACME_KEY, jsonl, VIN1, VIN2 } from './manifest-fakes.js';

const STAGE = 'mfst';
const REGISTRY = `cv-security-${STAGE}-ecu-registry`;
const dir = mkdtempSync(join(tmpdir(), 'cv-admin-manifest-'));
let cloud: LocalCloud;
let ddb: DynamoDBClient;
const saved = { ...process.env };

async function cli(argv: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runCli(argv, {
    env: { ...cloud.sdkEnv(), CV_STAGE: STAGE, XDG_STATE_HOME: dir },
    out: (l) => out.push(l),
    err: (l) => err.push(l),
    deps: awsDeps,
  });
  return { code, out, err, report: code === 0 ? JSON.parse(out[0] ?? '{}') : undefined };
}

function file(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

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
      Item: {
        supplierId: { S: 'acme' },
        caKeySha256: { S: ACME_KEY },
        status: { S: 'ACTIVE' },
        certificateSha256: { S: 'f'.repeat(64) },
        certificatePem: { S: '' },
        subject: { S: 'CN=acme' },
        notAfter: { S: '2030-01-01T00:00:00.000Z' },
        addedAt: { S: '2026-01-01T00:00:00.000Z' },
        addedBy: { S: 'arn:aws:iam::123456789012:user/local' },
      },
    }),
  );
});
afterAll(async () => {
  process.env = saved;
  await cloud?.stop();
});

describe('cv-admin manifest import (local cloud)', () => {
  it('writes the registry rows cert-broker reads, refuses bad rows into --rejects, a re-run writes nothing, both audited', async () => {
    const manifest = file(
      'line1.jsonl',
      jsonl([
        { ecuId: 'LC-GW-1', vin: VIN1, role: 'gateway', supplier: 'acme' },
        {
          ecuId: 'LC-TCU-1',
          vin: VIN1,
          role: 'telematics',
          supplier: 'acme',
          attestationCertificateSha256: 'E'.repeat(64),
        },
        { ecuId: 'LC-ADAS-1', vin: VIN1, role: 'adas', supplier: 'nobody' },
      ]),
    );
    const rejects = join(dir, 'rejects.jsonl');

    const first = await cli(['manifest', 'import', manifest, '--rejects', rejects]);
    const second = await cli(['manifest', 'import', manifest]);

    expect(first.code, first.err.join('\n')).toBe(0);
    expect(first.report).toMatchObject({
      written: 2,
      unchanged: 0,
      refused: 1,
      refusedByReason: { unknown_supplier: 1 },
    });
    expect(second.report).toMatchObject({ written: 0, unchanged: 2, refused: 1 });
    const row = await ddb.send(
      new GetItemCommand({ TableName: REGISTRY, Key: { ecuId: { S: 'LC-TCU-1' } } }),
    );
    expect(row.Item).toMatchObject({
      ecuId: { S: 'LC-TCU-1' },
      vin: { S: VIN1 },
      role: { S: 'telematics' },
      status: { S: 'ACTIVE' },
      supplierId: { S: 'acme' },
      attestationIssuerKeySha256: { S: ACME_KEY },
      attestationCertificateSha256: { S: 'e'.repeat(64) },
      manifestSha256: { S: first.report.manifestSha256 },
      importedBy: { S: 'arn:aws:iam::123456789012:user/local' },
    });
    expect(
      readFileSync(rejects, 'utf8')
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l)),
    ).toEqual([
      {
        line: 3,
        ecuId: 'LC-ADAS-1',
        reason: 'unknown_supplier',
        message: 'supplier nobody is not onboarded',
      },
    ]);
    const audit = await ddb.send(
      new QueryCommand({
        TableName: `cv-security-${STAGE}-admin-audit`,
        KeyConditionExpression: '#t = :t',
        ExpressionAttributeNames: { '#t': 'target' },
        ExpressionAttributeValues: { ':t': { S: `manifest:${first.report.manifestSha256}` } },
      }),
    );
    expect((audit.Items ?? []).map((i) => i.outcome?.S).sort()).toEqual(['succeeded', 'unchanged']);
  });

  it('two importers racing on the same 300 ECU ids with different VINs: each ECU bound once, the loser refused', async () => {
    const ids = Array.from({ length: 300 }, (_, i) => `RACE-${i}`);
    const a = file(
      'a.jsonl',
      jsonl(ids.map((ecuId) => ({ ecuId, vin: VIN1, role: 'gateway', supplier: 'acme' }))),
    );
    const b = file(
      'b.csv',
      `ecuId,vin,role,supplier\n${ids.map((id) => `${id},${VIN2},gateway,acme`).join('\n')}\n`,
    );

    const [ra, rb] = await Promise.all([cli(['manifest', 'import', a]), cli(['manifest', 'import', b])]);

    expect(ra.report.written + rb.report.written).toBe(300);
    expect(ra.report.refused + rb.report.refused).toBe(300);
    const vins = await Promise.all(
      ids.map(
        async (id) =>
          (await ddb.send(new GetItemCommand({ TableName: REGISTRY, Key: { ecuId: { S: id } } }))).Item?.vin
            ?.S,
      ),
    );
    const byA = vins.filter((v) => v === VIN1).length;
    expect(byA).toBe(ra.report.written);
    expect(vins.filter((v) => v === VIN2).length).toBe(rb.report.written);
  });

  it.each([
    [['manifest', 'import'], 'usage'],
    [['manifest', 'import', '/nonexistent/file.jsonl'], 'invalid_input'],
    [['manifest', 'import', 'x.jsonl', '--format', 'xml'], 'invalid_input'],
  ])('refuses %j with exit 2 (%s)', async (argv, error) => {
    const run = await cli(argv);

    expect(run.code).toBe(2);
    expect(JSON.parse(run.err[0] ?? '{}')).toMatchObject({ error });
  });
});

describe('DynamoDbRegistryImport.getMany', () => {
  it('retries the unprocessed keys BatchGetItem hands back, with backoff, until every key is read', async () => {
    const requested: string[][] = [];
    const sleeps: number[] = [];
    const client = {
      send: async (command: {
        input: { RequestItems: Record<string, { Keys: { ecuId: { S: string } }[] }> };
      }) => {
        const keys = command.input.RequestItems.reg?.Keys ?? [];
        requested.push(keys.map((k) => k.ecuId.S));
        const [first, ...rest] = keys;
        return {
          Responses: {
            reg:
              first === undefined ? [] : [{ ecuId: first.ecuId, vin: { S: VIN1 }, status: { S: 'ACTIVE' } }],
          },
          UnprocessedKeys: rest.length === 0 ? {} : { reg: { Keys: rest } },
        };
      },
    } as unknown as DynamoDBClient;
    const adapter = new DynamoDbRegistryImport(client, 'reg', {
      random: () => 0.5,
      sleep: async (ms) => void sleeps.push(ms),
    });

    const found = await adapter.getMany(['A', 'B', 'C']);

    expect([...found.keys()]).toEqual(['A', 'B', 'C']);
    expect(requested).toEqual([['A', 'B', 'C'], ['B', 'C'], ['C']]);
    expect(sleeps).toEqual([25, 50]);
  });

  it('gives up with retries_exhausted when keys stay unprocessed', async () => {
    const client = {
      send: async (command: { input: { RequestItems: Record<string, { Keys: unknown[] }> } }) => ({
        Responses: {},
        UnprocessedKeys: { reg: { Keys: command.input.RequestItems.reg?.Keys } },
      }),
    } as unknown as DynamoDBClient;
    const adapter = new DynamoDbRegistryImport(client, 'reg', { attempts: 3, sleep: async () => undefined });

    await expect(adapter.getMany(['A'])).rejects.toMatchObject({ code: 'retries_exhausted', pending: 1 });
  });
});

/**
 * DynamoDbAuditLog against the local cloud's DynamoDB (dynalite, the table as serverless/resources/admin.yml
 * defines it) and `cv-admin audit list` through runCli: what is stored, how operators query it by target, by actor
 * and by time, and what the front door refuses.
 */
import { DynamoDBClient, ScanCommand } from '@aws-sdk/client-dynamodb';
import { createTables, LocalCloud } from '@cv/local-cloud';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DynamoDbAuditLog } from '../src/adapters/audit-log.js';
import type { AdminAuditEntry } from '../src/audit.js';
import { awsDeps } from '../src/aws.js';
import { runCli } from '../src/cli.js';

const STAGE = 'audit';
const TABLE = `cv-security-${STAGE}-admin-audit`;
const ALICE = 'arn:aws:iam::123456789012:user/alice';
const BOB = 'arn:aws:iam::123456789012:role/bob';
let cloud: LocalCloud;
let ddb: DynamoDBClient;
let log: DynamoDbAuditLog;
const saved = { ...process.env };

const entry = (over: Partial<AdminAuditEntry>): AdminAuditEntry => ({
  actor: ALICE,
  action: 'supplier.add',
  target: 'supplier:acme',
  outcome: 'succeeded',
  at: new Date('2026-12-01T10:00:00.000Z'),
  ...over,
});

async function cli(argv: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runCli(argv, {
    env: { ...cloud.sdkEnv(), CV_STAGE: STAGE },
    out: (l) => out.push(l),
    err: (l) => err.push(l),
    deps: awsDeps,
  });
  return { code, out, err };
}

beforeAll(async () => {
  cloud = await LocalCloud.start({ region: 'eu-west-1', account: '123456789012' });
  Object.assign(process.env, cloud.sdkEnv());
  ddb = new DynamoDBClient(cloud.clientConfig());
  await createTables(ddb, {
    ecuRegistry: `cv-security-${STAGE}-ecu-registry`,
    vehicleAccess: `cv-security-${STAGE}-vehicle-access`,
    commands: `cv-security-${STAGE}-commands`,
    telemetry: `cv-security-${STAGE}-telemetry`,
    adminAudit: TABLE,
  });
  log = new DynamoDbAuditLog(ddb, TABLE);
  await log.record(
    entry({ at: new Date('2026-11-30T23:59:59.999Z'), outcome: 'refused', detail: { reason: 'ca_expired' } }),
  );
  await log.record(
    entry({ at: new Date('2026-12-01T10:00:00.000Z'), detail: { fingerprint: 'ab'.repeat(32) } }),
  );
  // Same target, same millisecond: two entries, neither replaces the other.
  await log.record(entry({ at: new Date('2026-12-01T10:00:00.000Z'), outcome: 'unchanged' }));
  await log.record(
    entry({
      actor: BOB,
      action: 'manifest.import',
      target: 'manifest:cd',
      at: new Date('2026-12-02T08:00:00.000Z'),
      detail: { written: 10, privateKey: 'hunter2' },
    }),
  );
  await log.record(entry({ actor: BOB, target: 'supplier:other', at: new Date('2026-12-03T09:00:00.000Z') }));
});
afterAll(async () => {
  process.env = saved;
  await cloud?.stop();
});

describe('DynamoDbAuditLog (local cloud)', () => {
  it('a target’s history, newest first, with actor, action, outcome, time and detail', async () => {
    const entries = await log.list({
      target: 'supplier:acme',
      since: new Date('2026-11-01T00:00:00Z'),
      until: new Date('2026-12-31T00:00:00Z'),
      limit: 100,
    });

    expect(entries.map((e) => [e.at.toISOString(), e.outcome])).toEqual([
      ['2026-12-01T10:00:00.000Z', expect.any(String)],
      ['2026-12-01T10:00:00.000Z', expect.any(String)],
      ['2026-11-30T23:59:59.999Z', 'refused'],
    ]);
    expect(
      entries
        .slice(0, 2)
        .map((e) => e.outcome)
        .sort(),
    ).toEqual(['succeeded', 'unchanged']);
    expect(entries[2]).toMatchObject({
      actor: ALICE,
      action: 'supplier.add',
      detail: { reason: 'ca_expired' },
    });
    expect(new Set(entries.map((e) => e.id)).size).toBe(3);
  });

  it('by time: only entries inside the window, across UTC days, newest first, at most `limit`', async () => {
    const window = { since: new Date('2026-11-30T23:00:00Z'), until: new Date('2026-12-02T12:00:00Z') };

    const all = await log.list({ ...window, limit: 100 });
    const two = await log.list({ ...window, limit: 2 });

    expect(all.map((e) => e.at.toISOString())).toEqual([
      '2026-12-02T08:00:00.000Z',
      '2026-12-01T10:00:00.000Z',
      '2026-12-01T10:00:00.000Z',
      '2026-11-30T23:59:59.999Z',
    ]);
    expect(two.map((e) => e.at.toISOString())).toEqual(all.slice(0, 2).map((e) => e.at.toISOString()));
  });

  it('by actor: what one principal did', async () => {
    const entries = await log.list({
      actor: BOB,
      since: new Date('2026-11-01T00:00:00Z'),
      until: new Date('2026-12-31T00:00:00Z'),
      limit: 100,
    });

    expect(entries.map((e) => e.target)).toEqual(['supplier:other', 'manifest:cd']);
  });

  it('stores no secret: a detail value under a secret’s name is redacted in the table itself', async () => {
    const items = (await ddb.send(new ScanCommand({ TableName: TABLE }))).Items ?? [];

    const manifest = items.find((i) => i.target?.S === 'manifest:cd');
    expect(manifest?.detail?.M).toEqual({ written: { N: '10' }, privateKey: { S: '[redacted]' } });
    expect(JSON.stringify(items)).not.toContain('hunter2');
  });
});

describe('cv-admin audit list (local cloud)', () => {
  it('prints the entries of a target as one JSON line', async () => {
    const run = await cli([
      'audit',
      'list',
      '--target',
      'manifest:cd',
      '--since',
      '2026-12-01T00:00:00Z',
      '--until',
      '2026-12-03T00:00:00Z',
    ]);

    expect(run.code, run.err.join('\n')).toBe(0);
    expect(JSON.parse(run.out[0] ?? '{}')).toEqual({
      entries: [
        {
          id: expect.any(String),
          actor: BOB,
          action: 'manifest.import',
          target: 'manifest:cd',
          outcome: 'succeeded',
          at: '2026-12-02T08:00:00.000Z',
          detail: { written: 10, privateKey: '[redacted]' },
        },
      ],
    });
  });

  it.each([
    [['audit', 'list', '--target', 'a', '--actor', 'b'], 'invalid_input'],
    [['audit', 'list', '--since', 'yesterday'], 'invalid_input'],
    [
      ['audit', 'list', '--since', '2026-12-02T00:00:00Z', '--until', '2026-12-01T00:00:00Z'],
      'invalid_input',
    ],
    [
      ['audit', 'list', '--since', '2024-01-01T00:00:00Z', '--until', '2026-12-01T00:00:00Z'],
      'invalid_input',
    ],
    [['audit', 'list', '--limit', '0'], 'invalid_input'],
    [['audit', 'list', '--limit', '1001'], 'invalid_input'],
    [['audit', 'list', '--reason', 'x'], 'usage'],
    [['audit', 'list', 'extra'], 'usage'],
  ])('refuses %j with exit 2 (%s)', async (argv, error) => {
    const run = await cli(argv);

    expect(run.code).toBe(2);
    expect(JSON.parse(run.err[0] ?? '{}')).toMatchObject({ error });
    expect(run.out).toEqual([]);
  });
});

/**
 * The two handlers end to end, configured by their environment, on the local cloud (DynamoDB with its conditional
 * writes and ADD, Security Hub): a cloned identity from lifecycle events raises one finding after its provenance
 * record; a counter stream of a probing ECU raises one finding; a malformed event stores nothing.
 */
import {
  CreateTableCommand,
  DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  ScanCommand,
} from '@aws-sdk/client-dynamodb';
import { LocalCloud } from '@cv/local-cloud';
import { lambdaContext } from '@cv/test-support';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const TABLE = 'cv-security-test-behaviour';
const REGISTRY = 'cv-security-test-ecu-registry';
const PROVENANCE = 'cv-security-test-finding-provenance';
const THING = 'WVWZZZ1JZXW000001_tcu-1';
const PROBE = 'WVWZZZ1JZXW000002_gw-1';
const CERT = 'ab'.repeat(32);
const T0 = Date.UTC(2026, 11, 3, 9, 0, 0);

type Handler = (event: unknown, context: unknown) => Promise<unknown>;
let cloud: LocalCloud;
let ddb: DynamoDBClient;
let handlers: { presence: Handler; counters: Handler };
const saved = { ...process.env };
const context = lambdaContext({
  functionName: 'cv-security-test-behaviourPresence',
  region: 'eu-west-1',
  account: '123456789012',
  awsRequestId: '9f0e3a52-1b7c-4d2e-9f60-0a1b2c3d4e5f',
});

async function table(TableName: string, keys: string[]) {
  await ddb.send(
    new CreateTableCommand({
      TableName,
      BillingMode: 'PAY_PER_REQUEST',
      AttributeDefinitions: keys.map((AttributeName) => ({ AttributeName, AttributeType: 'S' })),
      KeySchema: keys.map((AttributeName, i) => ({ AttributeName, KeyType: i === 0 ? 'HASH' : 'RANGE' })),
    }),
  );
}

beforeAll(async () => {
  cloud = await LocalCloud.start({ registerOperationalCa: false });
  ddb = new DynamoDBClient(cloud.clientConfig());
  await table(TABLE, ['thingName', 'sk']);
  await table(REGISTRY, ['ecuId']);
  await table(PROVENANCE, ['findingId']);
  for (const [thingName, role] of [
    [THING, 'telematics'],
    [PROBE, 'gateway'],
  ] as const) {
    const [vin = '', ecuId = ''] = thingName.split('_');
    await ddb.send(
      new PutItemCommand({
        TableName: REGISTRY,
        Item: { ecuId: { S: ecuId }, vin: { S: vin }, thingName: { S: thingName }, role: { S: role } },
      }),
    );
  }
  Object.assign(process.env, cloud.sdkEnv(), {
    BEHAVIOUR_TABLE: TABLE,
    ECU_REGISTRY_TABLE: REGISTRY,
    FINDING_PROVENANCE_TABLE: PROVENANCE,
    LOG_LEVEL: 'SILENT',
    POWERTOOLS_METRICS_DISABLED: 'true',
  });
  handlers = (await import('../src/handler.js')) as unknown as typeof handlers;
});
afterAll(async () => {
  for (const key of Object.keys(process.env)) delete process.env[key];
  Object.assign(process.env, saved);
  await cloud?.stop();
});

const lifecycle = (eventType: 'connected' | 'disconnected', at: number, ip?: string) => ({
  clientId: THING,
  timestamp: at,
  eventType,
  sessionIdentifier: `s-${at}`,
  principalIdentifier: CERT,
  versionNumber: 1,
  ...(ip === undefined
    ? { disconnectReason: 'DUPLICATE_CLIENTID', clientInitiatedDisconnect: false }
    : { ipAddress: ip }),
});

describe('presence handler', () => {
  it('a malformed lifecycle event is dropped: nothing counted, nothing raised', async () => {
    await handlers.presence({ ...lifecycle('connected', T0, '100.64.0.1'), clientId: 'a/b' }, context);
    expect((await ddb.send(new ScanCommand({ TableName: TABLE }))).Count).toBe(0);
  });

  it('a cloned identity, one event per invocation as the IoT rule delivers them: one finding, after its provenance record', async () => {
    const events = [
      lifecycle('connected', T0, '100.64.0.1'),
      lifecycle('connected', T0 + 60_000, '198.51.100.9'),
      lifecycle('disconnected', T0 + 60_500),
      lifecycle('connected', T0 + 120_000, '100.64.0.1'),
      lifecycle('disconnected', T0 + 120_500),
      lifecycle('connected', T0 + 180_000, '198.51.100.9'),
      lifecycle('disconnected', T0 + 180_500),
      lifecycle('connected', T0 + 240_000, '100.64.0.1'),
      lifecycle('disconnected', T0 + 240_500),
    ];
    for (const e of events) await handlers.presence(e, context);

    const findings = [...cloud.securityHub.findings.values()].filter((f) =>
      String(f.Id).includes('CLONED_IDENTITY'),
    );
    expect(findings).toHaveLength(1);
    const id = String(findings[0]?.Id);
    expect(id).toBe(`cv-security/behaviour-detector/CLONED_IDENTITY/${THING}/${new Date(T0).toISOString()}`);
    const record = await ddb.send(
      new GetItemCommand({ TableName: PROVENANCE, Key: { findingId: { S: id } } }),
    );
    expect(record.Item?.targets?.M).toEqual({ thingName: { S: THING }, certificateId: { S: CERT } });
    const raised = await ddb.send(
      new GetItemCommand({
        TableName: TABLE,
        Key: { thingName: { S: THING }, sk: { S: 'raised#CLONED_IDENTITY' } },
      }),
    );
    expect(raised.Item?.imported?.BOOL).toBe(true);
    const bucket = await ddb.send(
      new GetItemCommand({
        TableName: TABLE,
        Key: { thingName: { S: THING }, sk: { S: `b#${String(T0 / 1000).padStart(12, '0')}` } },
      }),
    );
    expect(bucket.Item).toMatchObject({
      connects: { N: '5' },
      disconnects: { N: '4' },
      dc_DUPLICATE_CLIENTID: { N: '4' },
    });
  });
});

describe('counters handler', () => {
  it('a stream batch: the new hour learns the previous one; a probing gateway raises AUTHORIZATION_PROBING once', async () => {
    const start = T0 / 1000;
    const image = (s: number, extra: Record<string, unknown>) => ({
      thingName: { S: PROBE },
      sk: { S: `b#${String(s).padStart(12, '0')}` },
      sent: { N: '40' },
      ...extra,
    });
    await ddb.send(new PutItemCommand({ TableName: TABLE, Item: image(start - 3600, {}) as never }));
    const record = (n: number, eventName: string, img: unknown) => ({
      eventName,
      dynamodb: { SequenceNumber: `10${n}`, NewImage: img },
    });
    const out = await handlers.counters(
      {
        Records: [
          record(1, 'INSERT', image(start, { authzFailures: { N: '1' } })),
          record(2, 'MODIFY', image(start, { authzFailures: { N: '6' } })),
          record(3, 'MODIFY', image(start, { authzFailures: { N: '9' } })),
          record(4, 'MODIFY', { thingName: { S: PROBE }, sk: { S: 'baseline' } }),
        ],
      },
      context,
    );
    expect(out).toEqual({ batchItemFailures: [] });
    const probing = [...cloud.securityHub.findings.values()].filter((f) => String(f.Id).includes(PROBE));
    expect(probing.map((f) => (f.ProductFields as Record<string, string>)['cv/Check'])).toEqual([
      'AUTHORIZATION_PROBING',
    ]);
    const baseline = await ddb.send(
      new GetItemCommand({ TableName: TABLE, Key: { thingName: { S: PROBE }, sk: { S: 'baseline' } } }),
    );
    expect(JSON.parse(baseline.Item?.state?.S ?? '{}')).toMatchObject({ n: 1, lastFolded: start - 3600 });
  });
});

/**
 * Issue 16: AWS calls per event, asserted (docs/performance.md, "AWS calls per event"). KMS is
 * mocked (every call counted); DynamoDB is dynalite on loopback, whose every request is counted
 * by operation. A fresh container per test (the data-key cache lives at module scope).
 */
import { randomUUID } from 'node:crypto';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { KMS, KMSClient } from '@aws-sdk/client-kms';
import { DynamoDBDocumentClient, PutCommand } from '@aws-sdk/lib-dynamodb';
import {
  createTelemetryEncryptor,
  createTelemetryMaterialsManager,
  DEFAULT_ENCRYPT_CACHE_LIMITS,
  type TelemetryKind,
  telemetryKmsKeyring,
} from '@cv/crypto/telemetry';
import { installFakeKms } from '@cv/test-support';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  BEHAVIOUR_TABLE,
  COMMANDS_TABLE,
  CREDENTIALS,
  createBehaviourTable,
  KEY_ARN,
  lambdaContext,
  REGION,
  sampleEvent,
  startDynalite,
  TELEMETRY_TABLE,
} from './helpers.js';

const THING = '1HGCM82633A004352_gw-01';
type Handler = (event: unknown, context: ReturnType<typeof lambdaContext>) => Promise<unknown>;

const kmsMock = mockClient(KMSClient);
let dynamo: Awaited<ReturnType<typeof startDynalite>>;
let doc: DynamoDBDocumentClient;
const vehicleKms = new KMS({ region: REGION, credentials: CREDENTIALS });
/** The ECU: a new one per test, as the fake KMS (its key material) is new per test. */
let ecu: ReturnType<typeof createTelemetryEncryptor>;

async function ruleEvent(kind: TelemetryKind, data: unknown): Promise<Record<string, unknown>> {
  const sample = sampleEvent(kind === 'telemetry' ? 'iot-telemetry.json' : 'iot-command-result.json');
  const { envelope } = await ecu.encrypt({ thingName: THING, kind, data });
  return {
    ...sample,
    ...envelope,
    thingName: THING,
    topicKind: kind === 'telemetry' ? 'telemetry' : 'command-results',
  };
}

const reading = {
  status: { speedKmh: 50, odometerKm: 1200, fuelPercent: 40, doorsLocked: true, ignition: 'ON' },
};

async function coldHandler(): Promise<Handler> {
  vi.resetModules();
  return (await import('../src/handler.js')).handler as unknown as Handler;
}

/** What one handler call asked of AWS. */
async function callsOf(handler: Handler, event: unknown) {
  kmsMock.resetHistory();
  dynamo.operations.length = 0;
  await handler(event, lambdaContext());
  return {
    dynamodb: [...dynamo.operations],
    kms: kmsMock.calls().map((c) => (c.args[0] as { constructor: { name: string } }).constructor.name),
  };
}

beforeAll(async () => {
  dynamo = await startDynalite();
  const raw = new DynamoDBClient({ endpoint: dynamo.endpoint, region: REGION, credentials: CREDENTIALS });
  doc = DynamoDBDocumentClient.from(raw);
  await createBehaviourTable(raw);
  Object.assign(process.env, {
    AWS_REGION: REGION,
    AWS_ACCESS_KEY_ID: CREDENTIALS.accessKeyId,
    AWS_SECRET_ACCESS_KEY: CREDENTIALS.secretAccessKey,
    AWS_ENDPOINT_URL_DYNAMODB: dynamo.endpoint,
    TELEMETRY_TABLE,
    COMMANDS_TABLE,
    TELEMETRY_KEY_ID: KEY_ARN,
    BEHAVIOUR_TABLE,
    LOG_LEVEL: 'SILENT',
    POWERTOOLS_METRICS_DISABLED: 'true',
  });
});

beforeEach(() => {
  kmsMock.reset();
  installFakeKms(kmsMock, [KEY_ARN]);
  ecu = createTelemetryEncryptor({
    materials: createTelemetryMaterialsManager(
      telemetryKmsKeyring({ keyId: KEY_ARN, client: vehicleKms }),
      DEFAULT_ENCRYPT_CACHE_LIMITS,
    ),
  });
});

afterAll(async () => {
  doc.destroy();
  await dynamo.close();
});

describe('telemetry-ingest: AWS calls per event', () => {
  it('telemetry: PutItem (telemetry) and UpdateItem (behaviour counter); KMS Decrypt once per data key and container', async () => {
    const handler = await coldHandler();

    const cold = await callsOf(handler, await ruleEvent('telemetry', reading));
    const warm = await callsOf(handler, await ruleEvent('telemetry', reading)); // the ECU's cached data key

    expect(cold).toEqual({ dynamodb: ['PutItem', 'UpdateItem'], kms: ['DecryptCommand'] });
    expect(warm).toEqual({ dynamodb: ['PutItem', 'UpdateItem'], kms: [] });
  });

  it('a redelivered message: the conditional PutItem refuses it, nothing else is written', async () => {
    const handler = await coldHandler();
    const event = await ruleEvent('telemetry', reading);
    // A copy each time, as Lambda delivers it (the handler's middleware changes the event object it is given).
    // A copy each time, as Lambda delivers it (the handler's middleware changes the event object it is given).
    await callsOf(handler, structuredClone(event));

    expect(await callsOf(handler, structuredClone(event))).toEqual({ dynamodb: ['PutItem'], kms: [] });
  });

  it('a command result: PutItem (telemetry), UpdateItem (the command row), UpdateItem (counter)', async () => {
    const handler = await coldHandler();
    const commandId = randomUUID();
    await doc.send(
      new PutCommand({
        TableName: COMMANDS_TABLE,
        Item: {
          commandId,
          thingName: THING,
          vin: THING.slice(0, 17),
          command: 'door.lock',
          status: 'PENDING',
        },
      }),
    );

    const calls = await callsOf(
      handler,
      await ruleEvent('command-result', { commandId, status: 'SUCCEEDED' }),
    );

    expect(calls.kms).toEqual(['DecryptCommand']);
    expect(calls.dynamodb.sort()).toEqual(['PutItem', 'UpdateItem', 'UpdateItem']);
  });

  it('a command result the update refuses (not this thing): GetItem tells why, nothing else written', async () => {
    const handler = await coldHandler();
    const commandId = randomUUID();
    await doc.send(
      new PutCommand({
        TableName: COMMANDS_TABLE,
        Item: {
          commandId,
          thingName: '2FTRX18W1XCA01234_tcu-7',
          vin: '2FTRX18W1XCA01234',
          status: 'PENDING',
        },
      }),
    );

    const calls = await callsOf(
      handler,
      await ruleEvent('command-result', { commandId, status: 'SUCCEEDED' }),
    );

    expect(calls.dynamodb.sort()).toEqual(['GetItem', 'PutItem', 'UpdateItem', 'UpdateItem']);
  });
});

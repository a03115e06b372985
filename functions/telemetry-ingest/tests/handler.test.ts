/**
 * The handler end to end: vehicle-side encryption with @cv/crypto/telemetry over a behaving mocked KMS, the real
 * handler module (module-scope caching materials manager), dynalite as DynamoDB on a loopback port.
 */
import { randomUUID } from 'node:crypto';
import { DeleteTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DecryptCommand, KMS, KMSClient } from '@aws-sdk/client-kms';
import {
  DeleteCommand,
  DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  ScanCommand,
} from '@aws-sdk/lib-dynamodb';
import {
  createTelemetryEncryptor,
  createTelemetryMaterialsManager,
  DEFAULT_ENCRYPT_CACHE_LIMITS,
  readEsdkHeaderV2,
  type TelemetryEncryptor,
  type TelemetryKind,
  telemetryKmsKeyring,
} from '@cv/crypto/telemetry';
import { type FakeKms, installFakeKms } from '@cv/test-support';
import type { SQSEvent, SQSRecord } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import {
  afterAll,
  afterEach,
  beforeAll,
  beforeEach,
  describe,
  expect,
  it,
  type MockInstance,
  vi,
} from 'vitest';
import {
  BEHAVIOUR_TABLE,
  COMMANDS_TABLE,
  CREDENTIALS,
  createBehaviourTable,
  createCommandsTable,
  KEY_ARN,
  lambdaContext,
  OTHER_KEY_ARN,
  REGION,
  sampleEvent,
  startDynalite,
  TELEMETRY_TABLE,
  tableStatus,
} from './helpers.js';

const THING_A = '1HGCM82633A004352_gw-01';
const THING_B = '2FTRX18W1XCA01234_tcu-7';
// Distinctive plaintext values, searched for in everything written to stdout.
const SECRET_ODOMETER = 987654.321;
const SECRET_LAT = 48.1371546;
const SECRET_DETAIL = 'actuator-stalled-7Q3Z';
const reading = {
  status: { speedKmh: 87.5, odometerKm: SECRET_ODOMETER, fuelPercent: 61, doorsLocked: true, ignition: 'ON' },
  location: { lat: SECRET_LAT, lon: 11.576124, headingDeg: 271.5, accuracyM: 4.2 },
};

type Handler = (event: unknown, context: ReturnType<typeof lambdaContext>) => Promise<unknown>;

const kmsMock = mockClient(KMSClient);
let fake: FakeKms;
let dynamo: Awaited<ReturnType<typeof startDynalite>>;
let doc: DynamoDBDocumentClient;
let handler: Handler;
let batchHandler: Handler;
let kinesisHandler: Handler;
let stdout: MockInstance<typeof process.stdout.write>;
let stderr: MockInstance<typeof process.stderr.write>;
const written: string[] = [];
const ciphertexts: string[] = [];

const vehicleKms = new KMS({ region: REGION, credentials: CREDENTIALS });
function vehicle(keyId = KEY_ARN): TelemetryEncryptor {
  return createTelemetryEncryptor({
    materials: createTelemetryMaterialsManager(
      telemetryKmsKeyring({ keyId, client: vehicleKms }),
      DEFAULT_ENCRYPT_CACHE_LIMITS,
    ),
  });
}

/** The IoT rule's output for a message the vehicle published on `ecus/<topicThing>/<topicKind>`. */
async function ruleEvent(opts: {
  ecu?: TelemetryEncryptor;
  thing?: string;
  topicThing?: string;
  kind?: TelemetryKind;
  topicKind?: string;
  data?: unknown;
}): Promise<Record<string, unknown>> {
  const thing = opts.thing ?? THING_A;
  const kind = opts.kind ?? 'telemetry';
  const sample = sampleEvent(kind === 'telemetry' ? 'iot-telemetry.json' : 'iot-command-result.json');
  const { envelope } = await (opts.ecu ?? vehicle()).encrypt({
    thingName: thing,
    kind,
    data: opts.data ?? reading,
  });
  ciphertexts.push(envelope.esdk);
  return {
    ...sample,
    ...envelope,
    thingName: opts.topicThing ?? thing,
    topicKind: opts.topicKind ?? (kind === 'telemetry' ? 'telemetry' : 'command-results'),
  };
}

function sqsEvent(bodies: string[]): SQSEvent {
  const template = sampleEvent<SQSEvent>('sqs-batch.json').Records[0] as SQSRecord;
  return { Records: bodies.map((body) => ({ ...template, messageId: randomUUID(), body })) };
}

async function rows(thing = THING_A) {
  const out = await doc.send(
    new QueryCommand({
      TableName: TELEMETRY_TABLE,
      KeyConditionExpression: 'thingName = :t',
      ExpressionAttributeValues: { ':t': thing },
    }),
  );
  return out.Items ?? [];
}

async function counters() {
  return (await doc.send(new ScanCommand({ TableName: BEHAVIOUR_TABLE }))).Items ?? [];
}

async function allRows() {
  return (await doc.send(new ScanCommand({ TableName: TELEMETRY_TABLE }))).Items ?? [];
}

async function seedCommand(commandId: string, thingName: string, status = 'PENDING') {
  await doc.send(
    new PutCommand({
      TableName: COMMANDS_TABLE,
      Item: {
        commandId,
        thingName,
        vin: thingName.slice(0, 17),
        command: 'door.lock',
        status,
        createdAt: '2026-11-25T09:00:00Z',
      },
    }),
  );
}

async function command(commandId: string) {
  return (await doc.send(new GetCommand({ TableName: COMMANDS_TABLE, Key: { commandId } }))).Item;
}

beforeAll(async () => {
  dynamo = await startDynalite();
  doc = DynamoDBDocumentClient.from(
    new DynamoDBClient({ endpoint: dynamo.endpoint, region: REGION, credentials: CREDENTIALS }),
  );
  await createBehaviourTable(
    new DynamoDBClient({ endpoint: dynamo.endpoint, region: REGION, credentials: CREDENTIALS }),
  );
  Object.assign(process.env, {
    AWS_REGION: REGION,
    AWS_ACCESS_KEY_ID: CREDENTIALS.accessKeyId,
    AWS_SECRET_ACCESS_KEY: CREDENTIALS.secretAccessKey,
    AWS_ENDPOINT_URL_DYNAMODB: dynamo.endpoint,
    TELEMETRY_TABLE,
    COMMANDS_TABLE,
    TELEMETRY_KEY_ID: KEY_ARN,
    BEHAVIOUR_TABLE,
    LOG_LEVEL: 'DEBUG',
    POWERTOOLS_METRICS_NAMESPACE: 'cv-security-test',
  });
  const capture = (chunk: string | Uint8Array) => {
    written.push(typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8'));
    return true;
  };
  stdout = vi.spyOn(process.stdout, 'write').mockImplementation(capture);
  stderr = vi.spyOn(process.stderr, 'write').mockImplementation(capture);
  ({ handler, batchHandler, kinesisHandler } = (await import('../src/handler.js')) as unknown as {
    handler: Handler;
    batchHandler: Handler;
    kinesisHandler: Handler;
  });
});

beforeEach(() => {
  kmsMock.reset();
  fake = installFakeKms(kmsMock, [KEY_ARN, OTHER_KEY_ARN]);
});

afterEach(async () => {
  const items = await allRows();
  for (let i = 0; i < items.length; i += 25) {
    await Promise.all(
      items.slice(i, i + 25).map((item) =>
        doc.send(
          new DeleteCommand({
            TableName: TELEMETRY_TABLE,
            Key: { thingName: item.thingName, sk: item.sk },
          }),
        ),
      ),
    );
  }
}, 60_000);

afterAll(async () => {
  stdout.mockRestore();
  stderr.mockRestore();
  doc.destroy();
  await dynamo.close();
});

const ctx = lambdaContext();

describe('IoT rule events', () => {
  it('stores a valid reading once, with the attributes of the telemetry table', async () => {
    const event = await ruleEvent({});
    const before = Date.now();
    const esdkMessageId = readEsdkHeaderV2(Buffer.from(String(event.esdk), 'base64')).messageId.toString(
      'hex',
    );

    await handler(event, ctx);

    const stored = await rows();
    expect(stored).toHaveLength(1);
    const row = stored[0] ?? {};
    expect(row).toMatchObject({
      thingName: THING_A,
      sk: `${event.sentAt}#${esdkMessageId}`,
      vin: '1HGCM82633A004352',
      ecuId: 'gw-01',
      kind: 'telemetry',
      messageId: event.messageId,
      esdkMessageId,
      data: reading,
    });
    expect(Date.parse(String(row.receivedAt))).toBeGreaterThanOrEqual(before - 1000);
    const ttlDays = (Number(row.ttl) - Date.parse(String(row.receivedAt)) / 1000) / 86_400;
    expect(ttlDays).toBeCloseTo(30, 3);
    expect(row).not.toHaveProperty('esdk');
  });

  it('stores the sample event shape (rule output) with a freshly encrypted envelope', async () => {
    const sample = sampleEvent('iot-telemetry.json');
    const event = await ruleEvent({});

    expect(Object.keys(event).sort()).toEqual(Object.keys(sample).sort());
    await handler(event, ctx);

    expect(await rows()).toHaveLength(1);
  });

  it('drops the sample event as it is (its data key is not under TELEMETRY_KEY_ID) and stores nothing', async () => {
    await handler(sampleEvent('iot-telemetry.json'), ctx);

    expect(await allRows()).toHaveLength(0);
    expect(kmsMock.commandCalls(DecryptCommand)).toHaveLength(0);
  });

  it('stores a redelivered message once and asks KMS once', async () => {
    const event = await ruleEvent({});

    await handler(event, ctx);
    await handler(structuredClone(event), ctx);

    expect(await rows()).toHaveLength(1);
    expect(kmsMock.commandCalls(DecryptCommand)).toHaveLength(1);
  });

  it("drops thing A's message arriving on thing B's topic, storing nothing and never asking KMS", async () => {
    const event = await ruleEvent({ thing: THING_A, topicThing: THING_B });

    await handler(event, ctx);

    expect(await allRows()).toHaveLength(0);
    expect(kmsMock.commandCalls(DecryptCommand)).toHaveLength(0);
  });

  it('drops a telemetry message arriving on the command-results topic (kind mismatch)', async () => {
    const event = await ruleEvent({ kind: 'telemetry', topicKind: 'command-results' });

    await handler(event, ctx);

    expect(await allRows()).toHaveLength(0);
  });

  it('drops tampered ciphertext and stores nothing', async () => {
    const event = await ruleEvent({});
    const bytes = Buffer.from(String(event.esdk), 'base64');
    bytes[bytes.length - 20] = (bytes[bytes.length - 20] ?? 0) ^ 0x01;

    await handler({ ...event, esdk: bytes.toString('base64') }, ctx);

    expect(await allRows()).toHaveLength(0);
  });

  it('drops a message whose data key is under another KMS key and stores nothing', async () => {
    const event = await ruleEvent({ ecu: vehicle(OTHER_KEY_ARN) });

    await handler(event, ctx);

    expect(await allRows()).toHaveLength(0);
    expect(kmsMock.commandCalls(DecryptCommand)).toHaveLength(0);
  });

  it.each([
    ['esdk not base64', { esdk: '%%%not-base64%%%' }],
    ['an extra field', { extra: 'x' }],
    ['a v4-less messageId', { messageId: 'not-a-uuid' }],
    ['a thing name that is not <VIN>_<ecuId>', { thingName: 'thing-without-vin' }],
    ['version 1 (unauthenticated messageId and sentAt)', { v: 1 }],
    ['version 3', { v: 3 }],
  ])('drops an envelope with %s and stores nothing', async (_label, change) => {
    const event = await ruleEvent({});

    await handler({ ...event, ...change }, ctx);

    expect(await allRows()).toHaveLength(0);
    expect(kmsMock.commandCalls(DecryptCommand)).toHaveLength(0);
  });

  it('drops an oversize message before decrypting it', async () => {
    const event = await ruleEvent({});

    await handler({ ...event, esdk: `${event.esdk}${'A'.repeat(70 * 1024)}` }, ctx);

    expect(await allRows()).toHaveLength(0);
    expect(kmsMock.commandCalls(DecryptCommand)).toHaveLength(0);
  });

  it('drops an unknown kind', async () => {
    const event = await ruleEvent({ topicKind: 'diagnostics' });

    await handler(event, ctx);

    expect(await allRows()).toHaveLength(0);
  });

  it('drops a reading that fails the schema (latitude 91) and stores nothing', async () => {
    const event = await ruleEvent({ data: { location: { lat: 91, lon: 0 } } });

    await handler(event, ctx);

    expect(await allRows()).toHaveLength(0);
  });

  it('rethrows a KMS throttle so the IoT rule invocation is retried, storing nothing', async () => {
    const event = await ruleEvent({});
    fake.failNextDecrypts(1, 'ThrottlingException');

    await expect(handler(event, ctx)).rejects.toThrow();

    expect(await allRows()).toHaveLength(0);
  });
});

describe('command results', () => {
  it.each([
    ['SUCCEEDED', undefined],
    ['FAILED', SECRET_DETAIL],
  ])('applies a %s result to the PENDING command of this thing', async (status, detail) => {
    const commandId = randomUUID();
    await seedCommand(commandId, THING_A);
    const data = { commandId, status, ...(detail ? { detail } : {}) };
    const event = await ruleEvent({ kind: 'command-result', data });

    await handler(event, ctx);

    const row = await command(commandId);
    expect(row?.status).toBe(status);
    expect(row?.result).toMatchObject({ ...data, messageId: event.messageId });
    expect(await rows()).toHaveLength(1);
    expect((await rows())[0]?.kind).toBe('command-result');
  });

  it("does not apply a result to another thing's command", async () => {
    const commandId = randomUUID();
    await seedCommand(commandId, THING_B);
    const event = await ruleEvent({
      thing: THING_A,
      kind: 'command-result',
      data: { commandId, status: 'SUCCEEDED' },
    });

    await handler(event, ctx);

    const row = await command(commandId);
    expect(row?.status).toBe('PENDING');
    expect(row).not.toHaveProperty('result');
  });

  it.each(['SUCCEEDED', 'EXPIRED'])('does not change a command that is already %s', async (status) => {
    const commandId = randomUUID();
    await seedCommand(commandId, THING_A, status);
    const event = await ruleEvent({
      kind: 'command-result',
      data: { commandId, status: 'FAILED', detail: 'late' },
    });

    await handler(event, ctx);

    const row = await command(commandId);
    expect(row?.status).toBe(status);
    expect(row).not.toHaveProperty('result');
  });

  it('does not create a command row for an unknown commandId', async () => {
    const commandId = randomUUID();
    const event = await ruleEvent({ kind: 'command-result', data: { commandId, status: 'SUCCEEDED' } });

    await handler(event, ctx);

    expect(await command(commandId)).toBeUndefined();
  });

  it('drops a result whose body fails the schema and changes nothing', async () => {
    const commandId = randomUUID();
    await seedCommand(commandId, THING_A);
    const event = await ruleEvent({ kind: 'command-result', data: { commandId, status: 'DONE' } });

    await handler(event, ctx);

    expect((await command(commandId))?.status).toBe('PENDING');
    expect(await allRows()).toHaveLength(0);
  });
});

describe('SQS batches', () => {
  it('processes the sample batch shape and reports nothing for permanent rejections', async () => {
    const response = await batchHandler(sampleEvent('sqs-batch.json'), ctx);

    expect(response).toEqual({ batchItemFailures: [] });
    expect(await allRows()).toHaveLength(0);
  });

  it('reports only the transient failures of a mixed batch', async () => {
    const ecuA = vehicle();
    const ecuB = vehicle();
    const good = JSON.stringify(await ruleEvent({ ecu: ecuA }));
    const tamperedEvent = await ruleEvent({ ecu: ecuA });
    const tamperedBytes = Buffer.from(String(tamperedEvent.esdk), 'base64');
    tamperedBytes[tamperedBytes.length - 20] = (tamperedBytes[tamperedBytes.length - 20] ?? 0) ^ 0x01;
    const tampered = JSON.stringify({ ...tamperedEvent, esdk: tamperedBytes.toString('base64') });
    const mismatched = JSON.stringify(await ruleEvent({ ecu: ecuA, topicThing: THING_B }));
    const throttled = JSON.stringify(await ruleEvent({ ecu: ecuB, thing: THING_B }));
    const event = sqsEvent([good, 'not json{', tampered, mismatched, throttled]);
    fake.failNextDecrypts(1, 'ThrottlingException', (input) => input.EncryptionContext?.thing === THING_B);

    const response = (await batchHandler(event, ctx)) as {
      batchItemFailures: Array<{ itemIdentifier: string }>;
    };

    expect(response.batchItemFailures).toEqual([{ itemIdentifier: event.Records[4]?.messageId }]);
    expect(await rows(THING_A)).toHaveLength(1);
    expect(await rows(THING_B)).toHaveLength(0);
  });
});

describe('behaviour counters (docs/detection.md)', () => {
  it('an SQS batch is counted once per ECU and hour: messages and bytes of what was stored or dropped, a redelivery not again', async () => {
    const ecuA = vehicle();
    const a1 = JSON.stringify(await ruleEvent({ ecu: ecuA }));
    const a2 = JSON.stringify(await ruleEvent({ ecu: ecuA, data: { ...reading, pad: 'x'.repeat(3000) } }));
    const b1 = JSON.stringify(await ruleEvent({ ecu: vehicle(), thing: THING_B }));
    const mismatched = JSON.stringify(await ruleEvent({ ecu: ecuA, topicThing: THING_B }));
    const before = await counters();

    await batchHandler(sqsEvent([a1, a2, b1, mismatched]), ctx);
    await batchHandler(sqsEvent([a1]), ctx); // redelivered: stored already, not a new message

    const after = await counters();
    const delta = (thing: string, attr: 'sent' | 'bytes') =>
      after.filter((i) => i.thingName === thing).reduce((n, i) => n + Number(i[attr] ?? 0), 0) -
      before.filter((i) => i.thingName === thing).reduce((n, i) => n + Number(i[attr] ?? 0), 0);
    expect(delta(THING_A, 'sent')).toBe(2);
    expect(delta(THING_A, 'bytes')).toBe(Buffer.byteLength(a1) + Buffer.byteLength(a2));
    // The mismatched message arrived on THING_B's topic: counted for the topic's thing (the sender's connection).
    expect(delta(THING_B, 'sent')).toBe(2);
    const largest = after.find((i) => i.thingName === THING_A)?.sizeClasses as Set<number> | undefined;
    expect(Math.max(...(largest ?? []))).toBeGreaterThanOrEqual(Buffer.byteLength(a2));
  });
});

describe('DynamoDB failures', () => {
  it('reports a record whose command update fails, and applies it once when redelivered', async () => {
    const ddb = new DynamoDBClient({ endpoint: dynamo.endpoint, region: REGION, credentials: CREDENTIALS });
    const commandId = randomUUID();
    const reading1 = JSON.stringify(await ruleEvent({}));
    const result = JSON.stringify(
      await ruleEvent({ kind: 'command-result', data: { commandId, status: 'SUCCEEDED' } }),
    );
    const event = sqsEvent([reading1, result]);
    await ddb.send(new DeleteTableCommand({ TableName: COMMANDS_TABLE })); // UpdateItem now fails (ResourceNotFound)
    await tableStatus(ddb, COMMANDS_TABLE, 'GONE');

    const first = await batchHandler(event, ctx);

    expect(first).toEqual({ batchItemFailures: [{ itemIdentifier: event.Records[1]?.messageId }] });
    expect(await rows()).toHaveLength(2); // both rows stored; the result's update did not happen
    await createCommandsTable(ddb);
    await seedCommand(commandId, THING_A);
    ddb.destroy();

    const redelivered = await batchHandler(sqsEvent([result]), ctx);

    expect(redelivered).toEqual({ batchItemFailures: [] });
    expect(await rows()).toHaveLength(2);
    expect((await command(commandId))?.status).toBe('SUCCEEDED');
  });
});

describe('Kinesis batches', () => {
  it('stores good records and reports only the transient failure by sequence number', async () => {
    const good = await ruleEvent({});
    const throttled = await ruleEvent({ thing: THING_B });
    const records = [good, { not: 'an envelope' }, throttled].map((body, i) => ({
      kinesis: {
        kinesisSchemaVersion: '1.0',
        partitionKey: String(body.thingName ?? 'x'),
        sequenceNumber: `4959${i}`,
        data: Buffer.from(JSON.stringify(body)).toString('base64'),
        approximateArrivalTimestamp: 1795599000.1,
      },
      eventSource: 'aws:kinesis',
      eventVersion: '1.0',
      eventID: `shardId-000000000000:4959${i}`,
      eventName: 'aws:kinesis:record',
      invokeIdentityArn: 'arn:aws:iam::111122223333:role/cv-security-test-telemetryIngestBatch',
      awsRegion: REGION,
      eventSourceARN: 'arn:aws:kinesis:eu-west-1:111122223333:stream/cv-security-test-telemetry',
    }));
    fake.failNextDecrypts(1, 'ThrottlingException', (input) => input.EncryptionContext?.thing === THING_B);

    const response = await kinesisHandler({ Records: records }, ctx);

    expect(response).toEqual({ batchItemFailures: [{ itemIdentifier: '49592' }] });
    expect(await rows(THING_A)).toHaveLength(1);
    expect(await rows(THING_B)).toHaveLength(0);
  });
});

describe('KMS calls', () => {
  it('decrypts 1,000 messages from 100 ECUs (one data key each) with exactly 100 KMS Decrypt calls', async () => {
    const events: Array<Record<string, unknown>> = [];
    for (let e = 0; e < 100; e++) {
      const ecu = vehicle();
      const thing = `1HGCM82633A004352_ecu-${e}`;
      for (let m = 0; m < 10; m++)
        events.push(await ruleEvent({ ecu, thing, data: { status: { ...reading.status, speedKmh: m } } }));
    }

    for (const event of events) await handler(event, ctx);

    expect(kmsMock.commandCalls(DecryptCommand)).toHaveLength(100);
    expect(await allRows()).toHaveLength(1000);
  }, 120_000);
});

describe('logs', () => {
  it('wrote structured log lines but never a plaintext value or a ciphertext', () => {
    const log = written.join('');

    expect(log).toContain('"message":"message dropped"');
    expect(log).toContain('"reason":"context-mismatch"');
    expect(log).toContain('"_aws":'); // EMF metrics
    expect(log).toContain('"reason":"tampered","MessagesDroppedByReason":1');
    for (const secret of [String(SECRET_ODOMETER), String(SECRET_LAT), SECRET_DETAIL])
      expect(log).not.toContain(secret);
    for (const esdk of ciphertexts) expect(log).not.toContain(esdk.slice(8, 48));
  });
});

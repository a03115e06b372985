/**
 * Issue 12 item 10: duplicates are detected on what the message authenticates (the Encryption SDK
 * message id, covered by the header tag), and an envelope whose unauthenticated claims (`messageId`,
 * `sentAt`) differ from the sealed copies is rejected. The real handler over dynalite and a behaving
 * mocked KMS; messages from our encryptor and, for crafted ones, from the official Encryption SDK.
 */
import { randomUUID } from 'node:crypto';
import { buildClient, CommitmentPolicy } from '@aws-crypto/client-node';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DecryptCommand, KMS, KMSClient } from '@aws-sdk/client-kms';
import {
  DeleteCommand,
  DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  ScanCommand,
} from '@aws-sdk/lib-dynamodb';
import {
  createTelemetryEncryptor,
  readEsdkHeaderV2,
  sealTelemetryPlaintext,
  TELEMETRY_SUITE,
  type TelemetryKind,
  telemetryKmsKeyring,
} from '@cv/crypto/telemetry';
import { installFakeKms } from '@cv/test-support';
import type { SQSEvent } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  COMMANDS_TABLE,
  CREDENTIALS,
  KEY_ARN,
  lambdaContext,
  REGION,
  sampleEvent,
  startDynalite,
  TELEMETRY_TABLE,
} from './helpers.js';

const THING = '5YJ3E1EA7KF000316_tcu-42';
const reading = { location: { lat: 47.3769, lon: 8.5417 } };
type Handler = (event: unknown, context: ReturnType<typeof lambdaContext>) => Promise<unknown>;

const kmsMock = mockClient(KMSClient);
const vehicleKms = new KMS({ region: REGION, credentials: CREDENTIALS });
const keyring = () => telemetryKmsKeyring({ keyId: KEY_ARN, client: vehicleKms });
const ecu = () => createTelemetryEncryptor({ materials: keyring() });
const ctx = lambdaContext();
let dynamo: Awaited<ReturnType<typeof startDynalite>>;
let doc: DynamoDBDocumentClient;
let handler: Handler;
let batchHandler: Handler;

const topicKind = (kind: TelemetryKind) => (kind === 'telemetry' ? 'telemetry' : 'command-results');

/** What the IoT rule hands the function for a message our reference encryptor made. */
async function published(kind: TelemetryKind = 'telemetry', data: unknown = reading) {
  const { envelope } = await ecu().encrypt({ thingName: THING, kind, data });
  return { ...envelope, thingName: THING, topicKind: topicKind(kind) };
}

/** The same, made with the official Encryption SDK alone: sealed claims chosen independently of the envelope. */
async function crafted(opts: {
  sealed: { messageId: string; sentAt: string };
  envelope: { messageId: string; sentAt: string };
  body?: unknown;
  plaintext?: string;
}) {
  const sdk = buildClient(CommitmentPolicy.REQUIRE_ENCRYPT_REQUIRE_DECRYPT);
  const plaintext = opts.plaintext ?? sealTelemetryPlaintext({ ...opts.sealed, body: opts.body ?? reading });
  const { result } = await sdk.encrypt(keyring(), plaintext, {
    encryptionContext: { thing: THING, kind: 'telemetry' },
    suiteId: TELEMETRY_SUITE,
  });
  return {
    v: 2,
    ...opts.envelope,
    esdk: result.toString('base64'),
    thingName: THING,
    topicKind: 'telemetry',
  };
}

const esdkIdOf = (event: { esdk: string }) =>
  readEsdkHeaderV2(Buffer.from(event.esdk, 'base64')).messageId.toString('hex');
const later = (iso: string, ms: number) => new Date(Date.parse(iso) + ms).toISOString();

async function rows() {
  const items = (await doc.send(new ScanCommand({ TableName: TELEMETRY_TABLE }))).Items ?? [];
  return items.filter((i) => i.thingName === THING);
}

async function seedCommand(status = 'PENDING') {
  const commandId = randomUUID();
  await doc.send(
    new PutCommand({
      TableName: COMMANDS_TABLE,
      Item: { commandId, thingName: THING, vin: THING.slice(0, 17), command: 'door.lock', status },
    }),
  );
  return commandId;
}

async function command(commandId: string) {
  return (await doc.send(new GetCommand({ TableName: COMMANDS_TABLE, Key: { commandId } }))).Item;
}

beforeAll(async () => {
  dynamo = await startDynalite();
  doc = DynamoDBDocumentClient.from(
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
    LOG_LEVEL: 'SILENT',
    POWERTOOLS_METRICS_NAMESPACE: 'cv-security-test',
  });
  vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
  ({ handler, batchHandler } = (await import('../src/handler.js')) as unknown as {
    handler: Handler;
    batchHandler: Handler;
  });
});

beforeEach(async () => {
  kmsMock.reset();
  installFakeKms(kmsMock, [KEY_ARN]);
  for (const item of await rows()) {
    await doc.send(new DeleteCommand({ TableName: TELEMETRY_TABLE, Key: { thingName: THING, sk: item.sk } }));
  }
});

afterAll(async () => {
  vi.restoreAllMocks();
  doc.destroy();
  await dynamo.close();
});

/** Envelope rewrites of a captured message (what a replayer can change without the key). */
const rewrites: [string, (e: { messageId: string; sentAt: string }) => Record<string, string>][] = [
  ['sentAt one second later', (e) => ({ sentAt: later(e.sentAt, 1000) })],
  ['sentAt one millisecond earlier', (e) => ({ sentAt: later(e.sentAt, -1) })],
  ['sentAt the same instant written with +00:00', (e) => ({ sentAt: e.sentAt.replace('Z', '+00:00') })],
  ['sentAt years away', () => ({ sentAt: '2031-01-01T00:00:00.000Z' })],
  ['a new messageId', () => ({ messageId: randomUUID() })],
  ['a new messageId and sentAt', (e) => ({ messageId: randomUUID(), sentAt: later(e.sentAt, 60_000) })],
];

describe('a telemetry message is stored once, keyed on what it authenticates', () => {
  it('the same message delivered again (direct rule, then SQS) is one row, keyed <sentAt>#<Encryption SDK message id>', async () => {
    const event = await published();
    const sqs: SQSEvent = {
      Records: [{ ...sampleEvent<SQSEvent>('sqs-batch.json').Records[0], body: JSON.stringify(event) }],
    } as SQSEvent;

    await handler(event, ctx);
    await handler(event, ctx);
    await expect(batchHandler(sqs, ctx)).resolves.toEqual({ batchItemFailures: [] });

    const stored = await rows();
    expect(stored).toHaveLength(1);
    expect(stored[0]).toMatchObject({
      sk: `${event.sentAt}#${esdkIdOf(event)}`,
      messageId: event.messageId,
      esdkMessageId: esdkIdOf(event),
      sentAt: event.sentAt,
    });
  });

  it.each(rewrites)(
    're-sent with %s: the copy is dropped, the original stored once',
    async (_label, rewrite) => {
      const event = await published();
      const copy = { ...event, ...rewrite(event) };

      await handler(copy, ctx); // the copy first: it must not take the message's place either
      await handler(event, ctx);
      await handler(copy, ctx);

      const stored = await rows();
      expect(stored).toHaveLength(1);
      expect(stored[0]).toMatchObject({ messageId: event.messageId, sentAt: event.sentAt });
    },
  );

  it.each([
    ["on another thing's topic", { thingName: '1FTFW1ET5DFC10312_gw-9' }],
    ['on the command-results topic', { topicKind: 'command-results' }],
  ])(
    "re-published %s (thing and kind are the encryption context's): dropped, nothing stored",
    async (_l, move) => {
      const event = await published();

      await handler({ ...event, ...move }, ctx);

      const all = (await doc.send(new ScanCommand({ TableName: TELEMETRY_TABLE }))).Items ?? [];
      expect(all).toHaveLength(0);
      expect(kmsMock.commandCalls(DecryptCommand)).toHaveLength(0); // refused before any key is asked for
    },
  );

  it('a message whose sealed claims differ from its envelope (official SDK) is dropped before storing', async () => {
    const sealed = { messageId: randomUUID(), sentAt: '2026-12-03T09:00:00.000Z' };
    const cases = [
      await crafted({ sealed, envelope: { ...sealed, messageId: randomUUID() } }),
      await crafted({ sealed, envelope: { ...sealed, sentAt: '2026-12-03T09:00:01.000Z' } }),
      await crafted({ sealed, envelope: sealed, plaintext: JSON.stringify(reading) }), // a version 1 body
    ];

    for (const event of cases) await handler(event, ctx);

    expect(await rows()).toHaveLength(0);
    expect(kmsMock.commandCalls(DecryptCommand).length).toBeGreaterThan(0); // decrypted, then refused
  });

  it('a version 1 envelope is refused before any KMS call', async () => {
    const event = await published();

    await handler({ ...event, v: 1 }, ctx);

    expect(await rows()).toHaveLength(0);
    expect(kmsMock.commandCalls(DecryptCommand)).toHaveLength(0);
  });

  it('the same body encrypted twice is two messages (the ECU retransmits bytes, not readings)', async () => {
    const meta = { messageId: randomUUID(), sentAt: '2026-12-03T09:30:00.000Z' };
    const first = await crafted({ sealed: meta, envelope: meta });
    const second = await crafted({ sealed: meta, envelope: meta });

    await handler(first, ctx);
    await handler(second, ctx);

    expect(esdkIdOf(first)).not.toBe(esdkIdOf(second));
    expect((await rows()).map((r) => r.esdkMessageId).sort()).toEqual(
      [esdkIdOf(first), esdkIdOf(second)].sort(),
    );
  });
});

describe('a command result is applied once, by one message, and never flipped', () => {
  it('a replayed result (same message again) updates the command once', async () => {
    const commandId = await seedCommand();
    const event = await published('command-result', { commandId, status: 'SUCCEEDED' });

    await handler(event, ctx);
    const applied = await command(commandId);
    await handler(event, ctx);
    await handler(event, ctx);

    expect(applied).toMatchObject({ status: 'SUCCEEDED', resultMessageId: esdkIdOf(event) });
    expect(await command(commandId)).toEqual(applied); // completedAt and result untouched by the repeats
    expect(await rows()).toHaveLength(1);
  });

  it.each(rewrites)(
    'a result re-sent with %s is dropped: nothing stored, the command unchanged',
    async (_l, rewrite) => {
      const commandId = await seedCommand();
      const event = await published('command-result', { commandId, status: 'FAILED', detail: 'jammed' });
      const copy = { ...event, ...rewrite(event) };

      await handler(copy, ctx);
      expect(await command(commandId)).toMatchObject({ status: 'PENDING' });
      expect(await rows()).toHaveLength(0);

      await handler(event, ctx);
      const applied = await command(commandId);
      await handler(copy, ctx);

      expect(applied).toMatchObject({ status: 'FAILED', resultMessageId: esdkIdOf(event) });
      expect(await command(commandId)).toEqual(applied);
      expect(await rows()).toHaveLength(1);
    },
  );

  it('a second, different result for a completed command (e.g. an old SUCCEEDED held back) does not flip it', async () => {
    const commandId = await seedCommand();
    const held = await published('command-result', { commandId, status: 'SUCCEEDED' });
    const failed = await published('command-result', { commandId, status: 'FAILED', detail: 'door blocked' });

    await handler(failed, ctx);
    const completed = await command(commandId);
    await handler(held, ctx);
    await handler(held, ctx);

    expect(completed).toMatchObject({ status: 'FAILED', resultMessageId: esdkIdOf(failed) });
    expect(await command(commandId)).toEqual(completed);
  });
});

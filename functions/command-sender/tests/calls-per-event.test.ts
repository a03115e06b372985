/**
 * Issue 16: AWS calls per event, asserted (docs/performance.md, "AWS calls per event"). Every
 * client the handler constructs is mocked and every call counted, cold (a fresh module) and warm.
 */
import { DynamoDBClient, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { IoTDataPlaneClient, PublishCommand } from '@aws-sdk/client-iot-data-plane';
import { EncryptCommand, GetPublicKeyCommand, KMSClient, SignCommand } from '@aws-sdk/client-kms';
import {
  DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import type { APIGatewayProxyEvent } from 'aws-lambda';
import { type AwsStub, mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  ENCRYPTION_KEY_ARN,
  lambdaContext,
  loadEvent,
  loadHandler,
  localSigningKey,
  localSymmetricKms,
  SIGNING_KEY_ARN,
  SUB,
  VIN,
} from './helpers.js';

const kmsMock = mockClient(KMSClient);
const iotMock = mockClient(IoTDataPlaneClient);
const ddbMock = mockClient(DynamoDBDocumentClient);
const counterMock = mockClient(DynamoDBClient);
const key = localSigningKey();
const kms = localSymmetricKms();
const THING = `${VIN}_gw-0001`;

// biome-ignore lint/suspicious/noExplicitAny: a stub of any client
const names = (mock: AwsStub<any, any, any>) =>
  mock
    .calls()
    .map((c) => (c.args[0] as { constructor: { name: string } }).constructor.name.replace(/Command$/, ''));

/** Every AWS call since the last reset, per client (the document client: the tables' names too). */
function calls() {
  return {
    dynamodb: ddbMock.calls().map((c) => {
      const command = c.args[0] as { constructor: { name: string }; input: { TableName?: string } };
      const table = command.input.TableName?.replace('cv-security-dev-', '');
      return `${command.constructor.name.replace(/Command$/, '')}${table ? ` ${table}` : ''}`;
    }),
    counters: names(counterMock),
    kms: names(kmsMock),
    iot: names(iotMock),
  };
}

function resetHistory(): void {
  for (const m of [kmsMock, iotMock, ddbMock, counterMock]) m.resetHistory();
}

beforeEach(() => {
  for (const m of [kmsMock, iotMock, ddbMock, counterMock]) m.reset();
  kmsMock.on(GetPublicKeyCommand).resolves({
    KeyId: SIGNING_KEY_ARN,
    KeySpec: 'ECC_NIST_P256',
    KeyUsage: 'SIGN_VERIFY',
    PublicKey: key.spki,
    SigningAlgorithms: ['ECDSA_SHA_256'],
  });
  kmsMock.on(SignCommand).callsFake(async (input: { Message: Uint8Array }) => ({
    KeyId: SIGNING_KEY_ARN,
    Signature: key.signDigest(input.Message),
    SigningAlgorithm: 'ECDSA_SHA_256',
  }));
  kmsMock
    .on(EncryptCommand)
    .callsFake(async (input: { Plaintext: Uint8Array; EncryptionContext: Record<string, string> }) => ({
      KeyId: ENCRYPTION_KEY_ARN,
      CiphertextBlob: kms.encrypt(input.Plaintext, input.EncryptionContext),
    }));
  iotMock.on(PublishCommand).resolves({});
  counterMock.on(UpdateItemCommand).resolves({});
  ddbMock.on(QueryCommand).resolves({
    Items: [{ vin: VIN, ecuId: 'gw-0001', role: 'gateway', status: 'ACTIVE', thingName: THING }],
  });
  ddbMock
    .on(GetCommand, { TableName: 'cv-security-dev-vehicle-access' })
    .resolves({ Item: { userSub: SUB, vin: VIN, role: 'owner', commands: ['*'] } });
  ddbMock.on(PutCommand).resolves({});
  ddbMock
    .on(UpdateCommand)
    .callsFake(async (input: { ExpressionAttributeValues: Record<string, unknown> }) => ({
      Attributes: { targetCommandId: input.ExpressionAttributeValues[':commandId'] },
    }));
});
afterEach(() => {
  vi.unstubAllEnvs();
});

function post(headers: Record<string, string | undefined> = {}): APIGatewayProxyEvent {
  const event = loadEvent('post-command');
  return { ...event, headers: { ...event.headers, ...headers } as Record<string, string> };
}

describe('command-sender: AWS calls per event', () => {
  it('POST with an Idempotency-Key: cold DynamoDB 5 (row before publish, key completed after), KMS 3, IoT 1, counter 1; warm the same without GetPublicKey', async () => {
    const { handler } = await loadHandler();

    expect((await handler(post({ 'Idempotency-Key': 'k-1' }), lambdaContext())).statusCode).toBe(202);
    const cold = calls();
    resetHistory();
    expect((await handler(post({ 'Idempotency-Key': 'k-2' }), lambdaContext())).statusCode).toBe(202);
    const warm = calls();

    const dynamodb = [
      'Get vehicle-access',
      'Query ecu-registry',
      'Update commands',
      'Put commands',
      'Update commands',
    ];
    // Published between the PENDING row and the completion of the idempotency record.
    expect(cold).toEqual({
      dynamodb,
      counters: ['UpdateItem'],
      kms: ['GetPublicKey', 'Sign', 'Encrypt'],
      iot: ['Publish'],
    });
    expect(warm).toEqual({ dynamodb, counters: ['UpdateItem'], kms: ['Sign', 'Encrypt'], iot: ['Publish'] });
  });

  it('POST without an Idempotency-Key: no claim, the PENDING row with one Put', async () => {
    const { handler } = await loadHandler();
    await handler(post(), lambdaContext());
    resetHistory();

    expect((await handler(post({ 'Idempotency-Key': undefined }), lambdaContext())).statusCode).toBe(202);

    expect(calls()).toEqual({
      dynamodb: ['Get vehicle-access', 'Query ecu-registry', 'Put commands'],
      counters: ['UpdateItem'],
      kms: ['Sign', 'Encrypt'],
      iot: ['Publish'],
    });
  });

  it('GET a command: the caller vehicle-access row again, then the command row; nothing else', async () => {
    ddbMock
      .on(GetCommand, { TableName: 'cv-security-dev-commands' })
      .resolves({ Item: { commandId: 'x', vin: VIN, status: 'PENDING', expiresAt: '2999-01-01T00:00:00Z' } });
    const { handler } = await loadHandler();

    expect((await handler(loadEvent('get-command'), lambdaContext())).statusCode).toBe(200);

    expect(calls()).toEqual({
      dynamodb: ['Get vehicle-access', 'Get commands'],
      counters: [],
      kms: [],
      iot: [],
    });
  });
});

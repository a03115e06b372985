import { ConditionalCheckFailedException, DynamoDBClient, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { IoTDataPlaneClient, PublishCommand } from '@aws-sdk/client-iot-data-plane';
import {
  DecryptCommand,
  EncryptCommand,
  GetPublicKeyCommand,
  KMSClient,
  SignCommand,
} from '@aws-sdk/client-kms';
import {
  DeleteCommand,
  DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { createCommandDecoder, InMemoryReplayCache } from '@cv/crypto/command';
import type { APIGatewayProxyEvent } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { compactVerify, decodeProtectedHeader } from 'jose';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  captureOutput,
  ENCRYPTION_KEY_ARN,
  ENV,
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
// behaviour-detector's counters: the raw client (ADD), not the document client.
const counterMock = mockClient(DynamoDBClient);
const key = localSigningKey();
const kms = localSymmetricKms();
const THING = `${VIN}_gw-0001`;

function kmsCalls() {
  return kmsMock.calls().map((c) => (c.args[0] as { constructor: { name: string } }).constructor.name);
}

beforeEach(() => {
  kmsMock.reset();
  iotMock.reset();
  ddbMock.reset();
  kmsMock.on(GetPublicKeyCommand).resolves({
    KeyId: SIGNING_KEY_ARN,
    KeySpec: 'ECC_NIST_P256',
    KeyUsage: 'SIGN_VERIFY',
    PublicKey: key.spki,
    SigningAlgorithms: ['ECDSA_SHA_256'],
  });
  kmsMock
    .on(SignCommand)
    .callsFake(async (input: { Message: Uint8Array; MessageType: string; SigningAlgorithm: string }) => {
      if (
        input.MessageType !== 'DIGEST' ||
        input.SigningAlgorithm !== 'ECDSA_SHA_256' ||
        input.Message.length !== 32
      ) {
        throw new Error('unexpected Sign input');
      }
      return {
        KeyId: SIGNING_KEY_ARN,
        Signature: key.signDigest(input.Message),
        SigningAlgorithm: 'ECDSA_SHA_256',
      };
    });
  kmsMock
    .on(EncryptCommand)
    .callsFake(async (input: { Plaintext: Uint8Array; EncryptionContext: Record<string, string> }) => ({
      KeyId: ENCRYPTION_KEY_ARN,
      CiphertextBlob: kms.encrypt(input.Plaintext, input.EncryptionContext),
    }));
  iotMock.on(PublishCommand).resolves({});
  ddbMock.on(QueryCommand).resolves({
    Items: [
      { vin: VIN, ecuId: 'body-0002', role: 'body', status: 'ACTIVE', thingName: `${VIN}_body-0002` },
      { vin: VIN, ecuId: 'gw-0001', role: 'gateway', status: 'ACTIVE', thingName: THING },
    ],
  });
  ddbMock
    .on(GetCommand, { TableName: 'cv-security-dev-vehicle-access' })
    .resolves({ Item: { userSub: SUB, vin: VIN, role: 'owner', commands: ['*'] } });
  ddbMock.on(PutCommand).resolves({});
  ddbMock.on(DeleteCommand).resolves({});
  ddbMock
    .on(UpdateCommand)
    .callsFake(async (input: { ExpressionAttributeValues: Record<string, unknown> }) => ({
      Attributes: { targetCommandId: input.ExpressionAttributeValues[':commandId'] },
    }));
});
afterEach(() => {
  vi.unstubAllEnvs();
});

function post(body: unknown, headers: Record<string, string> = {}): APIGatewayProxyEvent {
  const event = loadEvent('post-command');
  return { ...event, body: JSON.stringify(body), headers: { ...event.headers, ...headers } };
}

describe('command-sender handler (POST)', () => {
  it('counts the published command for behaviour-detector: one ADD received 1 to the ECU hour, in BEHAVIOUR_TABLE', async () => {
    const { handler } = await loadHandler();

    const res = await handler(loadEvent('post-command'), lambdaContext());

    expect(res.statusCode).toBe(202);
    const counted = counterMock.commandCalls(UpdateItemCommand).map((c) => c.args[0].input);
    expect(counted).toHaveLength(1);
    expect(counted[0]).toMatchObject({
      TableName: 'cv-security-dev-behaviour',
      Key: { thingName: { S: THING } },
      ExpressionAttributeValues: { ':received': { N: '1' } },
    });
  });

  it('publishes a payload the ECU decoder accepts and jose verifies; encryption context and MQTT 5 properties match', async () => {
    const order: string[] = [];
    iotMock.on(PublishCommand).callsFake(async () => {
      order.push('publish');
      return {};
    });
    ddbMock.on(PutCommand).callsFake(async () => {
      order.push('row');
      return {};
    });
    const { handler } = await loadHandler();

    const res = await handler(loadEvent('post-command'), lambdaContext());

    expect(res.statusCode).toBe(202);
    // The row first: the ECU's result may reach telemetry-ingest before this function returns.
    expect(order).toEqual(['row', 'publish']);
    const body = JSON.parse(res.body) as { commandId: string; status: string; expiresAt: string };
    expect(body.status).toBe('PENDING');
    const publish = iotMock.commandCalls(PublishCommand)[0]?.args[0].input;
    expect(publish).toMatchObject({
      topic: `ecus/${THING}/commands`,
      qos: 1,
      retain: false,
      contentType: 'application/json',
      payloadFormatIndicator: 'UTF8_DATA',
      responseTopic: `ecus/${THING}/command-results`,
      correlationData: Buffer.from(body.commandId).toString('base64'),
      messageExpiry: 120,
    });
    const encrypt = kmsMock.commandCalls(EncryptCommand)[0]?.args[0].input;
    expect(encrypt?.KeyId).toBe('alias/cv-security-dev-command-encryption');
    expect(kmsMock.commandCalls(SignCommand)[0]?.args[0].input.KeyId).toBe(
      'alias/cv-security-dev-command-signing',
    );
    expect(JSON.parse(new TextDecoder().decode(publish?.payload as Uint8Array)).keyId).toBe(
      ENCRYPTION_KEY_ARN,
    );
    expect(encrypt?.EncryptionContext).toEqual({ aud: THING, jti: body.commandId });

    const payload = new TextDecoder().decode(publish?.payload as Uint8Array);
    const decode = createCommandDecoder({
      thingName: THING,
      keys: [{ keyId: SIGNING_KEY_ARN, publicKey: key.spki }],
      decrypt: async (ciphertext, context) => kms.decrypt(ciphertext, context),
      replayCache: new InMemoryReplayCache(),
      issuer: 'cv-security:dev',
    });
    const { claims } = await decode(payload);
    expect(claims).toMatchObject({
      sub: SUB,
      aud: THING,
      jti: body.commandId,
      cmd: 'engine.start',
      args: { durationMin: 10 },
    });

    const envelope = JSON.parse(payload) as { ciphertext: string };
    const jws = new TextDecoder().decode(
      kms.decrypt(Buffer.from(envelope.ciphertext, 'base64'), { aud: THING, jti: body.commandId }),
    );
    expect(decodeProtectedHeader(jws)).toEqual({ alg: 'ES256', kid: SIGNING_KEY_ARN, typ: 'cv-command+jws' });
    await expect(compactVerify(jws, key.publicKey, { algorithms: ['ES256'] })).resolves.toBeDefined();

    expect(ddbMock.commandCalls(PutCommand)[0]?.args[0].input.Item).toMatchObject({
      commandId: body.commandId,
      status: 'PENDING',
      vin: VIN,
      thingName: THING,
      requestedBy: SUB,
    });
    // The idempotency record completed with the response, after the publish.
    const completion = ddbMock.commandCalls(UpdateCommand).at(-1)?.args[0].input;
    expect(completion?.ExpressionAttributeValues?.[':response']).toEqual(body);
  });

  it('KMS calls per command: 3 cold (GetPublicKey + Sign + Encrypt), 2 warm (Sign + Encrypt)', async () => {
    const { handler } = await loadHandler();

    await handler(post({ command: 'door.lock' }), lambdaContext());
    const cold = kmsCalls();
    kmsMock.resetHistory();
    await handler(post({ command: 'door.lock' }), lambdaContext());
    const warm = kmsCalls();

    expect(cold).toEqual(['GetPublicKeyCommand', 'SignCommand', 'EncryptCommand']);
    expect(warm).toEqual(['SignCommand', 'EncryptCommand']);
    expect(kmsMock.commandCalls(DecryptCommand)).toHaveLength(0);
  });

  it('a retry with the same Idempotency-Key publishes once and returns the stored response', async () => {
    const { handler } = await loadHandler();
    const first = await handler(loadEvent('post-command'), lambdaContext());
    const stored = JSON.parse(first.body) as Record<string, unknown>;
    const claim = ddbMock.commandCalls(UpdateCommand)[0]?.args[0].input;
    ddbMock
      .on(UpdateCommand)
      .rejects(new ConditionalCheckFailedException({ message: 'exists', $metadata: {} }));
    ddbMock.on(GetCommand, { TableName: 'cv-security-dev-commands' }).resolves({
      Item: {
        commandId: claim?.Key?.commandId,
        kind: 'idempotency',
        status: 'COMPLETED',
        requestHash: claim?.ExpressionAttributeValues?.[':hash'],
        response: stored,
      },
    });

    const second = await handler(loadEvent('post-command'), lambdaContext());

    expect(second.statusCode).toBe(202);
    expect(JSON.parse(second.body)).toEqual(stored);
    expect(second.headers?.['idempotent-replayed']).toBe('true');
    expect(iotMock.commandCalls(PublishCommand)).toHaveLength(1);
    expect(kmsMock.commandCalls(SignCommand)).toHaveLength(1);
    expect(String(claim?.Key?.commandId)).toMatch(/^idempotency#[0-9a-f]{64}$/);
    expect(JSON.stringify(claim)).not.toContain('app-7c1e9d2a-0001');
  });

  it('a retry while another attempt holds the Idempotency-Key: 409 request_in_progress with Retry-After at the lease end, nothing signed or published', async () => {
    const { handler } = await loadHandler();
    let requestHash: unknown;
    ddbMock.on(UpdateCommand).callsFake((input: { ExpressionAttributeValues?: Record<string, unknown> }) => {
      requestHash = input.ExpressionAttributeValues?.[':hash'];
      throw new ConditionalCheckFailedException({ message: 'exists', $metadata: {} });
    });
    ddbMock.on(GetCommand, { TableName: 'cv-security-dev-commands' }).callsFake(() => ({
      Item: {
        kind: 'idempotency',
        status: 'IN_PROGRESS',
        requestHash,
        inProgressUntil: Math.floor(Date.now() / 1000) + 30,
      },
    }));

    const res = await handler(loadEvent('post-command'), lambdaContext());

    expect(res.statusCode).toBe(409);
    expect(JSON.parse(res.body)).toMatchObject({ error: 'request_in_progress' });
    expect(res.headers?.['Retry-After']).toMatch(/^(30|31)$/);
    expect(kmsMock.commandCalls(SignCommand)).toHaveLength(0);
    expect(iotMock.commandCalls(PublishCommand)).toHaveLength(0);
    expect(ddbMock.commandCalls(PutCommand)).toHaveLength(0);
  });

  const rejections: Array<[string, APIGatewayProxyEvent, number]> = [
    ['unknown command', post({ command: 'trunk.open' }), 400],
    ['bad args', post({ command: 'engine.start', args: { durationMin: 60 } }), 400],
    ['extra args', post({ command: 'door.lock', args: { x: 1 } }), 400],
    ['malformed JSON', { ...post({}), body: '{"command":' }, 400],
    [
      'a VIN the user may not command',
      { ...post({ command: 'door.lock' }), pathParameters: { vin: '2HGCM82633A004352' } },
      403,
    ],
    ['a command the user lacks', post({ command: 'horn.flash' }), 403],
    ['an ecuId of another vehicle', post({ command: 'door.lock', ecuId: 'gw-9999' }), 403],
    [
      'no authorizer context',
      { ...post({ command: 'door.lock' }), requestContext: { ...post({}).requestContext, authorizer: null } },
      403,
    ],
    ['a bad Idempotency-Key', post({ command: 'door.lock' }, { 'Idempotency-Key': 'has spaces' }), 400],
  ];
  it.each(rejections)(
    '%s -> 4xx with nothing signed, encrypted, published or stored',
    async (_n, event, status) => {
      ddbMock.on(QueryCommand).resolves({ Items: [] });
      const { handler } = await loadHandler();

      const res = await handler(event, lambdaContext());

      expect(res.statusCode).toBe(status);
      expect(kmsMock.commandCalls(SignCommand)).toHaveLength(0);
      expect(kmsMock.commandCalls(EncryptCommand)).toHaveLength(0);
      expect(iotMock.commandCalls(PublishCommand)).toHaveLength(0);
      expect(ddbMock.commandCalls(PutCommand)).toHaveLength(0);
      expect(ddbMock.commandCalls(UpdateCommand)).toHaveLength(0);
    },
  );

  it.each([
    ['KMS Sign', () => kmsMock.on(SignCommand).rejects(new Error('KMSInternalException'))],
    ['KMS GetPublicKey', () => kmsMock.on(GetPublicKeyCommand).rejects(new Error('KMSInternalException'))],
    ['KMS Encrypt', () => kmsMock.on(EncryptCommand).rejects(new Error('KMSInternalException'))],
    ['PENDING row write', () => ddbMock.on(PutCommand).rejects(new Error('InternalServerError'))],
  ])('a %s failure -> generic 5xx, nothing published, idempotency record released', async (_n, fail) => {
    fail();
    const { handler } = await loadHandler();

    const res = await handler(loadEvent('post-command'), lambdaContext());

    expect(res.statusCode).toBe(500);
    expect(JSON.parse(res.body)).toEqual({ error: 'internal', message: 'Internal error' });
    expect(iotMock.commandCalls(PublishCommand)).toHaveLength(0);
    expect(ddbMock.commandCalls(DeleteCommand)).toHaveLength(0);
    const updates = ddbMock
      .commandCalls(UpdateCommand)
      .map((c) => c.args[0].input.ExpressionAttributeValues?.[':failed']);
    expect(updates).toEqual(['FAILED', 'FAILED']); // claim (condition value) and release
  });

  it('an IoT Publish failure -> generic 5xx, the PENDING row withdrawn (only while PENDING), the key released', async () => {
    iotMock.on(PublishCommand).rejects(new Error('InternalFailureException'));
    const { handler } = await loadHandler();

    const res = await handler(loadEvent('post-command'), lambdaContext());

    expect(res.statusCode).toBe(500);
    expect(JSON.parse(res.body)).toEqual({ error: 'internal', message: 'Internal error' });
    const row = ddbMock.commandCalls(PutCommand)[0]?.args[0].input.Item as { commandId: string };
    const withdraw = ddbMock.commandCalls(DeleteCommand).map((c) => c.args[0].input);
    expect(withdraw).toEqual([
      expect.objectContaining({
        Key: { commandId: row.commandId },
        ConditionExpression: '#status = :pending',
        ExpressionAttributeValues: { ':pending': 'PENDING' },
      }),
    ]);
    const updates = ddbMock
      .commandCalls(UpdateCommand)
      .map((c) => c.args[0].input.ExpressionAttributeValues?.[':failed'] ?? c.args[0].input.UpdateExpression);
    expect(updates).toEqual(['FAILED', 'FAILED']); // claim and release: never COMPLETED
  });

  it('KMS Sign throttling that survives retries -> 503 with Retry-After, nothing published or stored', async () => {
    kmsMock.on(SignCommand).rejects(
      Object.assign(new Error('Rate exceeded'), {
        name: 'ThrottlingException',
        $retryable: { throttling: true },
        $metadata: { httpStatusCode: 400 },
      }),
    );
    const { handler } = await loadHandler();
    const res = await handler(post({ command: 'door.lock' }), lambdaContext());
    expect(res.statusCode).toBe(503);
    expect(iotMock.commandCalls(PublishCommand)).toHaveLength(0);
    expect(ddbMock.commandCalls(PutCommand)).toHaveLength(0);
  });

  it('IoT throttling that survives retries -> 503 with Retry-After, the row withdrawn', async () => {
    iotMock.on(PublishCommand).rejects(
      Object.assign(new Error('Rate exceeded'), {
        name: 'ThrottlingException',
        $retryable: { throttling: true },
        $metadata: { httpStatusCode: 429 },
      }),
    );
    const { handler } = await loadHandler();
    const res = await handler(post({ command: 'door.lock' }), lambdaContext());
    expect(res.statusCode).toBe(503);
    expect(res.headers?.['Retry-After']).toBe('1');
    expect(ddbMock.commandCalls(PutCommand)).toHaveLength(1);
    expect(ddbMock.commandCalls(DeleteCommand)).toHaveLength(1);
  });

  it('fails at cold start naming a missing variable', async () => {
    vi.resetModules();
    for (const [k, v] of Object.entries(ENV)) vi.stubEnv(k, v);
    vi.stubEnv('COMMAND_SIGNING_KEY_ID', '');
    await expect(import('../src/handler.js')).rejects.toThrow(/COMMAND_SIGNING_KEY_ID/);
  });
});

describe('command-sender logging', () => {
  it('at DEBUG, logs carry neither the JWS, the ciphertext, the bearer token nor the command arguments', async () => {
    const { handler } = await loadHandler({ LOG_LEVEL: 'DEBUG', POWERTOOLS_METRICS_DISABLED: 'false' });
    const event = loadEvent('post-command');
    const output = await captureOutput(async () => {
      await handler(event, lambdaContext());
      await handler(post({ command: 'trunk.open' }), lambdaContext());
    });
    const payload = new TextDecoder().decode(
      iotMock.commandCalls(PublishCommand)[0]?.args[0].input.payload as Uint8Array,
    );
    const { ciphertext } = JSON.parse(payload) as { ciphertext: string };
    expect(output).toContain('command accepted');
    expect(output).not.toContain(ciphertext.slice(0, 40));
    expect(output).not.toMatch(/eyJ[A-Za-z0-9_-]{10,}\./);
    expect(output).not.toContain(String(event.headers.Authorization).slice(7));
    expect(output).not.toContain('durationMin');
  });
});

describe('command-sender handler (vehicle access re-read)', () => {
  it("reads the caller's own vehicle-access row, strongly consistent, on every request", async () => {
    const { handler } = await loadHandler();
    expect((await handler(loadEvent('post-command'), lambdaContext())).statusCode).toBe(202);
    const reads = ddbMock
      .commandCalls(GetCommand)
      .map((c) => c.args[0].input)
      .filter((i) => i.TableName === 'cv-security-dev-vehicle-access');
    expect(reads).toEqual([
      { TableName: 'cv-security-dev-vehicle-access', Key: { userSub: SUB, vin: VIN }, ConsistentRead: true },
    ]);
  });

  it('the authorizer context still lists the vehicle but the row is gone -> 403, no KMS, no publish, no row', async () => {
    ddbMock.on(GetCommand, { TableName: 'cv-security-dev-vehicle-access' }).resolves({});
    const { handler } = await loadHandler();
    const res = await handler(loadEvent('post-command'), lambdaContext());
    expect(res.statusCode).toBe(403);
    expect(kmsMock.calls()).toHaveLength(0);
    expect(iotMock.calls()).toHaveLength(0);
    expect(ddbMock.commandCalls(PutCommand)).toHaveLength(0);
    expect(ddbMock.commandCalls(UpdateCommand)).toHaveLength(0);
  });
});

describe('command-sender handler (GET)', () => {
  it('returns the row for a vehicle the caller may command', async () => {
    ddbMock.on(GetCommand, { TableName: 'cv-security-dev-commands' }).resolves({
      Item: {
        commandId: '3b241101-e2bb-4255-8caf-4136c566a962',
        vin: VIN,
        thingName: THING,
        command: 'door.lock',
        args: {},
        requestedBy: SUB,
        status: 'SUCCEEDED',
        createdAt: '2026-11-25T09:00:00.000Z',
        expiresAt: '2026-11-25T09:02:00.000Z',
        result: { detail: 'locked' },
        ttl: 1,
      },
    });
    const { handler } = await loadHandler();
    const res = await handler(loadEvent('get-command'), lambdaContext());
    expect(res.statusCode).toBe(200);
    expect(JSON.parse(res.body)).toMatchObject({ status: 'SUCCEEDED', result: { detail: 'locked' } });
  });

  it('404 for a command of another vehicle; 403 (no read) for a vehicle the caller may not command', async () => {
    ddbMock
      .on(GetCommand, { TableName: 'cv-security-dev-commands' })
      .resolves({ Item: { commandId: 'x', vin: '5YJ3E1EA7KF317000', status: 'PENDING' } });
    const { handler } = await loadHandler();
    expect((await handler(loadEvent('get-command'), lambdaContext())).statusCode).toBe(404);
    ddbMock.resetHistory();
    const event = loadEvent('get-command');
    const forbidden = {
      ...event,
      pathParameters: { vin: '2HGCM82633A004352', commandId: '3b241101-e2bb-4255-8caf-4136c566a962' },
    };
    expect((await handler(forbidden, lambdaContext())).statusCode).toBe(403);
    expect(ddbMock.commandCalls(GetCommand)).toHaveLength(0);
  });
});

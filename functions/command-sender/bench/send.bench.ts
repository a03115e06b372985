/**
 * In-process cost of one command through the real handler with zero-latency AWS stubs
 * (aws-sdk-client-mock): parsing, permission, target lookup, JWS + DER->JOSE, envelope,
 * SDK command construction and middleware. KMS and IoT latency are excluded.
 * Run: `pnpm vitest bench --run --project @cv/command-sender`.
 */
import { generateKeyPairSync, sign } from 'node:crypto';
import { IoTDataPlaneClient, PublishCommand } from '@aws-sdk/client-iot-data-plane';
import { EncryptCommand, GetPublicKeyCommand, KMSClient, SignCommand } from '@aws-sdk/client-kms';
import { DynamoDBDocumentClient, PutCommand, QueryCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { APIGatewayProxyEvent } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { bench, describe } from 'vitest';
import { ENV, lambdaContext, loadEvent, SIGNING_KEY_ARN, VIN } from '../tests/helpers.js';

Object.assign(process.env, ENV);
const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const der = new Uint8Array(sign('sha256', Buffer.from('bench'), privateKey));

const kms = mockClient(KMSClient);
const iot = mockClient(IoTDataPlaneClient);
const ddb = mockClient(DynamoDBDocumentClient);
kms.on(GetPublicKeyCommand).resolves({
  KeyId: SIGNING_KEY_ARN,
  KeySpec: 'ECC_NIST_P256',
  KeyUsage: 'SIGN_VERIFY',
  PublicKey: new Uint8Array(publicKey.export({ format: 'der', type: 'spki' })),
  SigningAlgorithms: ['ECDSA_SHA_256'],
});
kms.on(SignCommand).resolves({ Signature: der });
kms.on(EncryptCommand).resolves({ CiphertextBlob: new Uint8Array(512) });
iot.on(PublishCommand).resolves({});
ddb.on(QueryCommand).resolves({
  Items: [{ vin: VIN, ecuId: 'gw-0001', role: 'gateway', status: 'ACTIVE', thingName: `${VIN}_gw-0001` }],
});
ddb.on(PutCommand).resolves({});
ddb.on(UpdateCommand).callsFake(async (input: { ExpressionAttributeValues: Record<string, unknown> }) => ({
  Attributes: { targetCommandId: input.ExpressionAttributeValues[':commandId'] },
}));

const { handler } = await import('../src/handler.js');
const base = loadEvent('post-command');
const plain: APIGatewayProxyEvent = { ...base, headers: { ...base.headers, 'Idempotency-Key': '' } };
delete (plain.headers as Record<string, string | undefined>)['Idempotency-Key'];
const context = lambdaContext();
await handler(plain, context); // warm the container (GetPublicKey cached)

describe('command-sender handler, zero-latency stubs', () => {
  bench('POST /vehicles/{vin}/commands (no Idempotency-Key)', async () => {
    const res = await handler(plain, context);
    if (res.statusCode !== 202) throw new Error(res.body);
  });
  bench('POST /vehicles/{vin}/commands (with Idempotency-Key)', async () => {
    const res = await handler(base, context);
    if (res.statusCode !== 202) throw new Error(res.body);
  });
  bench('raw crypto.sign(sha256) P-256 [baseline]', () => {
    sign('sha256', Buffer.alloc(300, 1), privateKey);
  });
});

/**
 * COGNITO_JWKS_URI (stage local only): the user pool's JWKS comes from the local cloud on a
 * loopback port, every other check stays Cognito's. Any non-loopback URL fails at cold start.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { DynamoDBDocumentClient, GetCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { loadConfig } from '../src/config.js';
import { ENV, lambdaContext, SUB, tokenFactory, VIN_A, withAuthorization } from './helpers.js';

const ddb = mockClient(DynamoDBDocumentClient);
let tf: Awaited<ReturnType<typeof tokenFactory>>;
let server: Server;
let jwksUri: string;
let served = 0;

beforeAll(async () => {
  tf = await tokenFactory();
  server = createServer((req, res) => {
    if (req.url !== '/pool/.well-known/jwks.json') return void res.writeHead(404).end();
    served += 1;
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(tf.jwks));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  jwksUri = `http://127.0.0.1:${(server.address() as AddressInfo).port}/pool/.well-known/jwks.json`;
  ddb
    .on(GetCommand)
    .callsFake((input: { Key: { userSub: string; vin: string } }) =>
      input.Key.userSub === SUB && input.Key.vin === VIN_A
        ? { Item: { userSub: SUB, vin: VIN_A, role: 'owner', commands: ['*'] } }
        : {},
    );
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));
afterEach(() => vi.unstubAllEnvs());

async function loadWithJwks(uri: string) {
  vi.resetModules();
  for (const [k, v] of Object.entries({ ...ENV, COGNITO_JWKS_URI: uri })) vi.stubEnv(k, v);
  return (await import('../src/handler.js')).handler;
}

describe('COGNITO_JWKS_URI', () => {
  it('a token signed by the local issuer is verified against the loopback JWKS and allowed', async () => {
    const handler = await loadWithJwks(jwksUri);
    const before = served;
    const result = await handler(withAuthorization(`Bearer ${await tf.token()}`), lambdaContext());
    expect(result.policyDocument.Statement[0]?.Effect).toBe('Allow');
    expect(served - before).toBe(1);
  });

  it('still checks the signature: a token signed by another key is Unauthorized', async () => {
    const other = await tokenFactory();
    const handler = await loadWithJwks(jwksUri);
    await expect(
      handler(withAuthorization(`Bearer ${await other.token()}`), lambdaContext()),
    ).rejects.toThrow(/^Unauthorized$/);
  });

  it('an unreachable JWKS fails closed (Unauthorized, nothing looked up)', async () => {
    ddb.resetHistory();
    const handler = await loadWithJwks('http://127.0.0.1:1/pool/.well-known/jwks.json');
    await expect(handler(withAuthorization(`Bearer ${await tf.token()}`), lambdaContext())).rejects.toThrow(
      /^Unauthorized$/,
    );
    expect(ddb.calls()).toHaveLength(0);
  });

  it.each([
    'https://cognito-idp.eu-west-1.amazonaws.com/pool/.well-known/jwks.json',
    'http://127.0.0.1.attacker.example/jwks.json',
    'http://localhost@evil.example/jwks.json',
    'http://10.0.0.1/jwks.json',
    'file:///etc/passwd',
    '',
  ])('accepts only a loopback URL, not %j', (uri) => {
    expect(() => loadConfig({ ...ENV, COGNITO_JWKS_URI: uri })).toThrow(/COGNITO_JWKS_URI/);
  });

  it('is unset in the deployed configuration (Cognito itself serves the JWKS)', () => {
    expect(loadConfig(ENV).jwksUri).toBeUndefined();
  });
});

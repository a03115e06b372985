import { DynamoDBDocumentClient, QueryCommand } from '@aws-sdk/lib-dynamodb';
import type { APIGatewayAuthorizerResult, Statement } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { generateKeyPair } from 'jose';
import { afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  CLIENT_ID,
  captureOutput,
  lambdaContext,
  loadEvent,
  loadHandler,
  OTHER_CLIENT_ID,
  resourceMatches,
  SCOPE,
  SUB,
  tokenFactory,
  VIN_A,
  VIN_B,
  VIN_C,
  withAuthorization,
} from './helpers.js';

const ddb = mockClient(DynamoDBDocumentClient);
let tf: Awaited<ReturnType<typeof tokenFactory>>;
const ARN_BASE = 'arn:aws:execute-api:eu-west-1:111122223333:r1e2s3t4u5/dev';

beforeAll(async () => {
  tf = await tokenFactory();
});
beforeEach(() => {
  ddb.reset();
  ddb.on(QueryCommand).resolves({
    Items: [
      { userSub: SUB, vin: VIN_A, role: 'owner', commands: ['*'] },
      {
        userSub: SUB,
        vin: VIN_B,
        role: 'driver',
        commands: ['door.lock', 'door.unlock'],
        validUntil: tf.now + 86_400,
      },
      { userSub: SUB, vin: VIN_C, role: 'driver', commands: ['*'], validUntil: tf.now - 1 },
    ],
  });
});
afterEach(() => {
  vi.unstubAllEnvs();
});

async function invoke(authorization: string | undefined, event = loadEvent()) {
  const { handler, verifier } = await loadHandler();
  verifier.cacheJwks(tf.jwks);
  const e = authorization === undefined ? event : withAuthorization(authorization, event);
  return handler(e, lambdaContext());
}

function statements(result: APIGatewayAuthorizerResult): Statement[] {
  return result.policyDocument.Statement;
}
function resources(result: APIGatewayAuthorizerResult): string[] {
  return statements(result).flatMap((s) => ('Resource' in s ? [s.Resource ?? []].flat() : []));
}

describe('command-authorizer', () => {
  it('a valid access token: Allow on exactly the permitted vehicles, context with sub and commands', async () => {
    const result = await invoke(`Bearer ${await tf.token()}`);

    expect(result.principalId).toBe(SUB);
    expect(statements(result).map((s) => s.Effect)).toEqual(['Allow']);
    expect(resources(result).sort()).toEqual(
      [
        `${ARN_BASE}/GET/vehicles/${VIN_A}/commands/*`,
        `${ARN_BASE}/GET/vehicles/${VIN_B}/commands/*`,
        `${ARN_BASE}/POST/vehicles/${VIN_A}/commands`,
        `${ARN_BASE}/POST/vehicles/${VIN_B}/commands`,
      ].sort(),
    );
    expect(result.context).toMatchObject({ sub: SUB });
    expect(JSON.parse(String(result.context?.vehicles))).toEqual({
      [VIN_A]: ['*'],
      [VIN_B]: ['door.lock', 'door.unlock'],
    });
    expect(JSON.parse(String(result.context?.validUntil))).toEqual({ [VIN_B]: tf.now + 86_400 });
    expect(result.context?.tokenExp).toBe(tf.now + 3600);
    for (const v of Object.values(result.context ?? {}))
      expect(['string', 'number', 'boolean']).toContain(typeof v);
    const query = ddb.commandCalls(QueryCommand)[0]?.args[0].input;
    expect(query).toMatchObject({
      TableName: 'cv-security-dev-vehicle-access',
      ExpressionAttributeValues: { ':sub': SUB },
    });
  });

  it('a user with vehicles A and B never gets a policy covering C (any method, any path), nor a wildcard over vehicles', async () => {
    const result = await invoke(`Bearer ${await tf.token()}`);
    const rs = resources(result);
    for (const method of ['POST', 'GET', 'PUT', 'DELETE']) {
      for (const path of [
        `vehicles/${VIN_C}/commands`,
        `vehicles/${VIN_C}/commands/x`,
        `vehicles/${VIN_A}x/commands`,
      ]) {
        expect(rs.some((r) => resourceMatches(r, `${ARN_BASE}/${method}/${path}`))).toBe(false);
      }
    }
    expect(rs.every((r) => /\/vehicles\/[A-HJ-NPR-Z0-9]{17}\/commands(\/\*)?$/.test(r))).toBe(true);
    expect(rs.some((r) => resourceMatches(r, `${ARN_BASE}/POST/vehicles/${VIN_A}/commands`))).toBe(true);
    expect(
      rs.some((r) =>
        resourceMatches(r, `${ARN_BASE}/GET/vehicles/${VIN_B}/commands/3b241101-e2bb-4255-8caf-4136c566a962`),
      ),
    ).toBe(true);
  });

  it('a user without vehicles (or only expired ones) gets a Deny', async () => {
    ddb
      .on(QueryCommand)
      .resolves({ Items: [{ userSub: SUB, vin: VIN_C, commands: ['*'], validUntil: tf.now - 10 }] });
    const result = await invoke(`Bearer ${await tf.token()}`);
    expect(statements(result).map((s) => s.Effect)).toEqual(['Deny']);
    expect(result.context).toBeUndefined();
  });

  it('malformed rows are dropped, never widened', async () => {
    ddb.on(QueryCommand).resolves({
      Items: [
        { userSub: SUB, vin: '*', commands: ['*'] },
        { userSub: SUB, vin: VIN_C, commands: 'door.lock' },
        { userSub: 'someone-else', vin: VIN_C, commands: ['*'] },
        { userSub: SUB, vin: VIN_A, commands: ['door.lock'] },
      ],
    });
    const result = await invoke(`Bearer ${await tf.token()}`);
    expect(resources(result)).toHaveLength(2);
    expect(resources(result).every((r) => r.includes(VIN_A))).toBe(true);
  });

  const rejected: Array<[string, () => Promise<string | undefined>]> = [
    ['an expired token', async () => `Bearer ${await tf.token({ exp: tf.now - 5 })}`],
    ['a token not yet valid', async () => `Bearer ${await tf.token({ nbf: tf.now + 600 })}`],
    [
      'an id token',
      async () => `Bearer ${await tf.token({ token_use: 'id', aud: CLIENT_ID, client_id: undefined })}`,
    ],
    ['a token of another client', async () => `Bearer ${await tf.token({ client_id: OTHER_CLIENT_ID })}`],
    [
      'a token of another issuer',
      async () =>
        `Bearer ${await tf.token({ iss: 'https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_Other0000' })}`,
    ],
    [
      'a token without the command scope',
      async () => `Bearer ${await tf.token({ scope: 'openid profile' })}`,
    ],
    [
      'a token whose scope only contains the command scope as a prefix',
      async () => `Bearer ${await tf.token({ scope: `${SCOPE}.admin` })}`,
    ],
    [
      'alg none (empty signature)',
      async () => {
        const [, payload] = (await tf.token()).split('.');
        const header = Buffer.from(JSON.stringify({ alg: 'none', kid: 'test-key-1' })).toString('base64url');
        return `Bearer ${header}.${payload}.`;
      },
    ],
    [
      'alg none (with a signature segment)',
      async () => {
        const [, payload, sig] = (await tf.token()).split('.');
        const header = Buffer.from(JSON.stringify({ alg: 'none', kid: 'test-key-1' })).toString('base64url');
        return `Bearer ${header}.${payload}.${sig}`;
      },
    ],
    [
      'a tampered signature',
      async () => {
        const [h, p, s = ''] = (await tf.token()).split('.');
        const flipped = `${s.slice(0, 10)}${s[10] === 'A' ? 'B' : 'A'}${s.slice(11)}`;
        return `Bearer ${h}.${p}.${flipped}`;
      },
    ],
    [
      'a tampered payload',
      async () => {
        const [h, , s] = (await tf.token()).split('.');
        const forged = await tf.token({ sub: 'attacker' });
        return `Bearer ${h}.${forged.split('.')[1]}.${s}`;
      },
    ],
    [
      'a token signed by another key with the same kid',
      async () => `Bearer ${await tf.token({}, {}, (await generateKeyPair('RS256')).privateKey)}`,
    ],
    ['no Authorization header', async () => undefined],
    ['Basic credentials', async () => 'Basic YWxpY2U6c2VjcmV0'],
    ['a bare token without scheme', async () => tf.token()],
    ['two tokens', async () => `Bearer ${await tf.token()} ${await tf.token()}`],
    ['a huge header', async () => `Bearer ${'a'.repeat(3000)}.${'b'.repeat(3000)}.c`],
    ['garbage', async () => 'Bearer \u0000\u0001'],
  ];
  it.each(rejected)('%s -> Unauthorized, reason not returned, no access lookup', async (_n, header) => {
    const value = await header();
    const event = loadEvent();
    if (value === undefined) {
      event.headers = {};
      event.multiValueHeaders = {};
    }
    const error = await invoke(value, event).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(Error);
    expect((error as Error).message).toBe('Unauthorized');
    expect(ddb.commandCalls(QueryCommand)).toHaveLength(0);
  });

  it('two Authorization headers (multi-value) -> Unauthorized', async () => {
    const token = await tf.token();
    const event = withAuthorization(`Bearer ${token}`);
    event.multiValueHeaders = {
      ...event.multiValueHeaders,
      Authorization: [`Bearer ${token}`, `Bearer ${token}`],
    };
    await expect(invoke(undefined, event)).rejects.toThrow(/^Unauthorized$/);
  });

  it('a vehicle-access lookup failure -> Unauthorized (fail closed)', async () => {
    ddb.on(QueryCommand).rejects(new Error('ProvisionedThroughputExceededException'));
    await expect(invoke(`Bearer ${await tf.token()}`)).rejects.toThrow(/^Unauthorized$/);
  });

  it('logs the reason but never the token, for allowed and rejected requests', async () => {
    const good = await tf.token();
    const expired = await tf.token({ exp: tf.now - 5 });
    const { handler, verifier } = await loadHandler({ LOG_LEVEL: 'DEBUG' });
    verifier.cacheJwks(tf.jwks);
    const output = await captureOutput(async () => {
      await handler(withAuthorization(`Bearer ${good}`), lambdaContext());
      await handler(withAuthorization(`Bearer ${expired}`), lambdaContext()).catch(() => undefined);
    });
    expect(output).toContain('request allowed');
    expect(output).toContain('JwtExpiredError');
    for (const token of [good, expired]) {
      for (const part of token.split('.')) expect(output).not.toContain(part);
    }
  });

  it('an Unauthorized answer is logged as the denial it is (WARN with the reason), not as a failed invocation', async () => {
    const expired = await tf.token({ exp: tf.now - 5 });
    const { handler, verifier } = await loadHandler({ LOG_LEVEL: 'DEBUG' });
    verifier.cacheJwks(tf.jwks);
    let thrown: unknown;
    const output = await captureOutput(async () => {
      thrown = await handler(withAuthorization(`Bearer ${expired}`), lambdaContext()).catch(
        (e: unknown) => e,
      );
    });
    expect(thrown).toEqual(new Error('Unauthorized'));
    const lines = output
      .split('\n')
      .filter((l) => l.startsWith('{"level"'))
      .map((l) => JSON.parse(l) as { level: string; message: string; reason?: string });
    expect(lines).toContainEqual(
      expect.objectContaining({ level: 'WARN', message: 'request unauthorized', reason: expect.any(String) }),
    );
    expect(lines.filter((l) => l.level === 'ERROR')).toEqual([]);
  });

  it('fails at cold start naming a missing variable', async () => {
    vi.resetModules();
    vi.stubEnv('COGNITO_USER_POOL_ID', '');
    await expect(import('../src/handler.js')).rejects.toThrow(/COGNITO_USER_POOL_ID/);
  });
});

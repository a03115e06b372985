import { DynamoDBDocumentClient, GetCommand } from '@aws-sdk/lib-dynamodb';
import type { APIGatewayAuthorizerResult, Statement } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import fc from 'fast-check';
import { generateKeyPair } from 'jose';
import { afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  CLIENT_ID,
  COMMAND_ID,
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
/** The vehicle-access table the mock serves: `${userSub}|${vin}` -> item. */
let table: Map<string, Record<string, unknown>>;

beforeAll(async () => {
  tf = await tokenFactory();
});
beforeEach(() => {
  ddb.reset();
  table = new Map();
  const put = (item: Record<string, unknown>) => table.set(`${item.userSub}|${item.vin}`, item);
  put({ userSub: SUB, vin: VIN_A, role: 'owner', commands: ['*'] });
  put({
    userSub: SUB,
    vin: VIN_B,
    role: 'driver',
    commands: ['door.lock', 'door.unlock'],
    validUntil: tf.now + 86_400,
  });
  put({ userSub: SUB, vin: VIN_C, role: 'driver', commands: ['*'], validUntil: tf.now - 1 });
  ddb.on(GetCommand).callsFake((input: { Key: { userSub: string; vin: string } }) => ({
    Item: table.get(`${input.Key.userSub}|${input.Key.vin}`),
  }));
});
afterEach(() => {
  vi.unstubAllEnvs();
});

/** The sample event, for `method` on `vin` (path parameter and method ARN agree). */
function eventFor(vin: string, method: 'POST' | 'GET' = 'POST', event = loadEvent()) {
  const path = method === 'POST' ? `vehicles/${vin}/commands` : `vehicles/${vin}/commands/${COMMAND_ID}`;
  return { ...event, methodArn: `${ARN_BASE}/${method}/${path}`, pathParameters: { vin } };
}

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
function allows(result: APIGatewayAuthorizerResult, methodArn: string): boolean {
  return statements(result).some(
    (s) =>
      s.Effect === 'Allow' &&
      'Resource' in s &&
      [s.Resource ?? []].flat().some((r) => resourceMatches(r, methodArn)),
  );
}

describe('command-authorizer', () => {
  it("a valid access token for an owned vehicle: Allow on exactly that vehicle's two routes, context with sub and commands, one GetItem", async () => {
    const result = await invoke(`Bearer ${await tf.token()}`, eventFor(VIN_A));

    expect(result.principalId).toBe(SUB);
    expect(statements(result).map((s) => s.Effect)).toEqual(['Allow']);
    expect(resources(result).sort()).toEqual(
      [`${ARN_BASE}/GET/vehicles/${VIN_A}/commands/*`, `${ARN_BASE}/POST/vehicles/${VIN_A}/commands`].sort(),
    );
    expect(result.context).toMatchObject({ sub: SUB });
    expect(JSON.parse(String(result.context?.vehicles))).toEqual({ [VIN_A]: ['*'] });
    expect(JSON.parse(String(result.context?.validUntil))).toEqual({});
    expect(result.context?.tokenExp).toBe(tf.now + 3600);
    for (const v of Object.values(result.context ?? {}))
      expect(['string', 'number', 'boolean']).toContain(typeof v);
    expect(ddb.calls()).toHaveLength(1);
    expect(ddb.commandCalls(GetCommand)[0]?.args[0].input).toEqual({
      TableName: 'cv-security-dev-vehicle-access',
      Key: { userSub: SUB, vin: VIN_A },
    });
  });

  it('a driver row with an expiry: Allow with its commands and validUntil for the status route too', async () => {
    const result = await invoke(`Bearer ${await tf.token()}`, eventFor(VIN_B, 'GET'));
    expect(allows(result, `${ARN_BASE}/GET/vehicles/${VIN_B}/commands/${COMMAND_ID}`)).toBe(true);
    expect(JSON.parse(String(result.context?.vehicles))).toEqual({ [VIN_B]: ['door.lock', 'door.unlock'] });
    expect(JSON.parse(String(result.context?.validUntil))).toEqual({ [VIN_B]: tf.now + 86_400 });
  });

  it('the decision for vehicle A never covers another vehicle (any method, any path), nor a wildcard over vehicles', async () => {
    const result = await invoke(`Bearer ${await tf.token()}`, eventFor(VIN_A));
    for (const method of ['POST', 'GET', 'PUT', 'DELETE']) {
      for (const path of [
        `vehicles/${VIN_B}/commands`,
        `vehicles/${VIN_C}/commands/x`,
        `vehicles/${VIN_A}x/commands`,
        `vehicles/${VIN_A.toLowerCase()}/commands`,
      ]) {
        expect(allows(result, `${ARN_BASE}/${method}/${path}`)).toBe(false);
      }
    }
    expect(resources(result).every((r) => r.includes(`/vehicles/${VIN_A}/commands`))).toBe(true);
    expect(resources(result).every((r) => !/vehicles\/\*/.test(r))).toBe(true);
  });

  it('a vehicle without a row, or with an expired row: Deny on the method only, no context', async () => {
    for (const vin of [VIN_C, '2T1BURHE0JC000007']) {
      const result = await invoke(`Bearer ${await tf.token()}`, eventFor(vin));
      expect(statements(result).map((s) => s.Effect)).toEqual(['Deny']);
      expect(resources(result)).toEqual([`${ARN_BASE}/POST/vehicles/${vin}/commands`]);
      expect(result.context).toBeUndefined();
    }
  });

  it('malformed or foreign rows deny, never widen', async () => {
    for (const item of [
      { userSub: SUB, vin: VIN_A, commands: 'door.lock' },
      { userSub: SUB, vin: VIN_A, commands: [] },
      { userSub: SUB, vin: VIN_A, commands: ['*'], validUntil: 'never' },
      { userSub: 'someone-else', vin: VIN_A, commands: ['*'] },
      { userSub: SUB, vin: VIN_B, commands: ['*'] },
      { userSub: `vehicle#${VIN_A}`, vin: VIN_A, kind: 'vehicle', owner: SUB },
      { userSub: SUB, vin: VIN_A, kind: 'vehicle', commands: ['*'] },
    ]) {
      ddb.on(GetCommand).resolves({ Item: item });
      const result = await invoke(`Bearer ${await tf.token()}`, eventFor(VIN_A));
      expect(statements(result).map((s) => s.Effect)).toEqual(['Deny']);
      expect(result.context).toBeUndefined();
    }
  });

  it('vehicle id tricks (case, encoding, traversal, path parameter disagreeing with the method ARN): Deny, no access lookup', async () => {
    const token = await tf.token();
    const tricks: Array<[string, string | undefined]> = [
      [`POST/vehicles/${VIN_A.toLowerCase()}/commands`, VIN_A.toLowerCase()],
      [`POST/vehicles/${VIN_A}/commands`, VIN_A.toLowerCase()],
      [`POST/vehicles/%57${VIN_A.slice(1)}/commands`, VIN_A],
      [`POST/vehicles/${VIN_A.slice(0, 16)}%${VIN_A.slice(16)}/commands`, VIN_A],
      [`POST/vehicles/${VIN_A}%2F..%2F${VIN_B}/commands`, VIN_A],
      [`POST/vehicles/${VIN_A}/../${VIN_B}/commands`, VIN_B],
      [`POST/vehicles/${VIN_A}/commands`, VIN_B],
      [`POST/vehicles/${VIN_A}/commands`, undefined],
      [`POST/vehicles/${VIN_A} /commands`, `${VIN_A} `],
      [`POST/vehicles/${VIN_A}/commands/extra`, VIN_A],
      [`GET/vehicles/${VIN_A}/commands`, VIN_A],
      [`DELETE/vehicles/${VIN_A}/commands`, VIN_A],
      [`POST/vehicles/*/commands`, '*'],
      [`POST/vehicles/${VIN_A.replace('A', 'I')}/commands`, VIN_A.replace('A', 'I')],
      [`POST/vehicles/\uFF11${VIN_A.slice(1)}/commands`, `\uFF11${VIN_A.slice(1)}`],
    ];
    for (const [path, vin] of tricks) {
      const event = {
        ...loadEvent(),
        methodArn: `${ARN_BASE}/${path}`,
        pathParameters: vin === undefined ? null : { vin },
      };
      const result = await invoke(`Bearer ${token}`, event);
      expect(
        statements(result).map((s) => s.Effect),
        path,
      ).toEqual(['Deny']);
      expect(allows(result, `${ARN_BASE}/POST/vehicles/${VIN_A}/commands`)).toBe(false);
      expect(allows(result, `${ARN_BASE}/POST/vehicles/${VIN_B}/commands`)).toBe(false);
    }
    expect(ddb.calls()).toHaveLength(0);
  });

  it("property: for any requested vehicle string, an Allow only ever names the row's own VIN, and only when the row exists", async () => {
    const token = await tf.token();
    const { handler, verifier } = await loadHandler();
    verifier.cacheJwks(tf.jwks);
    const vinChars = 'ABCDEFGHJKLMNPRSTUVWXYZ0123456789abcIOQ%./*-_ \u00e9';
    const vin = fc.oneof(
      fc.constantFrom(VIN_A, VIN_B, VIN_C),
      fc.string({ unit: fc.constantFrom(...vinChars.split('')), minLength: 0, maxLength: 20 }),
    );
    await fc.assert(
      fc.asyncProperty(vin, fc.constantFrom('POST', 'GET'), async (v, method) => {
        const event = withAuthorization(`Bearer ${token}`, eventFor(v, method as 'POST' | 'GET'));
        const result = await handler(event, lambdaContext());
        const granted = resources(result).filter((_r, i) => statements(result)[i]?.Effect === 'Allow');
        const row = table.get(`${SUB}|${v}`);
        const live = row !== undefined && (row.validUntil === undefined || Number(row.validUntil) > tf.now);
        if (statements(result)[0]?.Effect === 'Allow') {
          expect(live).toBe(true);
          expect(resources(result).every((r) => r.includes(`/vehicles/${v}/commands`))).toBe(true);
        } else {
          expect(granted).toEqual([]);
        }
      }),
      { numRuns: 150 },
    );
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
    expect(ddb.calls()).toHaveLength(0);
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
    ddb.on(GetCommand).rejects(new Error('ProvisionedThroughputExceededException'));
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

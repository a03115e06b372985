import { CognitoJwtVerifier } from 'aws-jwt-verify';
import fc from 'fast-check';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { type AuthorizeDeps, authorize } from '../src/authorize.js';
import {
  CLIENT_ID,
  loadEvent,
  OTHER_CLIENT_ID,
  SCOPE,
  SUB,
  tokenFactory,
  USER_POOL_ID,
  VIN_A,
  withAuthorization,
} from './helpers.js';

let tf: Awaited<ReturnType<typeof tokenFactory>>;
let verify: (token: string) => Promise<{ sub: string; exp: number }>;

beforeAll(async () => {
  tf = await tokenFactory();
  token = await tf.token();
  const verifier = CognitoJwtVerifier.create({
    userPoolId: USER_POOL_ID,
    tokenUse: 'access',
    clientId: [CLIENT_ID],
    scope: SCOPE,
  });
  verifier.cacheJwks(tf.jwks);
  verify = async (token) => {
    const payload = await verifier.verify(token);
    return { sub: payload.sub, exp: payload.exp };
  };
});

function deps(rows: Record<string, unknown>[] = [{ userSub: SUB, vin: VIN_A, commands: ['*'] }]) {
  const table = new Map(rows.map((r) => [`${r.userSub}|${r.vin}`, r]));
  const accessRows = vi.fn(async (sub: string, vin: string) => table.get(`${sub}|${vin}`));
  const d: AuthorizeDeps = {
    verifyAccessToken: (t) => verify(t),
    accessRow: accessRows,
    now: Date.now,
  };
  return { d, accessRows };
}

/** The i-th of a fleet's VINs (valid VIN characters, distinct). */
const fleetVin = (i: number) => `1HGCM82633A${String(i).padStart(6, '0')}`;
const ARN_BASE = 'arn:aws:execute-api:eu-west-1:111122223333:r1e2s3t4u5/dev';
function eventFor(vin: string) {
  return {
    ...withAuthorization(`Bearer ${token}`),
    methodArn: `${ARN_BASE}/POST/vehicles/${vin}/commands`,
    pathParameters: { vin },
  };
}
let token: string;

describe('authorize (use case, real aws-jwt-verify)', () => {
  it.each([
    ['expired', { exp: 1 }, 'JwtExpiredError'],
    ['not yet valid', { nbf: 4102444800 }, 'JwtNotBeforeError'],
    ['id token', { token_use: 'id' }, 'CognitoJwtInvalidTokenUseError'],
    ['wrong client', { client_id: OTHER_CLIENT_ID }, 'CognitoJwtInvalidClientIdError'],
    [
      'wrong issuer (another user pool)',
      { iss: 'https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_Other0000' },
      'ParameterValidationError',
    ],
    ['wrong issuer (not Cognito)', { iss: 'https://evil.example.com' }, 'ParameterValidationError'],
    ['missing scope', { scope: 'openid' }, 'JwtInvalidScopeError'],
  ])('%s -> Unauthorized with the verifier error as the logged reason', async (_n, claims, errorName) => {
    const { d, accessRows } = deps();
    const outcome = await authorize(withAuthorization(`Bearer ${await tf.token(claims)}`), d);
    expect(outcome).toEqual({ effect: 'Unauthorized', reason: `token rejected: ${errorName}` });
    expect(accessRows).not.toHaveBeenCalled();
  });

  it('a malformed methodArn -> Unauthorized before the token is looked at', async () => {
    const { d, accessRows } = deps();
    const event = { ...withAuthorization(`Bearer ${await tf.token()}`), methodArn: 'arn:aws:execute-api:*' };
    expect((await authorize(event, d)).effect).toBe('Unauthorized');
    expect(accessRows).not.toHaveBeenCalled();
  });

  it('a fleet operator with 10,000 vehicles commands any one of them: one read per decision, a policy of two routes of that vehicle', async () => {
    const fleet = Array.from({ length: 10_000 }, (_, i) => ({
      userSub: SUB,
      vin: fleetVin(i),
      role: 'fleet-operator',
      commands: ['door.lock', 'door.unlock', 'locate'],
    }));
    const { d, accessRows } = deps(fleet);
    for (const i of [0, 24, 25, 26, 4_999, 9_999]) {
      accessRows.mockClear();
      const outcome = await authorize(eventFor(fleetVin(i)), d);
      expect(outcome.effect).toBe('Allow');
      if (outcome.effect !== 'Allow') return;
      expect(accessRows.mock.calls).toEqual([[SUB, fleetVin(i)]]);
      expect(outcome.result.policyDocument.Statement).toEqual([
        {
          Action: 'execute-api:Invoke',
          Effect: 'Allow',
          Resource: [
            `${ARN_BASE}/POST/vehicles/${fleetVin(i)}/commands`,
            `${ARN_BASE}/GET/vehicles/${fleetVin(i)}/commands/*`,
          ],
        },
      ]);
      expect(JSON.stringify(outcome.result).length).toBeLessThan(1_024);
    }
    // The 10,001st vehicle, which the operator does not have: Deny.
    expect((await authorize(eventFor(fleetVin(10_000)), d)).effect).toBe('Deny');
  });

  it("another user's row never answers for this user: the lookup is keyed by the token's sub", async () => {
    const { d, accessRows } = deps([{ userSub: 'another-user', vin: VIN_A, commands: ['*'] }]);
    const outcome = await authorize(eventFor(VIN_A), d);
    expect(outcome.effect).toBe('Deny');
    expect(accessRows.mock.calls).toEqual([[SUB, VIN_A]]);
  });

  it('property: any Authorization value that is not a valid token is Unauthorized without an access lookup', async () => {
    const valid = await tf.token();
    const [h = '', p = '', s = ''] = valid.split('.');
    const header = fc.oneof(
      fc.string({ maxLength: 5000 }),
      fc.string().map((x) => `Bearer ${x}`),
      fc
        .tuple(fc.constantFrom(h, ''), fc.constantFrom(p, 'e30'), fc.string())
        .map(([a, b, c]) => `Bearer ${a}.${b}.${c}`),
      fc
        .integer({ min: 0, max: s.length - 2 }) // not the last char: its unused low bits may decode to the same signature
        .map((i) => `Bearer ${h}.${p}.${s.slice(0, i)}${s[i] === 'x' ? 'y' : 'x'}${s.slice(i + 1)}`),
    );
    await fc.assert(
      fc.asyncProperty(header, async (value) => {
        const { d, accessRows } = deps();
        const event = loadEvent();
        const outcome = await authorize(withAuthorization(value, event), d);
        expect(outcome.effect).toBe('Unauthorized');
        expect(accessRows).not.toHaveBeenCalled();
      }),
      { numRuns: 200 },
    );
  });
});

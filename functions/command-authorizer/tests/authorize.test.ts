import { CognitoJwtVerifier } from 'aws-jwt-verify';
import fc from 'fast-check';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { type AuthorizeDeps, authorize, MAX_VEHICLES } from '../src/authorize.js';
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

function deps(rows: unknown[] = [{ userSub: SUB, vin: VIN_A, commands: ['*'] }]) {
  const accessRows = vi.fn(async () => rows);
  const d: AuthorizeDeps = {
    verifyAccessToken: (t) => verify(t),
    accessRows,
    now: Date.now,
  };
  return { d, accessRows };
}

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

  it(`caps the policy at ${MAX_VEHICLES} vehicles and reports truncation`, async () => {
    const rows = Array.from({ length: MAX_VEHICLES + 5 }, (_, i) => ({
      userSub: SUB,
      vin: `1HGCM82633A${String(i).padStart(6, '0')}`,
      commands: ['door.lock'],
    }));
    const { d } = deps(rows);
    const outcome = await authorize(withAuthorization(`Bearer ${await tf.token()}`), d);
    expect(outcome.effect).toBe('Allow');
    if (outcome.effect !== 'Allow') return;
    expect(outcome.truncated).toBe(true);
    expect(outcome.vehicles).toBe(MAX_VEHICLES);
    expect(JSON.stringify(outcome.result).length).toBeLessThan(8_192);
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

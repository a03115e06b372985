/**
 * One authorizer decision for a fleet operator with 10,000 vehicles: real token verification (aws-jwt-verify, RS256,
 * JWKS cached) and the row lookup against an in-memory table of 10,000 rows (the DynamoDB latency of the one
 * GetItem is excluded). Also prints the policy size. Run: `pnpm vitest bench --run --project @cv/command-authorizer`.
 */
import { CognitoJwtVerifier } from 'aws-jwt-verify';
import { bench, describe } from 'vitest';
import { type AuthorizeDeps, authorize } from '../src/authorize.js';
import {
  CLIENT_ID,
  loadEvent,
  SCOPE,
  SUB,
  tokenFactory,
  USER_POOL_ID,
  withAuthorization,
} from '../tests/helpers.js';

const FLEET = 10_000;
const vinOf = (i: number) => `1HGCM82633A${String(i).padStart(6, '0')}`;
const table = new Map<string, unknown>();
for (let i = 0; i < FLEET; i++) {
  table.set(`${SUB}|${vinOf(i)}`, {
    userSub: SUB,
    vin: vinOf(i),
    role: 'fleet-operator',
    commands: ['door.lock', 'locate'],
  });
}
const tf = await tokenFactory();
const token = await tf.token();
const verifier = CognitoJwtVerifier.create({
  userPoolId: USER_POOL_ID,
  tokenUse: 'access',
  clientId: [CLIENT_ID],
  scope: SCOPE,
});
verifier.cacheJwks(tf.jwks);
let reads = 0;
const deps: AuthorizeDeps = {
  verifyAccessToken: async (t) => {
    const payload = await verifier.verify(t);
    return { sub: payload.sub, exp: payload.exp };
  },
  accessRow: async (sub, vin) => {
    reads++;
    return table.get(`${sub}|${vin}`);
  },
  now: Date.now,
};
const base = 'arn:aws:execute-api:eu-west-1:111122223333:r1e2s3t4u5/dev';
const events = [0, 26, 4_999, 9_999].map((i) => ({
  ...withAuthorization(`Bearer ${token}`, loadEvent()),
  methodArn: `${base}/POST/vehicles/${vinOf(i)}/commands`,
  pathParameters: { vin: vinOf(i) },
}));
const sample = await authorize(events[0] ?? loadEvent(), deps);
process.stderr.write(
  `authorizer, ${FLEET}-vehicle user: effect ${sample.effect}, response ${JSON.stringify('result' in sample ? sample.result : {}).length} bytes, access reads per decision ${reads}\n`,
);

let n = 0;
describe(`authorizer decision, user with ${FLEET} vehicles`, () => {
  bench('verify token + one row lookup + policy', async () => {
    await authorize(events[n++ % events.length] ?? loadEvent(), deps);
  });
});

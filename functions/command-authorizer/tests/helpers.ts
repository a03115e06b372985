import { readFileSync } from 'node:fs';
import { lambdaContext as sharedLambdaContext } from '@cv/test-support';
import type { APIGatewayRequestAuthorizerEvent, Context } from 'aws-lambda';
import { exportJWK, generateKeyPair, type JWK, SignJWT } from 'jose';
import { vi } from 'vitest';

export const REGION = 'eu-west-1';
export const USER_POOL_ID = 'eu-west-1_AbCdEf123';
export const ISSUER = `https://cognito-idp.${REGION}.amazonaws.com/${USER_POOL_ID}`;
export const CLIENT_ID = '4n0th3rcl13nt1d0000000001';
export const OTHER_CLIENT_ID = '7w7w7w7w7w7w7w7w7w7w7w7w7w';
export const SCOPE = 'https://api.cv.example.com/commands';
export const SUB = '3f9a1c52-7d4e-4b8a-9c1e-2b5d6f7a8e90';
export const VIN_A = '1HGCM82633A004352';
export const VIN_B = '5YJ3E1EA7KF317000';
export const VIN_C = 'WVWZZZ1JZXW000001';
export const COMMAND_ID = '3b241101-e2bb-4255-8caf-4136c566a962';

export const ENV = {
  COGNITO_USER_POOL_ID: USER_POOL_ID,
  COGNITO_CLIENT_IDS: `${CLIENT_ID},2nd0cl13nt1d0000000000002`,
  COMMAND_SCOPE: SCOPE,
  VEHICLE_ACCESS_TABLE: 'cv-security-dev-vehicle-access',
  LOG_LEVEL: 'SILENT',
  POWERTOOLS_METRICS_DISABLED: 'true',
  AWS_REGION: REGION,
};

/** A signing key the test owns, its JWKS, and a token factory with Cognito access-token claims. */
export async function tokenFactory() {
  const { privateKey, publicKey } = await generateKeyPair('RS256', { extractable: true });
  const kid = 'test-key-1';
  const jwk: JWK = { ...(await exportJWK(publicKey)), kid, alg: 'RS256', use: 'sig' };
  const jwks = { keys: [jwk] } as { keys: [JWK & { kty: 'RSA'; n: string; e: string }] };
  const now = Math.floor(Date.now() / 1000);
  async function token(
    claims: Record<string, unknown> = {},
    header: Record<string, unknown> = {},
    key: Parameters<SignJWT['sign']>[0] = privateKey,
  ): Promise<string> {
    return new SignJWT({
      sub: SUB,
      iss: ISSUER,
      client_id: CLIENT_ID,
      token_use: 'access',
      scope: `openid ${SCOPE}`,
      auth_time: now - 60,
      iat: now - 60,
      exp: now + 3600,
      jti: 'a1b2c3d4-0000-4000-8000-000000000001',
      username: 'alice',
      ...claims,
    })
      .setProtectedHeader({ alg: 'RS256', kid, ...header })
      .sign(key);
  }
  return { jwks, token, privateKey, now };
}

export function loadEvent(): APIGatewayRequestAuthorizerEvent {
  const url = new URL('../../../events/command-authorizer/request.json', import.meta.url);
  return JSON.parse(readFileSync(url, 'utf8')) as APIGatewayRequestAuthorizerEvent;
}

export function withAuthorization(value: string, event = loadEvent()): APIGatewayRequestAuthorizerEvent {
  return {
    ...event,
    headers: { ...event.headers, Authorization: value },
    multiValueHeaders: { ...event.multiValueHeaders, Authorization: [value] },
  };
}

export function lambdaContext(): Context {
  return sharedLambdaContext({
    functionName: 'cv-security-dev-commandAuthorizer',
    awsRequestId: 'c0ffee00-0000-4000-8000-000000000003',
    remainingTimeMs: 10_000,
  });
}

export async function loadHandler(
  overrides: Record<string, string> = {},
): Promise<typeof import('../src/handler.js')> {
  vi.resetModules();
  for (const [k, v] of Object.entries({ ...ENV, ...overrides })) vi.stubEnv(k, v);
  return import('../src/handler.js');
}

/** API Gateway's matching of a policy resource (with `*` wildcards) against a method ARN. */
export function resourceMatches(resource: string, methodArn: string): boolean {
  const pattern = resource.split('*').map((p) => p.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&'));
  return new RegExp(`^${pattern.join('.*')}$`).test(methodArn);
}

/** Everything written to stdout/stderr while `fn` runs (log lines and EMF metrics). */
export async function captureOutput(fn: () => Promise<unknown>): Promise<string> {
  const chunks: string[] = [];
  const out = process.stdout.write;
  const err = process.stderr.write;
  const capture = (chunk: unknown): boolean => {
    chunks.push(typeof chunk === 'string' ? chunk : Buffer.from(chunk as Uint8Array).toString('utf8'));
    return true;
  };
  process.stdout.write = capture as typeof process.stdout.write;
  process.stderr.write = capture as typeof process.stderr.write;
  try {
    await fn().catch(() => undefined);
  } finally {
    process.stdout.write = out;
    process.stderr.write = err;
  }
  return chunks.join('');
}

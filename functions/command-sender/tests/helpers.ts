/**
 * Shared test fixtures: environment, a real local P-256 key behind a fake KMS (Sign over a
 * digest returning DER, GetPublicKey returning SPKI DER, Encrypt/Decrypt with encryption
 * context), sample events, and a fresh-container loader for the handler.
 */
import {
  createCipheriv,
  createDecipheriv,
  createECDH,
  generateKeyPairSync,
  type KeyObject,
  randomBytes,
} from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { APIGatewayProxyEvent, Context } from 'aws-lambda';
import { vi } from 'vitest';

export const REGION = 'eu-west-1';
export const SIGNING_KEY_ARN = 'arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab';
export const ENCRYPTION_KEY_ARN =
  'arn:aws:kms:eu-west-1:111122223333:key/0987dcba-09fe-87dc-65ba-ab0987654321';
export const VIN = '1HGCM82633A004352';
export const OTHER_VIN = '5YJ3E1EA7KF317000';
export const SUB = '3f9a1c52-7d4e-4b8a-9c1e-2b5d6f7a8e90';

export const ENV = {
  STAGE: 'dev',
  COMMANDS_TABLE: 'cv-security-dev-commands',
  ECU_REGISTRY_TABLE: 'cv-security-dev-ecu-registry',
  COMMAND_SIGNING_KEY_ID: 'alias/cv-security-dev-command-signing',
  COMMAND_ENCRYPTION_KEY_ID: 'alias/cv-security-dev-command-encryption',
  COMMAND_TTL_SECONDS: '120',
  IOT_DATA_ENDPOINT: 'a1b2c3d4e5f6g7-ats.iot.eu-west-1.amazonaws.com',
  LOG_LEVEL: 'SILENT',
  POWERTOOLS_METRICS_DISABLED: 'true',
  AWS_REGION: REGION,
};

const N256 = 0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551n;
const big = (b: Uint8Array) => (b.length === 0 ? 0n : BigInt(`0x${Buffer.from(b).toString('hex')}`));
const bytes32 = (n: bigint) => Buffer.from(n.toString(16).padStart(64, '0'), 'hex');
const mod = (a: bigint, n: bigint) => ((a % n) + n) % n;
function inverse(a: bigint, n: bigint): bigint {
  let [r0, r1, s0, s1] = [mod(a, n), n, 1n, 0n];
  while (r1 !== 0n) {
    const q = r0 / r1;
    [r0, r1] = [r1, r0 - q * r1];
    [s0, s1] = [s1, s0 - q * s1];
  }
  return mod(s0, n);
}
function derInt(v: Buffer): number[] {
  let i = 0;
  while (i < v.length - 1 && v[i] === 0) i++;
  const t = [...v.subarray(i)];
  if ((t[0] ?? 0) & 0x80) t.unshift(0);
  return [0x02, t.length, ...t];
}

export interface LocalSigningKey {
  publicKey: KeyObject;
  spki: Uint8Array;
  /** ECDSA P-256 over a precomputed SHA-256 digest, DER-encoded: what KMS Sign (DIGEST) returns. */
  signDigest(digest: Uint8Array): Uint8Array;
}

/** A real P-256 key; k*G via node:crypto ECDH, the rest is textbook ECDSA (checked by jose in the tests). */
export function localSigningKey(): LocalSigningKey {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const d = big(Buffer.from(privateKey.export({ format: 'jwk' }).d ?? '', 'base64url'));
  return {
    publicKey,
    spki: new Uint8Array(publicKey.export({ format: 'der', type: 'spki' })),
    signDigest(digest) {
      const z = big(digest);
      for (;;) {
        const k = mod(big(randomBytes(40)), N256 - 1n) + 1n;
        const ecdh = createECDH('prime256v1');
        ecdh.setPrivateKey(bytes32(k));
        const r = mod(big(ecdh.getPublicKey().subarray(1, 33)), N256);
        const s = mod(inverse(k, N256) * (z + r * d), N256);
        if (r === 0n || s === 0n) continue;
        const body = [...derInt(bytes32(r)), ...derInt(bytes32(s))];
        return new Uint8Array([0x30, body.length, ...body]);
      }
    },
  };
}

/** Symmetric "KMS" with encryption context as AAD: Decrypt fails under any other context. */
export function localSymmetricKms() {
  const key = randomBytes(32);
  const aad = (ctx: Record<string, string>) =>
    Buffer.from(JSON.stringify(Object.entries(ctx).sort(([a], [b]) => (a < b ? -1 : 1))));
  return {
    encrypt(plaintext: Uint8Array, ctx: Record<string, string>): Uint8Array {
      const iv = randomBytes(12);
      const c = createCipheriv('aes-256-gcm', key, iv);
      c.setAAD(aad(ctx));
      const body = Buffer.concat([c.update(plaintext), c.final()]);
      return new Uint8Array(Buffer.concat([iv, c.getAuthTag(), body]));
    },
    decrypt(ciphertext: Uint8Array, ctx: Record<string, string>): Uint8Array {
      const buf = Buffer.from(ciphertext);
      const d = createDecipheriv('aes-256-gcm', key, buf.subarray(0, 12));
      d.setAAD(aad(ctx));
      d.setAuthTag(buf.subarray(12, 28));
      return new Uint8Array(Buffer.concat([d.update(buf.subarray(28)), d.final()]));
    },
  };
}

export function loadEvent(name: 'post-command' | 'get-command'): APIGatewayProxyEvent {
  const url = new URL(`../../../events/command-sender/${name}.json`, import.meta.url);
  return JSON.parse(readFileSync(url, 'utf8')) as APIGatewayProxyEvent;
}

export function lambdaContext(): Context {
  return {
    callbackWaitsForEmptyEventLoop: true,
    functionName: 'cv-security-dev-commandSender',
    functionVersion: '$LATEST',
    invokedFunctionArn: 'arn:aws:lambda:eu-west-1:111122223333:function:cv-security-dev-commandSender',
    memoryLimitInMB: '256',
    awsRequestId: 'c0ffee00-0000-4000-8000-000000000002',
    logGroupName: '/aws/lambda/cv-security-dev-commandSender',
    logStreamName: '2026/11/25/[$LATEST]0123456789abcdef',
    getRemainingTimeInMillis: () => 30_000,
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
}

/** A fresh container: module state (KMS public-key cache, clients) starts cold. */
export async function loadHandler(
  overrides: Record<string, string> = {},
): Promise<typeof import('../src/handler.js')> {
  vi.resetModules();
  for (const [k, v] of Object.entries({ ...ENV, ...overrides })) vi.stubEnv(k, v);
  return import('../src/handler.js');
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

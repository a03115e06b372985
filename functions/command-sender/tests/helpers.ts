/**
 * Shared test fixtures: environment, a real local P-256 key behind a fake KMS (Sign over a
 * digest returning DER, GetPublicKey returning SPKI DER, Encrypt/Decrypt with encryption
 * context), sample events, and a fresh-container loader for the handler.
 */
import type { KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import {
  localKey,
  lambdaContext as sharedLambdaContext,
  localSymmetricKms as sharedSymmetricKms,
} from '@cv/test-support';
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
  VEHICLE_ACCESS_TABLE: 'cv-security-dev-vehicle-access',
  COMMAND_SIGNING_KEY_ID: 'alias/cv-security-dev-command-signing',
  COMMAND_ENCRYPTION_KEY_ID: 'alias/cv-security-dev-command-encryption',
  COMMAND_TTL_SECONDS: '120',
  BEHAVIOUR_TABLE: 'cv-security-dev-behaviour',
  IOT_DATA_ENDPOINT: 'a1b2c3d4e5f6g7-ats.iot.eu-west-1.amazonaws.com',
  LOG_LEVEL: 'SILENT',
  POWERTOOLS_METRICS_DISABLED: 'true',
  AWS_REGION: REGION,
};

export interface LocalSigningKey {
  publicKey: KeyObject;
  spki: Uint8Array;
  /** ECDSA P-256 over a precomputed SHA-256 digest, DER-encoded: what KMS Sign (DIGEST) returns. */
  signDigest(digest: Uint8Array): Uint8Array;
}

/** A real P-256 key whose signDigest returns DER ECDSA over a precomputed digest, as KMS Sign (DIGEST) does. */
export function localSigningKey(): LocalSigningKey {
  return localKey('ES256');
}

/** Symmetric "KMS" with encryption context as AAD: Decrypt fails under any other context. */
export const localSymmetricKms = sharedSymmetricKms;

export function loadEvent(name: 'post-command' | 'get-command'): APIGatewayProxyEvent {
  const url = new URL(`../../../events/command-sender/${name}.json`, import.meta.url);
  return JSON.parse(readFileSync(url, 'utf8')) as APIGatewayProxyEvent;
}

export function lambdaContext(): Context {
  return sharedLambdaContext({
    functionName: 'cv-security-dev-commandSender',
    awsRequestId: 'c0ffee00-0000-4000-8000-000000000002',
  });
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

/**
 * The broker's handler in a test file: environment set before its cold start, fakes renewed per
 * test, and small helpers to post requests. Each test file gets its own module graph (vitest
 * isolates files), so each can configure the handler (e.g. its trust bundle) differently.
 */
import { IssueCertificateCommand } from '@aws-sdk/client-acm-pca';
import { expect } from 'vitest';
import {
  CA_ARN,
  type fakePca,
  type fakeRegistry,
  ISSUED_TABLE,
  LEDGER_TABLE,
  REGISTRY_TABLE,
  TEMPLATE_ARN,
} from './aws.js';
import { signAttestation } from './pki.js';
import { httpEvent, lambdaContext, type Response, toResponse, type World } from './world.js';

export type Handler = typeof import('../../src/handler.js').handler;

/** Sets the broker's environment (trust bundle given) and imports its handler (cold start). */
export async function startBroker(trustBundlePem: string): Promise<Handler> {
  Object.assign(process.env, {
    ECU_REGISTRY_TABLE: REGISTRY_TABLE,
    REPLAY_LEDGER_TABLE: LEDGER_TABLE,
    ISSUED_CERTIFICATES_TABLE: ISSUED_TABLE,
    PCA_CA_ARN: CA_ARN,
    PCA_TEMPLATE_ARN: TEMPLATE_ARN,
    ATTESTATION_TRUST_BUNDLE: trustBundlePem,
    AWS_REGION: 'eu-west-1',
  });
  return (await import('../../src/handler.js')).handler;
}

export async function postTo(handler: Handler, body: unknown, clientCertPem?: string): Promise<Response> {
  const raw = typeof body === 'string' ? body : JSON.stringify(body);
  return toResponse(await handler(httpEvent(raw, clientCertPem), lambdaContext));
}

/** `YYYY-MM-DDTHH:MM:SSZ` at `Date.now() + offsetMs` (fake clocks included). */
export function isoAt(offsetMs = 0): string {
  return new Date(Date.now() + offsetMs).toISOString().replace(/\.\d+Z$/, 'Z');
}

/** A body proving possession by signature: `chainPem` (leaf first) and the leaf's key. */
export function signedBodyFor(
  csrPem: string,
  attestation: { chainPem: string; key: Parameters<typeof signAttestation>[2] },
  signedAt = isoAt(),
) {
  return {
    csr: csrPem,
    attestation: {
      certificate: attestation.chainPem,
      signedAt,
      signature: signAttestation(csrPem, signedAt, attestation.key),
    },
  };
}

/** The default signed attestation of the world: ECU_ID's leaf from int1 (its bound issuer). */
export function int1Attestation(world: World) {
  return { chainPem: world.attestation.pem + world.mfrInt1.pem, key: world.attestation.keys.privateKey };
}

/** Nothing issued, nothing recorded, nothing claimed. */
export function expectNothingIssued(
  pca: ReturnType<typeof fakePca>,
  registry: ReturnType<typeof fakeRegistry>,
): void {
  expect(pca.mock.commandCalls(IssueCertificateCommand as never)).toHaveLength(0);
  expect(pca.issuedCount()).toBe(0);
  expect(registry.updates).toHaveLength(0);
  expect(registry.ledgerWrites).toHaveLength(0);
  expect(registry.issuedWrites).toHaveLength(0);
}

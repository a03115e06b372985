/** The PKI and registry every broker test starts from. */
import { createHash, X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { lambdaContext as sharedLambdaContext } from '@cv/test-support';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda';
import { type CryptoKeyPair, generateKeys, type Issued, issueCert, makeCsr } from './pki.js';

export const VIN = 'WVWZZZ1JZXW000001';
export const ECU_ID = 'ECU-GW-0001';
export const THING_NAME = `${VIN}_${ECU_ID}`;

export interface World {
  /** Manufacturer root (pathLen 1) and two intermediates (pathLen 0); the bundle trusts root + int1. */
  readonly mfrRoot: Issued;
  readonly mfrInt1: Issued;
  readonly mfrInt2: Issued;
  /** Attestation leaf of ECU_ID issued by int1 (presented over mutual TLS). */
  readonly attestation: Issued;
  /** Attestation leaf of ECU_ID issued by int2 (sent in the body with int2). */
  readonly attestationViaInt2: Issued;
  readonly trustBundlePem: string;
  /** Operational CA behind the fake PCA. */
  readonly opRoot: Issued;
  readonly opIssuing: Issued;
  readonly opChainPem: string;
  /** The registry row of ECU_ID: ACTIVE, bound to mfrInt1 (the issuer of `attestation`). */
  readonly activeEcu: RegistryRowOf;
}

export type RegistryRowOf = typeof unboundEcu & { readonly attestationIssuerKeySha256: string };

/**
 * The supplier binding of a CA, computed independently of the broker (node:crypto re-exports the
 * SubjectPublicKeyInfo): lowercase hex SHA-256 of the CA certificate's SPKI DER.
 */
export function issuerKeySha256(ca: Issued | string): string {
  const pem = typeof ca === 'string' ? ca : ca.pem;
  const spki = new X509Certificate(pem).publicKey.export({ type: 'spki', format: 'der' });
  return createHash('sha256').update(spki).digest('hex');
}

/** ECU_ID's row bound to the attestation issuer `ca`. */
export function ecuBoundTo(ca: Issued | string): RegistryRowOf {
  return { ...unboundEcu, attestationIssuerKeySha256: issuerKeySha256(ca) };
}

export async function buildWorld(): Promise<World> {
  const mfrRoot = await issueCert({
    subject: 'O=Example ECU Manufacturer,CN=Attestation Root',
    ca: true,
    pathLength: 1,
  });
  const mfrInt1 = await issueCert({
    subject: 'O=Example ECU Manufacturer,CN=Attestation Intermediate 1',
    ca: true,
    pathLength: 0,
    issuer: mfrRoot,
  });
  const mfrInt2 = await issueCert({
    subject: 'O=Example ECU Manufacturer,CN=Attestation Intermediate 2',
    ca: true,
    pathLength: 0,
    issuer: mfrRoot,
  });
  const attestation = await issueCert({
    subject: `O=Example ECU Manufacturer,CN=${ECU_ID}`,
    issuer: mfrInt1,
  });
  const attestationViaInt2 = await issueCert({
    subject: `O=Example ECU Manufacturer,CN=${ECU_ID}`,
    issuer: mfrInt2,
  });
  const opRoot = await issueCert({
    subject: 'O=cv-security,CN=Operational Root CA',
    ca: true,
    keySpec: 'P-384',
  });
  const opIssuing = await issueCert({
    subject: 'O=cv-security,CN=Operational Issuing CA',
    ca: true,
    pathLength: 0,
    issuer: opRoot,
  });
  return {
    mfrRoot,
    mfrInt1,
    mfrInt2,
    attestation,
    attestationViaInt2,
    trustBundlePem: mfrRoot.pem + mfrInt1.pem,
    opRoot,
    opIssuing,
    opChainPem: opIssuing.pem + opRoot.pem,
    activeEcu: ecuBoundTo(mfrInt1),
  };
}

/** ECU_ID's row without a supplier binding (which the broker refuses). */
export const unboundEcu = { ecuId: ECU_ID, vin: VIN, role: 'gateway', status: 'ACTIVE' } as const;

export async function freshCsr(subject?: string): Promise<{ pem: string; keys: CryptoKeyPair }> {
  const keys = await generateKeys('P-256');
  return { pem: await makeCsr(keys, subject), keys };
}

const eventsDir = fileURLToPath(new URL('../../../../events/cert-broker/', import.meta.url));

export function sampleEvent(name: string): APIGatewayProxyEventV2 {
  return JSON.parse(readFileSync(`${eventsDir}${name}`, 'utf8')) as APIGatewayProxyEventV2;
}

export function sampleFile(name: string): string {
  return readFileSync(`${eventsDir}${name}`, 'utf8');
}

/** An HTTP API event shaped like the sample, with this body and optional mTLS client certificate. */
export function httpEvent(body: string, clientCertPem?: string): APIGatewayProxyEventV2 {
  const event = sampleEvent('post-certificates-mtls.json');
  event.body = body;
  event.headers['content-length'] = String(Buffer.byteLength(body));
  const ctx = event.requestContext as APIGatewayProxyEventV2['requestContext'] & {
    authentication?: { clientCert?: { clientCertPem: string } };
  };
  if (clientCertPem === undefined) delete ctx.authentication;
  else if (ctx.authentication?.clientCert) ctx.authentication.clientCert.clientCertPem = clientCertPem;
  return event;
}

export const lambdaContext: Context = sharedLambdaContext({
  functionName: 'cv-security-dev-cert-broker',
  account: '123456789012',
  awsRequestId: 'c6af9ac6-7b61-11e6-9a41-93e8deadbeef',
  memoryLimitInMB: '512',
  remainingTimeMs: 25_000,
  callbackWaitsForEmptyEventLoop: false,
  logStreamName: '2026/11/25/[$LATEST]abcdef',
});

export interface Response {
  readonly status: number;
  readonly body: Record<string, unknown>;
  readonly headers: Record<string, string | number | boolean>;
}

export function toResponse(raw: APIGatewayProxyStructuredResultV2 | string): Response {
  if (typeof raw === 'string') throw new Error('unexpected string response');
  return {
    status: raw.statusCode ?? 0,
    body: raw.body ? (JSON.parse(raw.body) as Record<string, unknown>) : {},
    headers: (raw.headers ?? {}) as Record<string, string | number | boolean>,
  };
}

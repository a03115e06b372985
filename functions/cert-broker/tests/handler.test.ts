import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { IssueCertificateCommand, LimitExceededException } from '@aws-sdk/client-acm-pca';
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { CA_ARN, fakePca, fakeRegistry, LEDGER_TABLE, REGISTRY_TABLE, TEMPLATE_ARN } from './helpers/aws.js';
import { captureLogs } from './helpers/logs.js';
import {
  corruptCsrSignature,
  generateKeys,
  issueCert,
  makeCsr,
  makeCsrWithOpenssl,
  opensslVerify,
  signAttestation,
} from './helpers/pki.js';
import {
  buildWorld,
  ECU_ID,
  ecuBoundTo,
  freshCsr,
  httpEvent,
  lambdaContext,
  type Response,
  THING_NAME,
  toResponse,
  VIN,
  type World,
} from './helpers/world.js';

let world: World;
let handler: typeof import('../src/handler.js').handler;
let pca: ReturnType<typeof fakePca>;
let registry: ReturnType<typeof fakeRegistry>;

beforeAll(async () => {
  world = await buildWorld();
  process.env.ECU_REGISTRY_TABLE = REGISTRY_TABLE;
  process.env.REPLAY_LEDGER_TABLE = LEDGER_TABLE;
  process.env.ISSUED_CERTIFICATES_TABLE = 'cv-security-dev-issued-certificates';
  process.env.PCA_CA_ARN = CA_ARN;
  process.env.PCA_TEMPLATE_ARN = TEMPLATE_ARN;
  process.env.ATTESTATION_TRUST_BUNDLE = world.trustBundlePem;
  process.env.AWS_REGION = 'eu-west-1';
  ({ handler } = await import('../src/handler.js'));
});

beforeEach(() => {
  pca = fakePca(world.opIssuing, world.opChainPem, { inProgressFirst: true });
  registry = fakeRegistry([world.activeEcu]);
});

async function post(body: unknown, clientCertPem?: string): Promise<Response> {
  const raw = typeof body === 'string' ? body : JSON.stringify(body);
  return toResponse(await handler(httpEvent(raw, clientCertPem), lambdaContext));
}

/** A body proving possession by signature, with the attestation chain leaf + int1 (the ECU's bound issuer). */
function signedBody(
  csrPem: string,
  opts: { signedAt?: string; key?: Parameters<typeof signAttestation>[2]; certificate?: string } = {},
) {
  const signedAt = opts.signedAt ?? new Date().toISOString().replace(/\.\d+Z$/, 'Z');
  return {
    csr: csrPem,
    attestation: {
      certificate: opts.certificate ?? world.attestation.pem + world.mfrInt1.pem,
      signedAt,
      signature: signAttestation(csrPem, signedAt, opts.key ?? world.attestation.keys.privateKey),
    },
  };
}

describe('POST /certificates issues an operational certificate', () => {
  it('over mutual TLS: subject and SAN from the attested identity, chain verified by openssl, registry updated', async () => {
    const csr = await freshCsr('CN=someone-else,O=Attacker');

    const res = await post({ csr: csr.pem }, world.attestation.pem);

    expect(res.status).toBe(201);
    expect(res.body.thingName).toBe(THING_NAME);
    const certificatePem = String(res.body.certificatePem);
    const chainPem = String(res.body.certificateChainPem);
    expect(opensslVerify(certificatePem, world.opRoot.pem, chainPem)).toMatch(/OK/);
    const { X509Certificate } = await import('node:crypto');
    const cert = new X509Certificate(certificatePem);
    expect(cert.subject).toBe(`CN=${THING_NAME}`);
    expect(cert.subjectAltName).toBe(`URI:urn:cv:vin:${VIN}:ecu:${ECU_ID}`);
    expect(cert.serialNumber.toLowerCase()).toBe(String(res.body.serialNumber).toLowerCase());
    expect(new Date(String(res.body.notAfter)).getTime()).toBe(new Date(cert.validTo).getTime());
    // The certificate carries the CSR's key.
    const csrSpki = Buffer.from(await crypto.subtle.exportKey('spki', csr.keys.publicKey));
    expect(cert.publicKey.export({ type: 'spki', format: 'der' }).equals(csrSpki)).toBe(true);

    expect(pca.requests).toHaveLength(1);
    const request = pca.requests[0];
    expect(request?.CertificateAuthorityArn).toBe(CA_ARN);
    expect(request?.TemplateArn).toBe(TEMPLATE_ARN);
    expect(request?.Validity).toEqual({ Type: 'DAYS', Value: 365 });
    expect(request?.IdempotencyToken).toMatch(/^[0-9a-f]{32}$/);
    expect(request?.ApiPassthrough?.Subject).toEqual({ CommonName: THING_NAME });
    expect(request?.ApiPassthrough?.Extensions?.SubjectAlternativeNames).toEqual([
      { UniformResourceIdentifier: `urn:cv:vin:${VIN}:ecu:${ECU_ID}` },
    ]);
    const row = registry.table.get(ECU_ID);
    expect(row?.thingName).toBe(THING_NAME);
    expect(String(row?.certificateSerial).toLowerCase()).toBe(String(res.body.serialNumber).toLowerCase());
    expect(row?.certificateNotAfter).toBe(res.body.notAfter);
    expect(typeof row?.updatedAt).toBe('string');
    expect(row?.status).toBe('ACTIVE');
  });

  it('with a signed attestation whose intermediate comes in the body (ECDSA P-256)', async () => {
    registry = fakeRegistry([ecuBoundTo(world.mfrInt2)]);
    const csr = await freshCsr();

    const res = await post(
      signedBody(csr.pem, {
        certificate: world.attestationViaInt2.pem + world.mfrInt2.pem,
        key: world.attestationViaInt2.keys.privateKey,
      }),
    );

    expect(res.status).toBe(201);
    expect(res.body.thingName).toBe(THING_NAME);
    expect(pca.mock.commandCalls(IssueCertificateCommand as never)).toHaveLength(1);
  });

  it('with an RSA attestation key signing RSASSA-PSS, for P-384 and RSA-2048 CSR keys', async () => {
    registry = fakeRegistry([ecuBoundTo(world.mfrInt2)]);
    const rsaAttestation = await issueCert({
      subject: `CN=${ECU_ID}`,
      issuer: world.mfrInt2,
      keySpec: 'RSA-2048',
    });
    for (const spec of ['P-384', 'RSA-2048'] as const) {
      const csrPem = await makeCsr(await generateKeys(spec));

      const res = await post(
        signedBody(csrPem, {
          key: rsaAttestation.keys.privateKey,
          certificate: rsaAttestation.pem + world.mfrInt2.pem,
        }),
      );

      expect(res.status).toBe(201);
    }
    expect(pca.mock.commandCalls(IssueCertificateCommand as never)).toHaveLength(2);
  });

  it('a retried request (same CSR over mutual TLS) is answered from the replay ledger: same certificate, PCA asked once', async () => {
    const csr = await freshCsr();

    const first = await post({ csr: csr.pem }, world.attestation.pem);
    const retry = await post({ csr: csr.pem }, world.attestation.pem);
    const other = await post({ csr: (await freshCsr()).pem }, world.attestation.pem);

    expect([first.status, retry.status, other.status]).toEqual([201, 201, 201]);
    expect(retry.body).toEqual(first.body);
    expect(pca.requests).toHaveLength(2);
    expect(pca.requests[0]?.IdempotencyToken).toMatch(/^[0-9a-f]{32}$/);
    expect(pca.requests[1]?.IdempotencyToken).not.toBe(pca.requests[0]?.IdempotencyToken);
    expect(registry.updates).toHaveLength(2);
  });
});

interface RejectionCase {
  readonly name: string;
  readonly status: number;
  readonly error: string;
  readonly request: () => Promise<{ body: unknown; clientCertPem?: string }>;
  readonly registry?: (world: World) => readonly Record<string, string>[];
  /** The internal reason code logged at INFO (never returned). */
  readonly reason: string;
  /** The failing check logged with it, when the case pins it. */
  readonly check?: string | RegExp;
}

const fixture = (name: string) =>
  readFileSync(fileURLToPath(new URL(`./fixtures/${name}`, import.meta.url)), 'utf8');
const iso = (offsetMs: number) => new Date(Date.now() + offsetMs).toISOString().replace(/\.\d+Z$/, 'Z');
const DAY = 86_400_000;

/** Every way a request must be refused with nothing issued. */
const rejections: RejectionCase[] = [
  {
    name: 'CSR whose signature does not verify',
    status: 400,
    error: 'invalid_request',
    reason: 'malformed',
    check: 'csr-signature',
    request: async () => ({
      body: { csr: corruptCsrSignature((await freshCsr()).pem) },
      clientCertPem: world.attestation.pem,
    }),
  },
  {
    name: 'CSR that is not a PKCS#10 structure',
    status: 400,
    error: 'invalid_request',
    reason: 'malformed',
    check: 'csr-der',
    request: async () => ({
      body: { csr: '-----BEGIN CERTIFICATE REQUEST-----\nAAAA\n-----END CERTIFICATE REQUEST-----\n' },
      clientCertPem: world.attestation.pem,
    }),
  },
  {
    name: 'CSR key equal to the attestation key (mutual TLS)',
    status: 403,
    error: 'key_not_allowed',
    reason: 'key-reuse',
    request: async () => ({
      body: { csr: await makeCsr(world.attestation.keys) },
      clientCertPem: world.attestation.pem,
    }),
  },
  {
    name: 'CSR key equal to the attestation key (signed attestation)',
    status: 403,
    error: 'key_not_allowed',
    reason: 'key-reuse',
    request: async () => ({ body: signedBody(await makeCsr(world.attestation.keys)) }),
  },
  {
    name: 'attestation from an untrusted manufacturer root',
    status: 403,
    error: 'attestation_not_trusted',
    reason: 'chain',
    request: async () => {
      const rogueRoot = await issueCert({ subject: 'CN=Rogue Root', ca: true });
      const rogue = await issueCert({ subject: `CN=${ECU_ID}`, issuer: rogueRoot });
      const csr = await freshCsr();
      return {
        body: signedBody(csr.pem, { key: rogue.keys.privateKey, certificate: rogue.pem + rogueRoot.pem }),
      };
    },
  },
  {
    name: 'self-signed attestation certificate with the right CN',
    status: 403,
    error: 'attestation_not_trusted',
    reason: 'chain',
    request: async () => {
      const self = await issueCert({ subject: `CN=${ECU_ID}` });
      return {
        body: signedBody((await freshCsr()).pem, { key: self.keys.privateKey, certificate: self.pem }),
      };
    },
  },
  {
    name: 'expired attestation certificate',
    status: 403,
    error: 'attestation_not_trusted',
    reason: 'chain',
    check: 'expired at depth 0',
    request: async () => {
      const old = await issueCert({
        subject: `CN=${ECU_ID}`,
        issuer: world.mfrInt1,
        notBefore: new Date(Date.now() - 400 * DAY),
        notAfter: new Date(Date.now() - DAY),
      });
      return { body: { csr: (await freshCsr()).pem }, clientCertPem: old.pem };
    },
  },
  {
    name: 'attestation certificate not yet valid',
    status: 403,
    error: 'attestation_not_trusted',
    reason: 'chain',
    check: 'not-yet-valid at depth 0',
    request: async () => {
      const future = await issueCert({
        subject: `CN=${ECU_ID}`,
        issuer: world.mfrInt1,
        notBefore: new Date(Date.now() + DAY),
        notAfter: new Date(Date.now() + 400 * DAY),
      });
      return { body: { csr: (await freshCsr()).pem }, clientCertPem: future.pem };
    },
  },
  {
    name: 'intermediate expired',
    status: 403,
    error: 'attestation_not_trusted',
    reason: 'chain',
    request: async () => {
      const oldInt = await issueCert({
        subject: 'CN=Expired Intermediate',
        ca: true,
        pathLength: 0,
        issuer: world.mfrRoot,
        notBefore: new Date(Date.now() - 400 * DAY),
        notAfter: new Date(Date.now() - DAY),
      });
      const leaf = await issueCert({ subject: `CN=${ECU_ID}`, issuer: oldInt });
      return {
        body: signedBody((await freshCsr()).pem, {
          key: leaf.keys.privateKey,
          certificate: leaf.pem + oldInt.pem,
        }),
      };
    },
  },
  {
    name: 'attestation leaf flagged as a CA',
    status: 403,
    error: 'attestation_not_trusted',
    reason: 'chain',
    request: async () => {
      const caLeaf = await issueCert({
        subject: `CN=${ECU_ID}`,
        issuer: world.mfrInt1,
        ca: true,
        keyUsage: 0x80 | 0x04, // digitalSignature | keyCertSign
      });
      return { body: { csr: (await freshCsr()).pem }, clientCertPem: caLeaf.pem };
    },
  },
  {
    name: 'attestation leaf without digitalSignature keyUsage',
    status: 403,
    error: 'attestation_not_trusted',
    reason: 'chain',
    request: async () => {
      const wrongUsage = await issueCert({
        subject: `CN=${ECU_ID}`,
        issuer: world.mfrInt1,
        keyUsage: 0x20 /* keyEncipherment */,
      });
      return { body: { csr: (await freshCsr()).pem }, clientCertPem: wrongUsage.pem };
    },
  },
  {
    name: 'attestation issued by a certificate that is not a CA',
    status: 403,
    error: 'attestation_not_trusted',
    reason: 'chain',
    request: async () => {
      const notCa = await issueCert({ subject: 'CN=Not A CA', issuer: world.mfrRoot, keyUsage: 0x80 | 0x04 });
      const leaf = await issueCert({ subject: `CN=${ECU_ID}`, issuer: notCa });
      return {
        body: signedBody((await freshCsr()).pem, {
          key: leaf.keys.privateKey,
          certificate: leaf.pem + notCa.pem,
        }),
      };
    },
  },
  {
    name: 'path length violation (intermediate under a pathLen 0 intermediate)',
    status: 403,
    error: 'attestation_not_trusted',
    reason: 'chain',
    request: async () => {
      const sub = await issueCert({ subject: 'CN=Sub Intermediate', ca: true, issuer: world.mfrInt2 });
      const leaf = await issueCert({ subject: `CN=${ECU_ID}`, issuer: sub });
      return {
        body: signedBody((await freshCsr()).pem, {
          key: leaf.keys.privateKey,
          certificate: leaf.pem + sub.pem + world.mfrInt2.pem,
        }),
      };
    },
  },
  {
    name: 'no proof of possession (no client certificate, no attestation)',
    status: 401,
    error: 'proof_of_possession_required',
    reason: 'no-proof-of-possession',
    request: async () => ({ body: { csr: (await freshCsr()).pem } }),
  },
  {
    name: 'stale signedAt (6 minutes old)',
    status: 403,
    error: 'attestation_not_trusted',
    reason: 'freshness',
    check: 'stale',
    request: async () => ({ body: signedBody((await freshCsr()).pem, { signedAt: iso(-6 * 60_000) }) }),
  },
  {
    name: 'signedAt in the future (6 minutes ahead)',
    status: 403,
    error: 'attestation_not_trusted',
    reason: 'freshness',
    check: 'future',
    request: async () => ({ body: signedBody((await freshCsr()).pem, { signedAt: iso(6 * 60_000) }) }),
  },
  {
    name: 'attestation signed by another key than the attestation certificate',
    status: 403,
    error: 'attestation_not_trusted',
    reason: 'signature',
    check: 'bad-signature',
    request: async () => {
      const other = await generateKeys('P-256');
      return { body: signedBody((await freshCsr()).pem, { key: other.privateKey }) };
    },
  },
  {
    name: 'attestation signature over another CSR',
    status: 403,
    error: 'attestation_not_trusted',
    reason: 'signature',
    check: 'bad-signature',
    request: async () => {
      const body = signedBody((await freshCsr()).pem);
      return { body: { ...body, csr: (await freshCsr()).pem } };
    },
  },
  {
    name: 'body attestation certificate differs from the mutual-TLS client certificate',
    status: 403,
    error: 'attestation_not_trusted',
    reason: 'client-certificate-mismatch',
    request: async () => ({
      body: signedBody((await freshCsr()).pem, {
        certificate: world.attestationViaInt2.pem + world.mfrInt2.pem,
        key: world.attestationViaInt2.keys.privateKey,
      }),
      clientCertPem: world.attestation.pem,
    }),
  },
  {
    name: 'ECU unknown to the registry',
    status: 403,
    error: 'ecu_not_allowed',
    reason: 'ecu-unknown',
    registry: () => [],
    request: async () => ({ body: { csr: (await freshCsr()).pem }, clientCertPem: world.attestation.pem }),
  },
  {
    name: 'ECU BLOCKED in the registry',
    status: 403,
    error: 'ecu_not_allowed',
    reason: 'ecu-not-active',
    registry: (w) => [{ ...w.activeEcu, status: 'BLOCKED' }],
    request: async () => ({ body: { csr: (await freshCsr()).pem }, clientCertPem: world.attestation.pem }),
  },
  {
    name: 'ECU DECOMMISSIONED in the registry',
    status: 403,
    error: 'ecu_not_allowed',
    reason: 'ecu-not-active',
    registry: (w) => [{ ...w.activeEcu, status: 'DECOMMISSIONED' }],
    request: async () => ({ body: { csr: (await freshCsr()).pem }, clientCertPem: world.attestation.pem }),
  },
  {
    name: 'oversized body (over 16 KiB)',
    status: 413,
    error: 'payload_too_large',
    reason: 'too-large',
    request: async () => ({ body: { csr: (await freshCsr()).pem, padding: 'x'.repeat(17 * 1024) } }),
  },
  {
    name: 'non-JSON body',
    status: 400,
    error: 'invalid_request',
    reason: 'malformed',
    check: 'json',
    request: async () => ({
      body: 'csr=-----BEGIN CERTIFICATE REQUEST-----',
      clientCertPem: world.attestation.pem,
    }),
  },
  {
    name: 'unknown field in the body',
    status: 400,
    error: 'invalid_request',
    reason: 'malformed',
    request: async () => ({
      body: { csr: (await freshCsr()).pem, subject: 'CN=admin' },
      clientCertPem: world.attestation.pem,
    }),
  },
  {
    name: 'signedAt not RFC 3339 UTC',
    status: 400,
    error: 'invalid_request',
    reason: 'malformed',
    request: async () => ({
      body: signedBody((await freshCsr()).pem, { signedAt: '2026-11-25 09:30:00+01:00' }),
    }),
  },
  {
    name: 'RSA 1024 CSR key',
    status: 403,
    error: 'key_not_allowed',
    reason: 'key-type',
    request: async () => ({
      body: { csr: await makeCsr(await generateKeys('RSA-1024')) },
      clientCertPem: world.attestation.pem,
    }),
  },
  {
    name: 'RSA 6144 CSR key (above 4096 bits; fixture CSR, the key was discarded)',
    status: 403,
    error: 'key_not_allowed',
    reason: 'key-type',
    request: async () => ({
      body: { csr: fixture('rsa-6144.csr.pem') },
      clientCertPem: world.attestation.pem,
    }),
  },
  {
    name: 'P-192 CSR key',
    status: 403,
    error: 'key_not_allowed',
    reason: 'key-type',
    request: async () => ({
      body: {
        csr: makeCsrWithOpenssl(['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:prime192v1']),
      },
      clientCertPem: world.attestation.pem,
    }),
  },
  {
    name: 'P-521 CSR key',
    status: 403,
    error: 'key_not_allowed',
    reason: 'key-type',
    request: async () => ({
      body: {
        csr: makeCsrWithOpenssl(['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-521']),
      },
      clientCertPem: world.attestation.pem,
    }),
  },
  {
    name: 'secp256k1 CSR key',
    status: 403,
    error: 'key_not_allowed',
    reason: 'key-type',
    request: async () => ({
      body: {
        csr: makeCsrWithOpenssl(['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:secp256k1']),
      },
      clientCertPem: world.attestation.pem,
    }),
  },
  {
    name: 'Ed25519 CSR key',
    status: 403,
    error: 'key_not_allowed',
    reason: 'key-type',
    request: async () => ({
      body: { csr: makeCsrWithOpenssl(['genpkey', '-algorithm', 'ED25519']) },
      clientCertPem: world.attestation.pem,
    }),
  },
];

describe('POST /certificates refuses and issues nothing', () => {
  it.each(rejections)('$name -> $status', async (c) => {
    if (c.registry) registry = fakeRegistry(c.registry(world) as never);
    const { body, clientCertPem } = await c.request();

    const { result: res, lines } = await captureLogs(() => post(body, clientCertPem));

    expect(res.status).toBe(c.status);
    expect(res.body).toEqual({ error: c.error, message: expect.any(String) });
    expect(JSON.stringify(res.body)).not.toMatch(/at .*\.ts|Error:|stack/);
    expect(pca.mock.commandCalls(IssueCertificateCommand as never)).toHaveLength(0);
    expect(registry.updates).toHaveLength(0);
    expect(registry.ledgerWrites).toHaveLength(0);
    // The internal reason and failing check are logged at INFO, and never returned.
    const rejected = lines.filter((l) => l.message === 'certificate request rejected');
    expect(rejected).toEqual([
      expect.objectContaining({ level: 'INFO', reason: c.reason, check: c.check ?? expect.any(String) }),
    ]);
    expect(JSON.stringify(res.body)).not.toContain(String(rejected[0]?.check));
    expect(JSON.stringify(lines)).not.toContain('-----BEGIN');
  });

  it('counts the rejection cases', () => {
    expect(rejections.length).toBe(32);
  });
});

describe('POST /certificates when AWS throttles', () => {
  it('PCA ThrottlingException -> 429 with Retry-After, registry untouched', async () => {
    const throttled = Object.assign(new Error('Rate exceeded'), {
      name: 'ThrottlingException',
      $metadata: { httpStatusCode: 400 },
    });
    pca.mock.on(IssueCertificateCommand as never).rejects(throttled);

    const res = await post({ csr: (await freshCsr()).pem }, world.attestation.pem);

    expect(res.status).toBe(429);
    expect(Number(res.headers['Retry-After'])).toBeGreaterThan(0);
    expect(res.body).toEqual({ error: expect.any(String), message: expect.any(String) });
    expect(registry.updates).toHaveLength(0);
  });

  it('PCA LimitExceededException -> 429 with Retry-After', async () => {
    pca.mock
      .on(IssueCertificateCommand as never)
      .rejects(new LimitExceededException({ message: 'limit', $metadata: {} }));

    const res = await post({ csr: (await freshCsr()).pem }, world.attestation.pem);

    expect(res.status).toBe(429);
    expect(Number(res.headers['Retry-After'])).toBeGreaterThan(0);
  });

  it('PCA unavailable (HTTP 503) -> 503 with Retry-After and a generic message', async () => {
    const unavailable = Object.assign(new Error('internal details: host pca-7.internal'), {
      name: 'ServiceUnavailableException',
      $metadata: { httpStatusCode: 503 },
    });
    pca.mock.on(IssueCertificateCommand as never).rejects(unavailable);

    const res = await post({ csr: (await freshCsr()).pem }, world.attestation.pem);

    expect(res.status).toBe(503);
    expect(Number(res.headers['Retry-After'])).toBeGreaterThan(0);
    expect(JSON.stringify(res.body)).not.toContain('pca-7');
  });

  it('registry throttling -> 429 and PCA never called', async () => {
    const throttled = Object.assign(new Error('slow down'), {
      name: 'ProvisionedThroughputExceededException',
      $metadata: { httpStatusCode: 400 },
    });
    registry.mock.on(GetCommand as never).rejects(throttled);

    const res = await post({ csr: (await freshCsr()).pem }, world.attestation.pem);

    expect(res.status).toBe(429);
    expect(Number(res.headers['Retry-After'])).toBeGreaterThan(0);
    expect(pca.mock.commandCalls(IssueCertificateCommand as never)).toHaveLength(0);
  });

  it('an unexpected failure is a generic 500 without internals', async () => {
    pca.mock
      .on(IssueCertificateCommand as never)
      .rejects(new Error('AccessDenied for role arn:aws:iam::123456789012:role/x'));

    const res = await post({ csr: (await freshCsr()).pem }, world.attestation.pem);

    expect(res.status).toBe(500);
    expect(res.body).toEqual({ error: 'internal', message: 'Internal error' });
  });
});

describe('logs', () => {
  it('carry the decision and never a PEM, a CSR or a signature', async () => {
    const lines: string[] = [];
    let signature = '';
    const spy = vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
      lines.push(String(chunk));
      return true;
    });
    try {
      const csr = await freshCsr();
      const body = signedBody(csr.pem);
      signature = body.attestation.signature;
      await post(body);
      await post({ ...body, attestation: { ...body.attestation, signedAt: iso(-3_600_000) } });
      await post({ csr: corruptCsrSignature(csr.pem) }, world.attestation.pem);
    } finally {
      spy.mockRestore();
    }
    const output = lines.join('');

    expect(output).toContain('certificate issued');
    expect(output).toContain('request rejected');
    expect(output).not.toContain('-----BEGIN');
    expect(output).not.toMatch(/MII[A-Za-z0-9+/]{20}/);
    expect(output).not.toContain(signature);
  });
});

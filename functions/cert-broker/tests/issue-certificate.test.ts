/** The use case with in-memory fakes: paths the handler tests do not reach. */
import 'reflect-metadata';
import { randomUUID, X509Certificate } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { EnrolmentInProgressError, IssuanceNotAllowedError } from '../src/errors.js';
import {
  type IssueCertificateDeps,
  IssuedCertificateMismatchError,
  idempotencyTokenFor,
  issueCertificate,
} from '../src/issue-certificate.js';
import type {
  CertificateAuthority,
  EcuRecord,
  EcuRegistry,
  IssuedCertificateEntry,
  IssuedCertificateLog,
  IssuedCertificateRecord,
  IssueRequest,
} from '../src/ports.js';
import { MemoryLedger } from './helpers/memory-ledger.js';
import { issueCert, pemToDer } from './helpers/pki.js';
import { buildWorld, ECU_ID, freshCsr, THING_NAME } from './helpers/world.js';

class MemoryRegistry implements EcuRegistry {
  readonly recorded: IssuedCertificateRecord[] = [];
  constructor(
    private row: EcuRecord | undefined,
    private readonly flipToBlockedBeforeRecord = false,
    private readonly rebindBeforeRecord = false,
  ) {}
  async get(): Promise<EcuRecord | undefined> {
    return this.row;
  }
  async recordIssued(
    _ecuId: string,
    expected: { vin: string; attestationIssuerKeySha256: string },
    record: IssuedCertificateRecord,
  ): Promise<boolean> {
    if (this.flipToBlockedBeforeRecord && this.row) this.row = { ...this.row, status: 'BLOCKED' };
    if (this.rebindBeforeRecord && this.row)
      this.row = { ...this.row, attestationIssuerKeySha256: 'ab'.repeat(32) };
    if (this.row?.status !== 'ACTIVE' || this.row.vin !== expected.vin) return false;
    if (this.row.attestationIssuerKeySha256 !== expected.attestationIssuerKeySha256) return false;
    this.recorded.push(record);
    return true;
  }
}

class MemoryIssuedLog implements IssuedCertificateLog {
  readonly entries: IssuedCertificateEntry[] = [];
  readonly failures: unknown[] = [];
  constructor(private failWith?: Error) {}
  async record(entry: IssuedCertificateEntry): Promise<void> {
    if (this.failWith) throw this.failWith;
    this.entries.push(entry);
  }
}

/** A CA that signs whatever subject it is configured to (e.g. a template that ignores API passthrough). */
class MemoryCa implements CertificateAuthority {
  readonly requests: IssueRequest[] = [];
  constructor(
    private readonly sign: (request: IssueRequest) => Promise<string>,
    private readonly chain: string,
  ) {}
  private readonly issued = new Map<string, string>();
  async request(request: IssueRequest): Promise<string> {
    this.requests.push(request);
    const arn = `arn:aws:acm-pca:eu-west-1:123456789012:certificate-authority/x/certificate/${this.requests.length}`;
    this.issued.set(arn, await this.sign(request));
    return arn;
  }
  async fetch(arn: string) {
    return { certificatePem: this.issued.get(arn) ?? '', certificateChainPem: this.chain };
  }
}

async function setup(
  opts: {
    subject?: (r: IssueRequest) => string;
    san?: boolean;
    otherKey?: boolean;
    flip?: boolean;
    rebind?: boolean;
    recordFails?: Error;
  } = {},
) {
  const world = await buildWorld();
  const csr = await freshCsr('CN=from-the-csr');
  const other = await freshCsr();
  const registry = new MemoryRegistry({ ...world.activeEcu }, opts.flip, opts.rebind);
  const ledger = new MemoryLedger();
  const issued = new MemoryIssuedLog(opts.recordFails);
  const ca = new MemoryCa(
    async (request) =>
      (
        await issueCert({
          subject: opts.subject ? opts.subject(request) : `CN=${request.subjectCommonName}`,
          keys: opts.otherKey ? other.keys : csr.keys,
          issuer: world.opIssuing,
          sanUris: opts.san === false ? [] : [request.subjectAlternativeNameUri],
        })
      ).pem,
    world.opChainPem,
  );
  const deps: IssueCertificateDeps = {
    registry,
    ca,
    trustBundle: { get: async () => world.trustBundlePem },
    ledger,
    validityDays: 30,
    now: () => new Date(),
    leaseMs: 30_000,
    ledgerRetentionSeconds: 86_400,
    newLeaseOwner: () => randomUUID(),
    issuedCertificates: issued,
    onIssuedRecordFailure: (certificateId, error) => issued.failures.push({ certificateId, error }),
  };
  return { world, csr, registry, ca, ledger, issued, deps };
}

describe('issueCertificate (in-memory fakes)', () => {
  it('issues with the configured validity and records the serial', async () => {
    const { world, csr, registry, ca, deps } = await setup();

    const result = await issueCertificate({ csrPem: csr.pem, clientCertPem: world.attestation.pem }, deps);

    expect(result.thingName).toBe(THING_NAME);
    expect(ca.requests[0]?.validityDays).toBe(30);
    expect(registry.recorded).toEqual([
      expect.objectContaining({ thingName: THING_NAME, certificateSerial: result.serialNumber }),
    ]);
  });

  it('records the issued certificate under the id AWS IoT gives it (SHA-256 of its DER), with its ECU, thing and PEM, after the registry', async () => {
    const { world, csr, registry, issued, deps } = await setup();

    const result = await issueCertificate({ csrPem: csr.pem, clientCertPem: world.attestation.pem }, deps);

    // Independently of the broker's code: node's fingerprint256 is SHA-256 over the DER.
    const fingerprint = new X509Certificate(result.certificatePem).fingerprint256
      .replaceAll(':', '')
      .toLowerCase();
    expect(issued.entries).toEqual([
      {
        certificateId: fingerprint,
        ecuId: ECU_ID,
        thingName: THING_NAME,
        certificatePem: result.certificatePem,
        serialNumber: result.serialNumber,
        notAfter: result.notAfter,
        issuedAt: expect.any(String),
      },
    ]);
    expect(registry.recorded).toHaveLength(1);
  });

  it('the issued-certificate record fails: the certificate is still answered, issued once, in the registry and the ledger; the failure is reported', async () => {
    const failure = Object.assign(new Error('throttled'), { name: 'ThrottlingException' });
    const { world, csr, registry, ca, ledger, issued, deps } = await setup({ recordFails: failure });

    const result = await issueCertificate({ csrPem: csr.pem, clientCertPem: world.attestation.pem }, deps);

    expect(result).toMatchObject({ thingName: THING_NAME, replayed: false });
    expect(ca.requests).toHaveLength(1);
    expect(registry.recorded).toEqual([expect.objectContaining({ certificateSerial: result.serialNumber })]);
    expect([...ledger.rows.values()]).toEqual([expect.objectContaining({ state: 'COMPLETED' })]);
    expect(issued.entries).toEqual([]);
    const fingerprint = new X509Certificate(result.certificatePem).fingerprint256
      .replaceAll(':', '')
      .toLowerCase();
    expect(issued.failures).toEqual([{ certificateId: fingerprint, error: failure }]);

    // The same proof again: the ledger answers, nothing is issued or recorded again.
    const again = await issueCertificate({ csrPem: csr.pem, clientCertPem: world.attestation.pem }, deps);
    expect(again).toMatchObject({ serialNumber: result.serialNumber, replayed: true });
    expect(ca.requests).toHaveLength(1);
  });

  it.each([
    ['a CA template that copies the CSR subject', { subject: () => 'CN=from-the-csr' }],
    ['a certificate without the identity SAN', { san: false }],
    ['a certificate for another key', { otherKey: true }],
  ])('refuses to return %s, and records nothing', async (_name, opts) => {
    const { world, csr, registry, issued, deps } = await setup(opts);

    await expect(
      issueCertificate({ csrPem: csr.pem, clientCertPem: world.attestation.pem }, deps),
    ).rejects.toThrow(IssuedCertificateMismatchError);
    expect(registry.recorded).toEqual([]);
    expect(issued.entries).toEqual([]);
  });

  it('an ECU blocked during issuance is not recorded (registry nor issued-certificate record) and the caller gets 403 semantics', async () => {
    const { world, csr, registry, issued, deps } = await setup({ flip: true });

    await expect(
      issueCertificate({ csrPem: csr.pem, clientCertPem: world.attestation.pem }, deps),
    ).rejects.toThrow(IssuanceNotAllowedError);
    expect(registry.recorded).toEqual([]);
    expect(issued.entries).toEqual([]);
  });

  it('a supplier binding changed during issuance: not recorded, 403 semantics, and the proof can be retried', async () => {
    const { world, csr, registry, ledger, deps } = await setup({ rebind: true });

    await expect(
      issueCertificate({ csrPem: csr.pem, clientCertPem: world.attestation.pem }, deps),
    ).rejects.toThrow(IssuanceNotAllowedError);
    expect(registry.recorded).toEqual([]);
    expect([...ledger.rows.values()]).toEqual([expect.objectContaining({ state: 'ISSUED', leaseUntil: 0 })]);
  });

  it('a proof whose lease another invocation holds: EnrolmentInProgressError with the seconds left, the CA not asked', async () => {
    const { world, csr, ca, ledger, deps } = await setup();
    const input = { csrPem: csr.pem, clientCertPem: world.attestation.pem };
    await issueCertificate(input, {
      ...deps,
      ca: {
        request: async () => {
          throw new Error('down');
        },
        fetch: ca.fetch.bind(ca),
      },
    }).catch(() => undefined);
    const [row] = [...ledger.rows.values()];
    if (row === undefined) throw new Error('no ledger row');
    ledger.rows.set(row.proofId, { ...row, leaseOwner: 'other', leaseUntil: Date.now() + 12_500 });

    const error = await issueCertificate(input, deps).catch((e: unknown) => e);

    expect(error).toBeInstanceOf(EnrolmentInProgressError);
    expect((error as EnrolmentInProgressError).retryAfterSeconds).toBeGreaterThanOrEqual(12);
    expect((error as EnrolmentInProgressError).retryAfterSeconds).toBeLessThanOrEqual(13);
    expect(ca.requests).toEqual([]);
  });

  it('a takeover lost to another invocation: EnrolmentInProgressError, the CA not asked', async () => {
    const { world, csr, ca, ledger, deps } = await setup();
    const input = { csrPem: csr.pem, clientCertPem: world.attestation.pem };
    await issueCertificate(input, {
      ...deps,
      ca: {
        request: async () => {
          throw new Error('down');
        },
        fetch: ca.fetch.bind(ca),
      },
    }).catch(() => undefined);
    ledger.takeOver = async () => false;

    await expect(issueCertificate(input, deps)).rejects.toBeInstanceOf(EnrolmentInProgressError);
    expect(ca.requests).toEqual([]);
  });

  it('another invocation completed the proof first: its certificate is the answer (one answer per proof)', async () => {
    const { world, csr, ledger, deps } = await setup();
    const winner = {
      certificatePem: 'winner',
      certificateChainPem: 'chain',
      serialNumber: '0abc',
      notAfter: '2027-01-01T00:00:00.000Z',
    };
    ledger.complete = async (proofId) => {
      const row = ledger.rows.get(proofId);
      if (row === undefined) throw new Error('no ledger row');
      return { ...row, state: 'COMPLETED', certificate: winner };
    };

    const result = await issueCertificate({ csrPem: csr.pem, clientCertPem: world.attestation.pem }, deps);

    expect(result).toMatchObject({ serialNumber: '0abc', certificatePem: 'winner', replayed: false });
  });

  it('an attestation CN that is not an ECU id is refused before the registry and the CA', async () => {
    const { world, csr, ca, deps } = await setup();
    const odd = await issueCert({ subject: 'CN=ECU 0001/../admin', issuer: world.mfrInt1 });

    await expect(issueCertificate({ csrPem: csr.pem, clientCertPem: odd.pem }, deps)).rejects.toMatchObject({
      reason: 'identity',
    });
    expect(ca.requests).toEqual([]);
  });

  it('idempotency token: 32 hex characters, stable per (CSR, thing), different across things', async () => {
    const { csr } = await setup();
    const der = pemToDer(csr.pem);

    const token = idempotencyTokenFor(der, THING_NAME);

    expect(token).toMatch(/^[0-9a-f]{32}$/);
    expect(idempotencyTokenFor(der, THING_NAME)).toBe(token);
    expect(idempotencyTokenFor(der, `${THING_NAME.slice(0, 18)}${ECU_ID}X`)).not.toBe(token);
  });
});

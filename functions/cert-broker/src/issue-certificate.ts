/**
 * The issue-certificate use case (docs/architecture.md §4, issue 12 items 6-8): verify the request, then issue at
 * most once per proof of possession. The replay ledger records each proof before the CA is asked;
 * a replay of a used proof is answered with the certificate already issued for it (same serial,
 * no CA call, registry untouched). A failed attempt releases its lease and leaves the CA's
 * certificate ARN in the ledger, so a retry of the same proof completes it instead of issuing again.
 */
import { createHash } from 'node:crypto';
import { parseCertificate } from '@cv/crypto/x509';
import { BrokerError, EnrolmentInProgressError, IssuanceNotAllowedError } from './errors.js';
import { identityUriOf, thingNameOf } from './identity.js';
import type { CertificateAuthority, IssuedCertificateLog, LedgerCertificate, ReplayLedger } from './ports.js';
import { type IssueCertificateInput, type VerifyDeps, verifyRequest } from './verify-request.js';

export type { IssueCertificateInput } from './verify-request.js';

export interface IssueCertificateDeps extends VerifyDeps {
  readonly ca: CertificateAuthority;
  readonly ledger: ReplayLedger;
  readonly validityDays: number;
  readonly now: () => Date;
  /** How long one invocation holds a proof, in ms: at least the function timeout. */
  readonly leaseMs: number;
  /** How long a used proof is remembered, in seconds: far beyond the 10-minute acceptance window. */
  readonly ledgerRetentionSeconds: number;
  /** A new, unguessable lease owner id per invocation. */
  readonly newLeaseOwner: () => string;
  /** Where the issued certificate is recorded for jitr-handler (best effort, see step 13). */
  readonly issuedCertificates: IssuedCertificateLog;
  /** Told when that record could not be written (logged and counted by the handler; no PEM in it). */
  readonly onIssuedRecordFailure: (certificateId: string, error: unknown) => void;
}

export interface IssueCertificateResult {
  readonly thingName: string;
  readonly ecuId: string;
  readonly vin: string;
  readonly certificatePem: string;
  readonly certificateChainPem: string;
  readonly serialNumber: string;
  readonly notAfter: string;
  /** How possession of the attestation key was proven. */
  readonly proofOfPossession: 'mtls' | 'signature';
  /** True when this proof had been used before and the certificate issued then is returned. */
  readonly replayed: boolean;
}

/** The issued certificate does not carry what was asked (e.g. the PCA template is not an APIPassthrough one). */
export class IssuedCertificateMismatchError extends BrokerError {
  readonly detail: string;
  constructor(detail: string) {
    super('The issued certificate does not match the request');
    this.name = 'IssuedCertificateMismatchError';
    this.detail = detail;
  }
}

/**
 * PCA idempotency token: 32 hex characters (128 bits) of SHA-256 over the CSR DER and the
 * thing name. PCA accepts at most 36 characters and documents the token as alphanumeric, so
 * hex rather than base64url. A retried request with the same CSR maps to the same token
 * (PCA remembers tokens for five minutes); binding the thing name means a CSR replayed
 * under another ECU's attestation can never be answered with the first ECU's certificate.
 */
export function idempotencyTokenFor(csrDer: Uint8Array, thingName: string): string {
  return createHash('sha256')
    .update(csrDer)
    .update(Buffer.from([0]))
    .update(thingName, 'utf8')
    .digest('hex')
    .slice(0, 32);
}

/**
 * Issues an operational certificate for an attested ECU (docs/architecture.md §4). Every check runs before the
 * ledger and the private CA are touched; any failure throws a {@link BrokerError} subclass.
 *
 * @example
 * const result = await issueCertificate({ csrPem, clientCertPem }, deps);
 */
export async function issueCertificate(
  input: IssueCertificateInput,
  deps: IssueCertificateDeps,
): Promise<IssueCertificateResult> {
  const now = deps.now();
  const verified = await verifyRequest(input, deps, now);
  const { csr, ecu, ecuId, proofId } = verified;
  const thingName = thingNameOf(ecu.vin, ecuId);
  const sanUri = identityUriOf(ecu.vin, ecuId);
  const result = (certificate: LedgerCertificate, replayed: boolean): IssueCertificateResult => ({
    thingName,
    ecuId,
    vin: ecu.vin,
    ...certificate,
    proofOfPossession: verified.proofKind,
    replayed,
  });

  // 9. One issuance per proof: claim it in the replay ledger (conditional write).
  const nowMs = now.getTime();
  const leaseOwner = deps.newLeaseOwner();
  const leaseUntil = nowMs + deps.leaseMs;
  const claim = await deps.ledger.claim({
    proofId,
    proofKind: verified.proofKind,
    ecuId,
    thingName,
    leaseOwner,
    leaseUntil,
    createdAt: now.toISOString(),
    expiresAt: Math.floor(Math.max(nowMs, verified.signedAtMs ?? nowMs) / 1000) + deps.ledgerRetentionSeconds,
  });
  let certificateArn: string | undefined;
  if (!claim.claimed) {
    const used = claim.record;
    if (used.ecuId !== ecuId || used.thingName !== thingName) {
      throw new IssuanceNotAllowedError(
        'proof-used-for-other-identity',
        `the proof was used for ${used.thingName}, not ${thingName}`,
      );
    }
    if (used.state === 'COMPLETED' && used.certificate !== undefined) return result(used.certificate, true);
    if (used.leaseUntil > nowMs) {
      throw new EnrolmentInProgressError(
        Math.min(Math.ceil((used.leaseUntil - nowMs) / 1000), Math.ceil(deps.leaseMs / 1000)),
      );
    }
    // The attempt that held it failed or died: continue where it stopped.
    const taken = await deps.ledger.takeOver(
      proofId,
      { leaseOwner: used.leaseOwner, leaseUntil: used.leaseUntil },
      { leaseOwner, leaseUntil },
    );
    if (!taken) throw new EnrolmentInProgressError(1);
    certificateArn = used.certificateArn;
  }

  try {
    // 10. Issue (or fetch what an earlier attempt of this proof had the CA issue): subject and
    // SAN from the attested identity, never from the CSR.
    if (certificateArn === undefined) {
      certificateArn = await deps.ca.request({
        csrPem: csr.pem,
        subjectCommonName: thingName,
        subjectAlternativeNameUri: sanUri,
        validityDays: deps.validityDays,
        idempotencyToken: idempotencyTokenFor(csr.der, thingName),
      });
      await deps.ledger.recordRequested(proofId, leaseOwner, certificateArn);
    }
    const issued = await deps.ca.fetch(certificateArn);

    // 11. Never hand out a certificate that does not say what we asked for.
    const certificate = parseCertificate(issued.certificatePem);
    if (!certificate.spki.equals(csr.spki)) throw new IssuedCertificateMismatchError('public key');
    if (certificate.subjectCN !== thingName) throw new IssuedCertificateMismatchError('subject CN');
    if (!certificate.sanUris.includes(sanUri)) throw new IssuedCertificateMismatchError('SAN URI');
    const answer: LedgerCertificate = {
      certificatePem: certificate.pem,
      certificateChainPem: issued.certificateChainPem,
      serialNumber: certificate.serialNumber,
      notAfter: certificate.notAfter.toISOString(),
    };

    // 12. The registry, then the ledger: a crash in between is completed by the next retry.
    const recorded = await deps.registry.recordIssued(
      ecuId,
      { vin: ecu.vin, attestationIssuerKeySha256: ecu.attestationIssuerKeySha256 },
      {
        thingName,
        certificateSerial: answer.serialNumber,
        certificateNotAfter: answer.notAfter,
        updatedAt: now.toISOString(),
      },
    );
    if (!recorded) {
      throw new IssuanceNotAllowedError('ecu-not-active', `ECU ${ecuId} changed during issuance`);
    }

    // 13. The issued-certificate record, keyed by the id AWS IoT will give the certificate
    // (SHA-256 of its DER), so jitr-handler registers it without DescribeCertificate. Best effort:
    // jitr verifies the record against the certificate id and falls back to DescribeCertificate
    // when it is missing, so a failed write costs one IoT call later, never the certificate now
    // (the issuance stands, the answer is the same, nothing is issued again).
    const certificateId = createHash('sha256').update(certificate.der).digest('hex');
    await deps.issuedCertificates
      .record({
        certificateId,
        ecuId,
        thingName,
        certificatePem: certificate.pem,
        serialNumber: answer.serialNumber,
        notAfter: answer.notAfter,
        issuedAt: now.toISOString(),
      })
      .catch((error: unknown) => deps.onIssuedRecordFailure(certificateId, error));
    const winner = await deps.ledger.complete(proofId, answer);
    return result(winner?.certificate ?? answer, false);
  } catch (error) {
    // Let a retry of this proof continue at once rather than after the lease.
    await deps.ledger.release(proofId, leaseOwner).catch(() => undefined);
    throw error;
  }
}

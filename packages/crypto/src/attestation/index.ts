/**
 * Attestation proof of possession (docs/architecture.md §4): the attestation key signs the UTF-8 bytes of
 * `cv-cert-broker/v1\n<signedAt>\n<base64url(SHA-256(CSR DER))>`.
 *
 * Algorithms: EC keys sign ECDSA with SHA-256, DER-encoded (whatever the curve). RSA keys sign
 * RSASSA-PSS with SHA-256, MGF1-SHA-256 and a salt of exactly 32 bytes (the digest length); other
 * salt lengths are rejected. `signedAt` is RFC 3339 UTC with an uppercase `Z`
 * (`2026-11-25T09:30:00Z`, fractional seconds allowed) and must be within 5 minutes of the
 * injected clock, either way.
 * @module
 */
import type { KeyObject } from 'node:crypto';
import { attestationMessageImpl, createAttestationImpl, verifyAttestationImpl } from './attestation.js';

export * from './errors.js';

/** The protocol label, first line of the signed message. */
export const ATTESTATION_CONTEXT = 'cv-cert-broker/v1';
/** Default freshness window, seconds either way. */
export const ATTESTATION_MAX_SKEW_SECONDS = 300;

/** A proof as carried in the request body's `attestation` object (minus the certificate). */
export interface AttestationProof {
  /** RFC 3339 UTC timestamp, exactly as signed. */
  readonly signedAt: string;
  /** Base64 (standard alphabet, padded) signature. */
  readonly signature: string;
}

/**
 * The exact bytes that are signed.
 *
 * @example
 * attestationMessage('2026-11-25T09:30:00Z', csr.der).toString('utf8');
 * // 'cv-cert-broker/v1\n2026-11-25T09:30:00Z\n<base64url sha256>'
 */
export function attestationMessage(signedAt: string, csrDer: Uint8Array): Buffer {
  return attestationMessageImpl(signedAt, csrDer);
}

/**
 * Device side (and tests): signs the message with the attestation private key.
 * `signedAt` defaults to `now` (default `new Date()`) formatted as `YYYY-MM-DDTHH:MM:SSZ`.
 * Throws `AttestationError` (`unsupported-key`) for keys other than EC and RSA.
 *
 * @example
 * const proof = createAttestationProof({ privateKey, csrDer: csr.der });
 * body.attestation = { certificate: attestationCertPem, ...proof };
 */
export function createAttestationProof(options: {
  readonly privateKey: KeyObject;
  readonly csrDer: Uint8Array;
  readonly signedAt?: string;
  readonly now?: Date;
}): AttestationProof {
  return createAttestationImpl(options);
}

/**
 * Broker side: verifies the proof against the attestation certificate's public key, and its freshness
 * against `now`. Throws `AttestationError` with a `reason`: `malformed-timestamp`, `stale` (too old),
 * `future` (too far ahead), `malformed-signature`, `bad-signature`, `unsupported-key`.
 *
 * @example
 * verifyAttestationProof({ publicKey: attestationCert.publicKey, csrDer: csr.der, proof: body.attestation, now: new Date() });
 */
export function verifyAttestationProof(options: {
  readonly publicKey: KeyObject;
  readonly csrDer: Uint8Array;
  readonly proof: AttestationProof;
  readonly now: Date;
  /** Default 300. */
  readonly maxSkewSeconds?: number;
}): void {
  verifyAttestationImpl(options);
}

/**
 * The identity of a proof of possession, the replay ledger's key. It is derived from what the
 * proof authenticates, never from the signature bytes: an ECDSA signature (r, s) has a twin
 * (r, n - s) that verifies as well, and RSASSA-PSS signatures are randomised, so hashing the
 * signature would let one captured proof be replayed under a second ledger key.
 *
 * - signature proof: the attestation key (SPKI) and the signed message (signedAt, CSR digest);
 * - mutual TLS: the TLS client key (SPKI) and the CSR. The handshake proves possession but is not
 *   bound to a time, so over mutual TLS a CSR can be enrolled once per attestation key.
 */
import { createHash } from 'node:crypto';
import { attestationMessage } from '@cv/crypto/attestation';

const DOMAIN = 'cv-cert-broker/proof/v1';

/**
 * Lowercase hex SHA-256 naming one proof.
 * @example const id = proofIdOf({ kind: 'mtls', attestationSpki: leaf.spki, csrDer: csr.der });
 */
export function proofIdOf(proof: {
  readonly kind: 'signature' | 'mtls';
  readonly attestationSpki: Uint8Array;
  readonly csrDer: Uint8Array;
  readonly signedAt?: string | undefined;
}): string {
  const keyDigest = createHash('sha256').update(proof.attestationSpki).digest('hex');
  const hash = createHash('sha256').update(`${DOMAIN}\n${proof.kind}\n${keyDigest}\n`, 'utf8');
  if (proof.kind === 'signature') {
    if (proof.signedAt === undefined) throw new TypeError('a signature proof has a signedAt');
    hash.update(attestationMessage(proof.signedAt, proof.csrDer));
  } else {
    hash.update(createHash('sha256').update(proof.csrDer).digest());
  }
  return hash.digest('hex');
}

import { type Certificate, createTrustStore, isAllowedKey, parseCertificate } from '@cv/crypto/x509';
import { InvalidInputError, RefusedError } from '../errors.js';

const MAX_PEM_BYTES = 16 * 1024;
const BEGIN = /-----BEGIN ([A-Z0-9 ]+)-----/g;

/**
 * Checks a supplier's attestation CA certificate before it is trusted (packages/crypto parses and judges it):
 * exactly one PEM block, a `CERTIFICATE`; basicConstraints cA; keyUsage keyCertSign; a key the key policy allows
 * (EC P-256/P-384, RSA 2048 to 4096); valid now; loadable as a trust anchor the way cert-broker loads its bundle.
 * Refusals carry a reason code (`ca_not_ca`, `ca_no_keycertsign`, `ca_key_not_allowed`, `ca_not_yet_valid`,
 * `ca_expired`, `ca_unusable`); a file that is not one certificate is invalid input.
 *
 * @example const cert = checkSupplierCa(readFileSync('acme-ca.pem', 'utf8'), new Date());
 */
export function checkSupplierCa(pem: string, now: Date): Certificate {
  if (Buffer.byteLength(pem, 'utf8') > MAX_PEM_BYTES) {
    throw new InvalidInputError('certificate', 'the CA file is larger than 16 KiB');
  }
  const blocks = [...pem.matchAll(BEGIN)].map((m) => m[1]);
  if (blocks.length !== 1 || blocks[0] !== 'CERTIFICATE') {
    throw new InvalidInputError(
      'certificate',
      'the CA file must hold exactly one CERTIFICATE block and nothing else',
    );
  }
  let cert: Certificate;
  try {
    cert = parseCertificate(pem);
  } catch {
    throw new InvalidInputError('certificate', 'the CA certificate cannot be parsed');
  }
  if (cert.basicConstraints?.ca !== true) {
    throw new RefusedError('ca_not_ca', 'the certificate is not a CA (basicConstraints cA is not set)');
  }
  if (cert.keyUsage?.has('keyCertSign') !== true) {
    throw new RefusedError('ca_no_keycertsign', 'the CA certificate does not assert keyUsage keyCertSign');
  }
  if (!isAllowedKey(cert.keyInfo)) {
    throw new RefusedError(
      'ca_key_not_allowed',
      'the CA key is not allowed (EC P-256/P-384 or RSA 2048 to 4096)',
    );
  }
  if (now.getTime() < cert.notBefore.getTime()) {
    throw new RefusedError(
      'ca_not_yet_valid',
      `the CA certificate is valid from ${cert.notBefore.toISOString()}`,
    );
  }
  if (now.getTime() >= cert.notAfter.getTime()) {
    throw new RefusedError('ca_expired', `the CA certificate expired at ${cert.notAfter.toISOString()}`);
  }
  try {
    createTrustStore(cert.pem);
  } catch {
    throw new RefusedError('ca_unusable', 'the CA certificate cannot serve as a trust anchor');
  }
  return cert;
}

import { CryptoError } from '../errors.js';
import type { Certificate } from '../x509/types.js';
import type { CertId, OcspHashAlgorithm, OcspRequest } from './types.js';
export function certIdForImpl(_c: Certificate, _i: Certificate, _h: OcspHashAlgorithm): CertId {
  throw new CryptoError('not implemented');
}
export function buildOcspRequestImpl(
  _c: Certificate,
  _i: Certificate,
  _o?: { hashAlgorithm?: OcspHashAlgorithm; nonce?: boolean | Uint8Array },
): OcspRequest {
  throw new CryptoError('not implemented');
}

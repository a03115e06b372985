import { CryptoError } from '../errors.js';
import type { CertificationRequest } from './types.js';
export function parseCsrImpl(_input: string | Uint8Array): CertificationRequest {
  throw new CryptoError('not implemented');
}
export function verifyCsrSignatureImpl(_csr: CertificationRequest): void {
  throw new CryptoError('not implemented');
}

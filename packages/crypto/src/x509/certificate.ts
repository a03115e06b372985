import { CryptoError } from '../errors.js';
import type { Certificate } from './types.js';
export function parseCertificateImpl(_input: string | Uint8Array): Certificate {
  throw new CryptoError('not implemented');
}
export function parseCertificatesImpl(_pem: string): Certificate[] {
  throw new CryptoError('not implemented');
}

import { CryptoError } from '../errors.js';
import type { Certificate, TrustStore } from './types.js';
export function createTrustStoreImpl(
  _a: string | Uint8Array | readonly (string | Uint8Array | Certificate)[],
): TrustStore {
  throw new CryptoError('not implemented');
}
export function loadTrustStoreImpl(_pem: string): TrustStore {
  throw new CryptoError('not implemented');
}

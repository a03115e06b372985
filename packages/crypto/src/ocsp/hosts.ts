import { CryptoError } from '../errors.js';
export function assertAllowedHostImpl(_u: string, _h: readonly string[]): URL {
  throw new CryptoError('not implemented');
}

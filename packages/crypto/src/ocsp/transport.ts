import { CryptoError } from '../errors.js';
import type { HttpTransportOptions, OcspTransport } from './types.js';
export function createHttpTransportImpl(_o?: HttpTransportOptions): OcspTransport {
  throw new CryptoError('not implemented');
}

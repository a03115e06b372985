import { CryptoError } from '../errors.js';
import type { ParsedOcspResponse } from './types.js';
export function parseOcspResponseImpl(_d: Uint8Array): ParsedOcspResponse {
  throw new CryptoError('not implemented');
}

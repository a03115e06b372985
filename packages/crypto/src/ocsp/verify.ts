import { CryptoError } from '../errors.js';
import type { OcspResult, ParsedOcspResponse, VerifyOcspResponseOptions } from './types.js';
export function verifyOcspResponseImpl(_r: ParsedOcspResponse, _o: VerifyOcspResponseOptions): OcspResult {
  throw new CryptoError('not implemented');
}

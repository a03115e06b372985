import { CryptoError } from '../errors.js';
import type { CheckOcspOptions, OcspResult } from './types.js';
export async function checkOcspImpl(_o: CheckOcspOptions): Promise<OcspResult> {
  throw new CryptoError('not implemented');
}

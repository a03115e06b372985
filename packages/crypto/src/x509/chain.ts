import { CryptoError } from '../errors.js';
import type { ChainValidationOptions, ValidatedChain } from './types.js';
export function validateChainImpl(_o: ChainValidationOptions): ValidatedChain {
  throw new CryptoError('not implemented');
}

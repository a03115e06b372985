import type { KeyObject } from 'node:crypto';
import { CryptoError } from '../errors.js';
import type { KeyInfo, KeyPolicy } from './types.js';
export function keyInfoFromSpki(_spki: Buffer): KeyInfo {
  throw new CryptoError('not implemented');
}
export function keyInfoFromKeyObject(_k: KeyObject): KeyInfo {
  throw new CryptoError('not implemented');
}
export function assertAllowedKeyImpl(_i: KeyInfo, _p?: KeyPolicy): void {
  throw new CryptoError('not implemented');
}

import type { KeyObject } from 'node:crypto';
import { CryptoError } from '../errors.js';
export function attestationMessageImpl(_s: string, _c: Uint8Array): Buffer {
  throw new CryptoError('not implemented');
}
export function createAttestationImpl(_o: {
  privateKey: KeyObject;
  csrDer: Uint8Array;
  signedAt?: string;
  now?: Date;
}): { signedAt: string; signature: string } {
  throw new CryptoError('not implemented');
}
export function verifyAttestationImpl(_o: {
  publicKey: KeyObject;
  csrDer: Uint8Array;
  proof: { signedAt: string; signature: string };
  now: Date;
  maxSkewSeconds?: number;
}): void {
  throw new CryptoError('not implemented');
}

/**
 * Fixtures of the command tests. The KMS stand-ins live in @cv/test-support (shared with
 * command-sender's tests).
 */
import { localSymmetricKms } from '@cv/test-support';

export { derSignature, type LocalKey, localKey } from '@cv/test-support';

export const SIGNING_KEY_ARN = 'arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab';
export const ENCRYPTION_KEY_ARN =
  'arn:aws:kms:eu-west-1:111122223333:key/0987dcba-09fe-87dc-65ba-ab0987654321';
export const VIN = '1HGCM82633A004352';
export const THING = `${VIN}_gw-0001`;

/**
 * A local stand-in for KMS Encrypt/Decrypt with encryption context, with the async shape of
 * the injected `encrypt`/`decrypt` ports.
 */
export function localKms(): {
  encrypt: (plaintext: Uint8Array, context: Record<string, string>) => Promise<Uint8Array>;
  decrypt: (ciphertext: Uint8Array, context: Record<string, string>) => Promise<Uint8Array>;
} {
  const kms = localSymmetricKms();
  return {
    encrypt: async (plaintext, context) => kms.encrypt(plaintext, context),
    decrypt: async (ciphertext, context) => kms.decrypt(ciphertext, context),
  };
}

import { CryptoError } from '../errors.js';

/** Why an attestation proof was rejected. */
export type AttestationFailureReason =
  | 'malformed-timestamp'
  | 'stale'
  | 'future'
  | 'malformed-signature'
  | 'bad-signature'
  | 'unsupported-key';

/** The attestation proof (signature over the CSR digest and time) was rejected. */
export class AttestationError extends CryptoError {
  readonly reason: AttestationFailureReason;
  constructor(reason: AttestationFailureReason, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'AttestationError';
    this.reason = reason;
  }
}

import { CryptoError } from '../errors.js';

/** Why a telemetry message was rejected. Every reason is permanent: retrying the same bytes fails the same way. */
export type TelemetryRejectReason =
  | 'malformed'
  | 'oversize'
  | 'unsupported-version'
  | 'context-mismatch'
  | 'tampered'
  | 'wrong-key'
  /** The envelope's `messageId` or `sentAt` differs from the authenticated copy in the message. */
  | 'envelope-mismatch';

/** Base of the telemetry errors. */
export class TelemetryError extends CryptoError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'TelemetryError';
  }
}

/**
 * A message that can never be decrypted or trusted (permanent): callers drop it and count it, never retry it.
 * The message text never contains plaintext or ciphertext.
 */
export class TelemetryDecryptError extends TelemetryError {
  readonly reason: TelemetryRejectReason;
  /** Present when the envelope parsed far enough to read it; safe to log (it is a random UUID). */
  readonly messageId: string | undefined;
  constructor(
    reason: TelemetryRejectReason,
    detail: string,
    opts: { messageId?: string; cause?: unknown } = {},
  ) {
    super(`Telemetry message rejected (${reason}): ${detail}`, { cause: opts.cause });
    this.name = 'TelemetryDecryptError';
    this.reason = reason;
    this.messageId = opts.messageId;
  }
}

/**
 * The data key could not be obtained for a reason that may pass (KMS throttling, KMS internal error, network):
 * callers let the message be retried.
 */
export class TelemetryKeyUnavailableError extends TelemetryError {
  readonly messageId: string | undefined;
  constructor(detail: string, opts: { messageId?: string; cause?: unknown } = {}) {
    super(`Telemetry data key unavailable: ${detail}`, { cause: opts.cause });
    this.name = 'TelemetryKeyUnavailableError';
    this.messageId = opts.messageId;
  }
}

/** Encrypting a telemetry message failed (vehicle side). */
export class TelemetryEncryptError extends TelemetryError {
  constructor(detail: string, options?: { cause?: unknown }) {
    super(`Telemetry encryption failed: ${detail}`, options);
    this.name = 'TelemetryEncryptError';
  }
}

/** Internal to @cv/crypto/telemetry (not re-exported): failure classification shared by both decrypt paths. */
import { TelemetryDecryptError, TelemetryError, TelemetryKeyUnavailableError } from './errors.js';

/** JSON.parse of the plaintext; the error never quotes it. */
export function parseJsonBody(plaintext: Buffer, messageId: string): unknown {
  try {
    return JSON.parse(plaintext.toString('utf8'));
  } catch {
    // No cause: the parser's message quotes the plaintext.
    throw new TelemetryDecryptError('malformed', 'decrypted body is not JSON', { messageId });
  }
}

/** KMS errors that mean "this data key will never decrypt here": the message is dropped, not retried. */
const PERMANENT_KMS_ERRORS: Readonly<Record<string, 'tampered' | 'wrong-key'>> = {
  InvalidCiphertextException: 'tampered',
  IncorrectKeyException: 'wrong-key',
  AccessDeniedException: 'wrong-key',
  NotFoundException: 'wrong-key',
  DisabledException: 'wrong-key',
  KMSInvalidStateException: 'wrong-key',
  InvalidKeyUsageException: 'wrong-key',
  InvalidGrantTokenException: 'wrong-key',
};

/** Encryption SDK failures, after the data key was obtained, that mean the message bytes were altered. */
const TAMPER_SIGNS = [
  'Commitment does not match',
  'unable to authenticate data',
  'sequence out of order',
  'Malformed sequenceNumber',
  'Final frame length exceeds',
  'Incomplete message',
  'Context does not contain required public key',
  'Overflow',
];

/**
 * Maps a keyring / Encryption SDK failure to a permanent rejection or a transient key failure. Shared by both decrypt
 * paths, so a keyring (KMS) error gets the same reason on either.
 */
export function classify(cause: unknown, keyRequested: boolean, messageId: string): Error {
  if (cause instanceof TelemetryDecryptError || cause instanceof TelemetryKeyUnavailableError) return cause;
  const text = cause instanceof Error ? `${cause.name}: ${cause.message}` : String(cause);
  // Before materials were requested the SDK only parsed the header: the bytes are not an ESDK message we accept.
  if (!keyRequested)
    return new TelemetryDecryptError('malformed', 'not a valid Encryption SDK message', { messageId });
  if (text.includes('KMS CMKs had an error')) {
    for (const [name, reason] of Object.entries(PERMANENT_KMS_ERRORS)) {
      if (text.includes(name))
        return new TelemetryDecryptError(reason, `KMS refused the data key (${name})`, { messageId });
    }
    const name = /\b([A-Z][A-Za-z]+(?:Exception|Error))\b/.exec(text.slice(text.indexOf('Error #1')))?.[1];
    return new TelemetryKeyUnavailableError(`KMS call failed (${name ?? 'unknown'})`, { messageId, cause });
  }
  if (text.includes('maxBodySize exceeded')) {
    return new TelemetryDecryptError('oversize', 'body exceeds the cap', { messageId });
  }
  if (/unencryptedDataKey has not been set|Unable to decrypt data key/i.test(text)) {
    return new TelemetryDecryptError('wrong-key', 'no keyring could decrypt the data key', { messageId });
  }
  if (TAMPER_SIGNS.some((sign) => text.includes(sign))) {
    return new TelemetryDecryptError('tampered', 'authentication failed', { messageId });
  }
  // Not a known permanent failure: let it be retried (retries are bounded by the event source and end in a DLQ).
  return new TelemetryError('unexpected failure while decrypting', { cause });
}

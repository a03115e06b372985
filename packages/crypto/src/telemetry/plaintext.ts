import type { TelemetryEnvelope } from './envelope.js';
import { TelemetryDecryptError } from './errors.js';

/**
 * The plaintext of a telemetry or command-result message (envelope `v: 2`): the envelope's
 * `messageId` and `sentAt` again, now covered by the Encryption SDK's authentication, and the
 * body. Exactly these three members.
 */
export interface TelemetryPlaintext {
  messageId: string;
  sentAt: string;
  body: unknown;
}

const MEMBERS = ['body', 'messageId', 'sentAt'];

/**
 * Vehicle side: the UTF-8 JSON plaintext for a message whose envelope carries the same
 * `messageId` and `sentAt`.
 *
 * @example
 * const plaintext = sealTelemetryPlaintext({ messageId, sentAt, body: { status } });
 */
export function sealTelemetryPlaintext(plaintext: TelemetryPlaintext): Buffer {
  return Buffer.from(
    JSON.stringify({ messageId: plaintext.messageId, sentAt: plaintext.sentAt, body: plaintext.body }) ??
      'null',
    'utf8',
  );
}

/**
 * Cloud side, on the decrypted (authentic) JSON: returns the body once the authenticated
 * `messageId` and `sentAt` are exactly the envelope's (same strings). Throws
 * {@link TelemetryDecryptError}: `malformed` for another shape, `envelope-mismatch` when the
 * unauthenticated envelope says something else than the message (a replay under new envelope
 * fields, or a sender that does not keep them in step). Never quotes a value.
 *
 * @example
 * const body = openTelemetryPlaintext(JSON.parse(plaintext), envelope);
 */
export function openTelemetryPlaintext(value: unknown, envelope: TelemetryEnvelope): unknown {
  const messageId = envelope.messageId;
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new TelemetryDecryptError('malformed', 'decrypted body is not { messageId, sentAt, body }', {
      messageId,
    });
  }
  const keys = Object.keys(value).sort();
  if (keys.length !== MEMBERS.length || keys.some((k, i) => k !== MEMBERS[i])) {
    throw new TelemetryDecryptError('malformed', 'decrypted body is not { messageId, sentAt, body }', {
      messageId,
    });
  }
  const sealed = value as Record<string, unknown>;
  if (sealed.messageId !== envelope.messageId) {
    throw new TelemetryDecryptError('envelope-mismatch', 'envelope messageId differs from the message', {
      messageId,
    });
  }
  if (sealed.sentAt !== envelope.sentAt) {
    throw new TelemetryDecryptError('envelope-mismatch', 'envelope sentAt differs from the message', {
      messageId,
    });
  }
  return sealed.body;
}

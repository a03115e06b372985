import * as z from 'zod/mini';
import { TelemetryDecryptError } from './errors.js';

/** Default cap on one envelope (the raw MQTT payload), in bytes. AWS IoT allows 128 KiB; we accept half. */
export const DEFAULT_MAX_ENVELOPE_BYTES = 64 * 1024;

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/**
 * The envelope version. 2: the plaintext repeats `messageId` and `sentAt` (authenticated, see
 * `openTelemetryPlaintext`); version 1 (body only, both claims unauthenticated) is refused.
 */
export const TELEMETRY_ENVELOPE_VERSION = 2;

/**
 * Zod schema of the envelope `{ v: 2, messageId, sentAt, esdk }`: strict, no other key is accepted. zod/mini (the
 * functional API, a fraction of classic zod's bundle) since telemetry-ingest bundles this (docs/performance.md).
 */
export const telemetryEnvelopeSchema = z.strictObject({
  v: z.literal(TELEMETRY_ENVELOPE_VERSION),
  messageId: z.uuidv4(),
  sentAt: z.iso.datetime({ offset: true }),
  esdk: z.string().check(z.minLength(4), z.regex(BASE64, 'esdk must be standard base64')),
});

/** The outer, unencrypted part of a telemetry or command-result message. */
export type TelemetryEnvelope = z.infer<typeof telemetryEnvelopeSchema>;

/**
 * Validates an already JSON-decoded envelope (e.g. the fields an IoT rule passed through).
 * Throws {@link TelemetryDecryptError} with reason `malformed` or `unsupported-version`; never echoes values.
 *
 * @example
 * const envelope = parseTelemetryEnvelopeObject({ v: 2, messageId, sentAt, esdk });
 */
export function parseTelemetryEnvelopeObject(value: unknown): TelemetryEnvelope {
  const parsed = telemetryEnvelopeSchema.safeParse(value);
  if (parsed.success) return parsed.data;
  const v = typeof value === 'object' && value !== null ? (value as { v?: unknown }).v : undefined;
  if (typeof v === 'number' && v !== TELEMETRY_ENVELOPE_VERSION) {
    throw new TelemetryDecryptError(
      'unsupported-version',
      `envelope version ${Number.isInteger(v) ? v : '?'}`,
    );
  }
  // Only the paths of the failing fields: the issue messages could quote input.
  const fields = [...new Set(parsed.error.issues.map((i) => i.path.join('.') || '(root)'))]
    .slice(0, 5)
    .join(', ');
  throw new TelemetryDecryptError('malformed', `envelope fields invalid: ${fields}`);
}

/**
 * Parses the raw bytes (or text) of a message into an envelope: size cap first, then strict JSON, then schema.
 *
 * @example
 * const envelope = parseTelemetryEnvelope(mqttPayload); // Buffer or string
 */
export function parseTelemetryEnvelope(
  raw: string | Uint8Array,
  opts: { maxBytes?: number } = {},
): TelemetryEnvelope {
  const maxBytes = opts.maxBytes ?? DEFAULT_MAX_ENVELOPE_BYTES;
  const size = typeof raw === 'string' ? Buffer.byteLength(raw, 'utf8') : raw.byteLength;
  if (size > maxBytes)
    throw new TelemetryDecryptError('oversize', `envelope is ${size} bytes (max ${maxBytes})`);
  let value: unknown;
  try {
    value = JSON.parse(typeof raw === 'string' ? raw : Buffer.from(raw).toString('utf8'));
  } catch (cause) {
    throw new TelemetryDecryptError('malformed', 'envelope is not JSON', { cause });
  }
  return parseTelemetryEnvelopeObject(value);
}

/**
 * Serialises an envelope (vehicle side).
 *
 * @example
 * const payload = serializeTelemetryEnvelope({ v: 2, messageId, sentAt, esdk });
 */
export function serializeTelemetryEnvelope(envelope: TelemetryEnvelope): string {
  return JSON.stringify({
    v: envelope.v,
    messageId: envelope.messageId,
    sentAt: envelope.sentAt,
    esdk: envelope.esdk,
  });
}

import {
  parseTelemetryEnvelopeObject,
  type TelemetryContext,
  TelemetryDecryptError,
  type TelemetryEnvelope,
  type TelemetryKind,
  type TelemetryRejectReason,
} from '@cv/crypto/telemetry/decrypt';
import {
  type CommandResultBody,
  commandResultBodySchema,
  splitThingName,
  TOPIC_KINDS,
  telemetryBodySchema,
} from './schemas.js';

/**
 * A telemetry table row (docs/architecture.md §3): pk `thingName`, sk `<sentAt>#<esdkMessageId>`. Every
 * part of the key is authenticated: `thingName` by the encryption context, `sentAt` by the
 * sealed plaintext, the Encryption SDK message id by the header tag; so one message is one row
 * whatever its envelope says.
 */
export interface TelemetryItem {
  thingName: string;
  sk: string;
  vin: string;
  ecuId: string;
  kind: TelemetryKind;
  /** The ECU's UUID (authenticated: the sealed plaintext repeats it). */
  messageId: string;
  /** The Encryption SDK message id (64 hex), the deduplication identity. */
  esdkMessageId: string;
  sentAt: string;
  receivedAt: string;
  data: Record<string, unknown>;
  ttl: number;
}

/** Port: the telemetry table. `duplicate` when the row already exists (a redelivery). */
export interface TelemetryStore {
  put(item: TelemetryItem): Promise<'stored' | 'duplicate'>;
}

/**
 * Port: the commands table. A result is applied once, by one message, to this thing's PENDING
 * command: `already-applied` when this very message (its Encryption SDK message id) applied it
 * before (a redelivery), `not-applicable` when the command is not this thing's, unknown, or
 * was completed by another message (never overwritten: a replayed result cannot flip it).
 */
export interface CommandResultStore {
  applyResult(input: {
    commandId: string;
    thingName: string;
    esdkMessageId: string;
    result: CommandResultBody & { messageId: string; sentAt: string; receivedAt: string };
  }): Promise<'applied' | 'already-applied' | 'not-applicable'>;
}

/** Port: the decryptor from `@cv/crypto/telemetry` (body and the authenticated message id). */
export interface Decryptor {
  decrypt(
    envelope: TelemetryEnvelope,
    expected: TelemetryContext,
  ): Promise<{ data: unknown; esdkMessageId: string }>;
}

export interface IngestDeps {
  decryptor: Decryptor;
  telemetry: TelemetryStore;
  commands: CommandResultStore;
  now: () => Date;
  ttlDays: number;
  maxPayloadBytes: number;
}

export type DropReason = TelemetryRejectReason | 'unknown-kind' | 'bad-thing-name' | 'schema';

/** What happened to one message. Transient failures are thrown instead, so the message is retried. */
export type IngestOutcome =
  | {
      result: 'stored' | 'duplicate';
      thingName: string;
      kind: TelemetryKind;
      messageId: string;
      commandUpdate?: 'applied' | 'already-applied' | 'not-applicable';
      commandId?: string;
    }
  | {
      result: 'dropped';
      reason: DropReason;
      /** Only when it is a well-formed thing name (safe to log). */
      thingName?: string;
      kind?: TelemetryKind;
      /** Only when the envelope parsed (a UUID, safe to log). */
      messageId?: string;
    };

/**
 * Ingests one message as the IoT rule delivers it: the device's JSON envelope plus `thingName` (`topic(2)`) and
 * `topicKind` (`topic(3)`), either as an object (rule -> Lambda) or as JSON text (rule -> SQS -> Lambda).
 * Permanent problems return `dropped`; transient ones (KMS, DynamoDB) throw.
 *
 * @example
 * const outcome = await ingestMessage(event, deps);
 */
export async function ingestMessage(message: unknown, deps: IngestDeps): Promise<IngestOutcome> {
  // 1. Size cap and JSON, before anything else.
  let value: unknown = message;
  const text = typeof message === 'string' ? message : JSON.stringify(message ?? null);
  if (Buffer.byteLength(text, 'utf8') > deps.maxPayloadBytes)
    return { result: 'dropped', reason: 'oversize' };
  if (typeof message === 'string') {
    try {
      value = JSON.parse(message);
    } catch {
      return { result: 'dropped', reason: 'malformed' };
    }
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return { result: 'dropped', reason: 'malformed' };
  }

  // 2. Who and what, from the topic (added by the rule, not by the device).
  const { thingName, topicKind, ...rest } = value as Record<string, unknown>;
  const ids = typeof thingName === 'string' ? splitThingName(thingName) : undefined;
  if (typeof thingName !== 'string' || !ids) return { result: 'dropped', reason: 'bad-thing-name' };
  const kind =
    typeof topicKind === 'string' && Object.hasOwn(TOPIC_KINDS, topicKind)
      ? TOPIC_KINDS[topicKind as keyof typeof TOPIC_KINDS]
      : undefined;
  if (kind === undefined) return { result: 'dropped', reason: 'unknown-kind', thingName };

  // 3. Envelope, decrypt for exactly { thing, kind }, body schema.
  let envelope: TelemetryEnvelope;
  let data: unknown;
  let esdkMessageId: string;
  try {
    envelope = parseTelemetryEnvelopeObject(rest);
  } catch (error) {
    if (error instanceof TelemetryDecryptError)
      return { result: 'dropped', reason: error.reason, thingName, kind };
    throw error;
  }
  const messageId = envelope.messageId;
  try {
    // Also rejects (`envelope-mismatch`) an envelope whose messageId or sentAt is not the sealed one.
    ({ data, esdkMessageId } = await deps.decryptor.decrypt(envelope, { thing: thingName, kind }));
  } catch (error) {
    if (error instanceof TelemetryDecryptError) {
      return { result: 'dropped', reason: error.reason, thingName, kind, messageId };
    }
    throw error; // TelemetryKeyUnavailableError and anything unexpected: retry
  }
  const body =
    kind === 'telemetry' ? telemetryBodySchema.safeParse(data) : commandResultBodySchema.safeParse(data);
  if (!body.success) return { result: 'dropped', reason: 'schema', thingName, kind, messageId };

  // 4. Store once (conditional write on a key made of authenticated values), then apply a command result.
  const received = deps.now();
  const sentAt = new Date(envelope.sentAt).toISOString();
  const item: TelemetryItem = {
    thingName,
    sk: `${sentAt}#${esdkMessageId}`,
    vin: ids.vin,
    ecuId: ids.ecuId,
    kind,
    messageId,
    esdkMessageId,
    sentAt,
    receivedAt: received.toISOString(),
    data: body.data,
    ttl: Math.floor(received.getTime() / 1000) + deps.ttlDays * 86_400,
  };
  const stored = await deps.telemetry.put(item);
  if (kind === 'telemetry') return { result: stored, thingName, kind, messageId };

  // Tried even on a redelivery: the first attempt may have stored the row and then failed on this update.
  const result = body.data as CommandResultBody;
  const commandUpdate = await deps.commands.applyResult({
    commandId: result.commandId,
    thingName,
    esdkMessageId,
    result: { ...result, messageId, sentAt, receivedAt: item.receivedAt },
  });
  return { result: stored, thingName, kind, messageId, commandUpdate, commandId: result.commandId };
}

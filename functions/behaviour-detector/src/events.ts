/**
 * The two inputs, parsed at the edge: AWS IoT lifecycle events (from the IoT rule on
 * `$aws/events/presence/connected/+` and `disconnected/+`) and the behaviour table's stream records (counter items).
 */
import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import * as z from 'zod';
import { parseCounterItem } from './adapters/counter-store.js';
import { MalformedEventError } from './errors.js';
import type { BucketCounts } from './model.js';
import type { PresenceEvent } from './rules.js';

/** The thing name is the MQTT client id (the IoT policies pin it): `<VIN>_<ecuId>`. */
const THING_NAME = /^[a-zA-Z0-9:_-]{1,128}$/;
const IPV4_OR_6 = /^[0-9a-fA-F:.]{2,45}$/;

const LifecycleSchema = z.object({
  clientId: z.string().regex(THING_NAME),
  timestamp: z.number().int().positive(),
  eventType: z.enum(['connected', 'disconnected']),
  sessionIdentifier: z.string().min(1).max(128),
  principalIdentifier: z.string().min(1).max(256),
  ipAddress: z.string().regex(IPV4_OR_6).optional(),
  disconnectReason: z
    .string()
    .regex(/^[A-Z_]{1,64}$/)
    .optional(),
  versionNumber: z.number().int().nonnegative().optional(),
});

/** The certificate id a principal identifier names (X.509: the 64-hex certificate id; anything else kept whole). */
const certificateOf = (principal: string) =>
  /^([0-9a-f]{64})$/.exec(principal)?.[1] ?? principal.slice(0, 128);

/**
 * One lifecycle event (the IoT rule's Lambda action) or an array of them (a batch), parsed.
 * @throws MalformedEventError for anything else.
 */
export function parsePresence(event: unknown): PresenceEvent[] {
  const items = Array.isArray(event) ? event : [event];
  if (items.length === 0 || items.length > 1000)
    throw new MalformedEventError('expected 1 to 1000 lifecycle events');
  return items.map((item) => {
    const parsed = LifecycleSchema.safeParse(item);
    if (!parsed.success)
      throw new MalformedEventError(parsed.error.issues[0]?.path.join('.') || 'lifecycle event');
    const e = parsed.data;
    return {
      thingName: e.clientId,
      kind: e.eventType,
      at: e.timestamp,
      sessionId: e.sessionIdentifier,
      certificateId: certificateOf(e.principalIdentifier),
      ...(e.ipAddress === undefined ? {} : { ipAddress: e.ipAddress }),
      ...(e.disconnectReason === undefined ? {} : { disconnectReason: e.disconnectReason }),
    };
  });
}

const StreamSchema = z.object({
  Records: z
    .array(
      z.object({
        eventName: z.enum(['INSERT', 'MODIFY', 'REMOVE']),
        dynamodb: z
          .object({
            SequenceNumber: z.string().min(1),
            NewImage: z.record(z.string(), z.unknown()).optional(),
          })
          .loose(),
      }),
    )
    .max(10_000),
});

/** The counter items of a DynamoDB stream batch (other items and removals skipped), with their sequence number. */
export function parseCounterStream(
  event: unknown,
): Array<{ recordId: string; bucket: BucketCounts; isNew: boolean }> {
  const parsed = StreamSchema.safeParse(event);
  if (!parsed.success) throw new MalformedEventError('not a DynamoDB stream batch');
  return parsed.data.Records.flatMap((r) => {
    if (r.eventName === 'REMOVE') return [];
    const bucket = parseCounterItem(r.dynamodb.NewImage as Record<string, AttributeValue> | undefined);
    if (bucket === undefined || !THING_NAME.test(bucket.thingName)) return [];
    return [{ recordId: r.dynamodb.SequenceNumber, bucket, isNew: r.eventName === 'INSERT' }];
  });
}

/**
 * Per-ECU behaviour counters (docs/detection.md): the item telemetry-ingest, command-sender and behaviour-detector
 * add to in the behaviour table (`BEHAVIOUR_TABLE`, pk `thingName`, sk `b#<bucket start, epoch s, 12 digits>`),
 * one DynamoDB `UpdateItem` with `ADD` per ECU and bucket for a whole batch (ADD is commutative: writers need no
 * lock and no read). The maximum message size is kept as a number set of size classes (ADD of a set is a union),
 * so it too is one write. Plain attribute-value JSON: no AWS SDK here.
 */

/** Length of a counter bucket. */
export const BEHAVIOUR_BUCKET_SECONDS = 3600;
/** Counters expire a week after their bucket (baselines are kept apart; the detector learns buckets within 48 h). */
export const BEHAVIOUR_COUNTER_TTL_SECONDS = 7 * 86_400;

/** The counters a writer adds for one ECU and bucket. */
export interface CounterAdd {
  thingName: string;
  /** Bucket start, epoch seconds (see {@link bucketStart}). */
  start: number;
  sent?: number;
  bytes?: number;
  /** Largest message in the batch, bytes (stored as its size class). */
  maxBytes?: number;
  received?: number;
  connects?: number;
  disconnects?: number;
  authzFailures?: number;
  /** Disconnects by AWS IoT `disconnectReason` (only the documented reasons; anything else is `UNKNOWN`). */
  disconnectReasons?: Readonly<Record<string, number>>;
  sourceIps?: readonly string[];
}

const NUMERIC = ['sent', 'bytes', 'received', 'connects', 'disconnects', 'authzFailures'] as const;

/** AWS IoT lifecycle `disconnectReason` values (AWS IoT Core developer guide, "Connect/Disconnect events"). */
export const DISCONNECT_REASONS = [
  'AUTH_ERROR',
  'CLIENT_INITIATED_DISCONNECT',
  'CLIENT_ERROR',
  'CONNECTION_LOST',
  'CUSTOMAUTH_TTL_EXPIRATION',
  'DUPLICATE_CLIENTID',
  'FORBIDDEN_ACCESS',
  'MQTT_KEEP_ALIVE_TIMEOUT',
  'SERVER_ERROR',
  'SERVER_INITIATED_DISCONNECT',
  'THROTTLED',
  'WEBSOCKET_TTL_EXPIRATION',
  'UNKNOWN',
] as const;

/** At most this many distinct source addresses are kept per ECU and bucket (the rest only counted). */
export const MAX_SOURCE_IPS = 32;

/**
 * The bucket (epoch seconds) an instant (epoch ms) falls in.
 * @example bucketStart(Date.UTC(2026, 0, 1, 8, 30)) // 1767254400
 */
export function bucketStart(atMs: number): number {
  return Math.floor(atMs / 1000 / BEHAVIOUR_BUCKET_SECONDS) * BEHAVIOUR_BUCKET_SECONDS;
}

/**
 * The size class of a message: its size rounded up to the next power of 2^(1/4) (at most 19% above it).
 * @example sizeClass(1000) // 1024
 */
export function sizeClass(bytes: number): number {
  if (!(bytes > 0)) return 0;
  return Math.ceil(2 ** (Math.ceil(4 * Math.log2(bytes)) / 4));
}

/**
 * Adds one observation to a batch's counters: one entry per ECU and bucket, however many messages.
 * @example addTo(batch, { thingName, start: bucketStart(Date.now()), sent: 1, bytes: body.length, maxBytes: body.length });
 */
export function addTo(batch: Map<string, CounterAdd>, add: CounterAdd): void {
  const key = `${add.thingName}#${add.start}`;
  const had = batch.get(key) ?? { thingName: add.thingName, start: add.start };
  const merged: CounterAdd = { ...had };
  for (const m of NUMERIC) {
    const v = add[m];
    if (v !== undefined) merged[m] = (had[m] ?? 0) + v;
  }
  if (add.maxBytes !== undefined) merged.maxBytes = Math.max(had.maxBytes ?? 0, add.maxBytes);
  if (add.disconnectReasons !== undefined) {
    const reasons: Record<string, number> = { ...had.disconnectReasons };
    for (const [r, n] of Object.entries(add.disconnectReasons)) reasons[r] = (reasons[r] ?? 0) + n;
    merged.disconnectReasons = reasons;
  }
  if (add.sourceIps !== undefined) {
    merged.sourceIps = [...new Set([...(had.sourceIps ?? []), ...add.sourceIps])].slice(0, MAX_SOURCE_IPS);
  }
  batch.set(key, merged);
}

type Value = { S: string } | { N: string } | { NS: string[] } | { SS: string[] };

/**
 * The `UpdateItem` input (without `TableName`) that adds a batch's counters for one ECU and bucket.
 * @example await ddb.send(new UpdateItemCommand({ TableName, ...counterUpdate(add) }));
 */
export function counterUpdate(add: CounterAdd): {
  Key: Record<string, { S: string }>;
  UpdateExpression: string;
  ExpressionAttributeNames: Record<string, string>;
  ExpressionAttributeValues: Record<string, Value>;
} {
  const names: Record<string, string> = { '#ttl': 'ttl' };
  const values: Record<string, Value> = {
    ':ttl': { N: String(add.start + BEHAVIOUR_BUCKET_SECONDS + BEHAVIOUR_COUNTER_TTL_SECONDS) },
  };
  const adds: string[] = [];
  const put = (attr: string, value: Value) => {
    names[`#${attr}`] = attr;
    values[`:${attr}`] = value;
    adds.push(`#${attr} :${attr}`);
  };
  for (const m of NUMERIC) {
    const v = add[m];
    if (v !== undefined && v > 0) put(m, { N: String(Math.floor(v)) });
  }
  if (add.maxBytes !== undefined && add.maxBytes > 0)
    put('sizeClasses', { NS: [String(sizeClass(add.maxBytes))] });
  const reasons = new Map<string, number>();
  for (const [reason, n] of Object.entries(add.disconnectReasons ?? {})) {
    const known = (DISCONNECT_REASONS as readonly string[]).includes(reason) ? reason : 'UNKNOWN';
    if (n > 0) reasons.set(known, (reasons.get(known) ?? 0) + Math.floor(n));
  }
  for (const [reason, n] of reasons) put(`dc_${reason}`, { N: String(n) });
  if (add.sourceIps !== undefined && add.sourceIps.length > 0) {
    put('sourceIps', { SS: [...new Set(add.sourceIps)].slice(0, MAX_SOURCE_IPS) });
  }
  return {
    Key: { thingName: { S: add.thingName }, sk: { S: counterSortKey(add.start) } },
    UpdateExpression: `SET #ttl = :ttl${adds.length > 0 ? ` ADD ${adds.join(', ')}` : ''}`,
    ExpressionAttributeNames: names,
    ExpressionAttributeValues: values,
  };
}

/** The sort key of a counter item. */
export function counterSortKey(start: number): string {
  return `b#${String(Math.max(0, Math.floor(start))).padStart(12, '0')}`;
}

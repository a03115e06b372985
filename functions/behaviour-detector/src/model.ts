/**
 * The detector's vocabulary: ECU roles, the per-bucket metrics, the behaviours it reports, and the per-role
 * parameters with their (quiet) defaults. Pure data, no AWS.
 */

export const ROLES = ['gateway', 'telematics', 'body', 'infotainment', 'adas'] as const;
export type Role = (typeof ROLES)[number];

/**
 * Per ECU and bucket: messages sent, their size (sum and max), messages received (commands), connection attempts,
 * disconnects, distinct source addresses, authorization failures.
 */
export const METRICS = [
  'sent',
  'bytes',
  'maxBytes',
  'received',
  'connects',
  'disconnects',
  'sourceIps',
  'authzFailures',
] as const;
export type Metric = (typeof METRICS)[number];

/** The statistically judged metrics and the behaviour an excess of each one is reported as. */
export const JUDGED: Readonly<Partial<Record<Metric, Behaviour>>> = {
  sent: 'MESSAGE_FLOOD',
  bytes: 'DATA_VOLUME',
  received: 'COMMAND_FLOOD',
  connects: 'RECONNECT_LOOP',
  disconnects: 'RECONNECT_LOOP',
  authzFailures: 'AUTHORIZATION_PROBING',
};

/** What a finding reports; one finding per ECU and behaviour within the role's cool-down. */
export const BEHAVIOURS = [
  'CLONED_IDENTITY',
  'RECONNECT_LOOP',
  'MESSAGE_SIZE_JUMP',
  'MESSAGE_FLOOD',
  'DATA_VOLUME',
  'COMMAND_FLOOD',
  'AUTHORIZATION_PROBING',
] as const;
export type Behaviour = (typeof BEHAVIOURS)[number];

/** One ECU's counters for one bucket (`start`: epoch seconds, a multiple of the bucket length). */
export interface BucketCounts {
  thingName: string;
  start: number;
  counts: Record<Metric, number>;
  /** Disconnects by AWS IoT `disconnectReason`. */
  disconnectReasons: Record<string, number>;
}

export interface RoleParameters {
  /** Robust z: an ECU metric is anomalous above `level + sensitivity * spread`. Higher = quieter. */
  sensitivity: number;
  /** Buckets of its own history before an ECU is judged against itself rather than its role. */
  warmUpBuckets: number;
  /** Seconds after a finding during which the same ECU and behaviour raises no new finding. */
  coolDownSeconds: number;
  /** Minimum value per metric and bucket below which nothing is anomalous (absolute floors). */
  floors: Readonly<Record<Metric, number>>;
  /** Rule: connection attempts within `reconnectWindowSeconds` that make a reconnect loop. */
  reconnectLimit: number;
  reconnectWindowSeconds: number;
  /** Rule: a message larger than `sizeJumpFactor` x the role's learned max size (and `sizeJumpFloorBytes`). */
  sizeJumpFactor: number;
  sizeJumpFloorBytes: number;
  /** Rule: takeovers of a live session from another address within the window that make a cloned identity. */
  cloneTakeovers: number;
  cloneWindowSeconds: number;
}

export const BUCKET_SECONDS = 3600;
/** Daily season: the day is cut into slots, each with its own baseline. */
export const SEASON_SLOTS = 6;
export const slotOf = (bucketStart: number): number =>
  Math.floor((((bucketStart % 86_400) + 86_400) % 86_400) / (86_400 / SEASON_SLOTS));

const FLOORS: Record<Metric, number> = {
  sent: 300,
  bytes: 256 * 1024,
  maxBytes: 16 * 1024,
  received: 12,
  connects: 8,
  disconnects: 8,
  sourceIps: 4,
  authzFailures: 2,
};

/** Defaults that keep a healthy fleet quiet (docs/detection.md gives the measured rate). */
export const DEFAULT_PARAMETERS: RoleParameters = {
  sensitivity: 8,
  warmUpBuckets: 72,
  coolDownSeconds: 24 * 3600,
  floors: FLOORS,
  reconnectLimit: 12,
  reconnectWindowSeconds: 600,
  sizeJumpFactor: 6,
  sizeJumpFloorBytes: 32 * 1024,
  cloneTakeovers: 3,
  cloneWindowSeconds: 900,
};

/** Per-role overrides of {@link DEFAULT_PARAMETERS}: ADAS ECUs send larger frames, the gateway relays commands. */
export const ROLE_PARAMETERS: Readonly<Record<Role, RoleParameters>> = {
  gateway: { ...DEFAULT_PARAMETERS, floors: { ...FLOORS, received: 20 } },
  telematics: DEFAULT_PARAMETERS,
  body: DEFAULT_PARAMETERS,
  infotainment: { ...DEFAULT_PARAMETERS, floors: { ...FLOORS, sent: 240, bytes: 1024 * 1024 } },
  adas: {
    ...DEFAULT_PARAMETERS,
    floors: { ...FLOORS, bytes: 2 * 1024 * 1024, maxBytes: 64 * 1024 },
    sizeJumpFloorBytes: 64 * 1024,
  },
};

export const emptyCounts = (): Record<Metric, number> =>
  Object.fromEntries(METRICS.map((m) => [m, 0])) as Record<Metric, number>;

import type { CommandEncrypter, CommandSigner } from '@cv/crypto/command';

/** A registry row as the `byVin` index returns it. */
export interface EcuRecord {
  ecuId: string;
  vin: string;
  role?: string;
  status?: string;
  thingName?: string;
}

export interface Registry {
  /** Query `byVin`: all ECUs of the vehicle, or only `ecuId` when given. */
  ecusOfVehicle(vin: string, ecuId?: string): Promise<EcuRecord[]>;
}

/** The user's current vehicle-access grant for one vehicle (the row the authorizer read, read again). */
export interface AccessGrant {
  commands: readonly string[];
  /** Epoch seconds after which the grant is void (drivers). */
  validUntil?: number;
}

export interface VehicleAccess {
  /**
   * The grant as it is now (strongly consistent read of the vehicle-access row), `undefined` if the row is gone,
   * malformed or belongs to someone else: a revocation is seen by the very next request.
   */
  grantOf(userSub: string, vin: string): Promise<AccessGrant | undefined>;
}

export type CommandStatus = 'PENDING' | 'SUCCEEDED' | 'FAILED' | 'EXPIRED' | 'REJECTED';

/** A row of the commands table (docs/architecture.md §3). */
export interface CommandRow {
  commandId: string;
  vin: string;
  thingName: string;
  command: string;
  args: Record<string, unknown>;
  requestedBy: string;
  status: CommandStatus;
  createdAt: string;
  expiresAt: string;
  result?: unknown;
  ttl: number;
}

/** The 202 body, stored with a completed idempotency record so a retry returns it unchanged. */
export interface SendResponse {
  commandId: string;
  status: CommandStatus;
  expiresAt: string;
}

export type IdempotencyClaim =
  | { state: 'claimed'; commandId: string }
  | { state: 'completed'; response: SendResponse }
  /** Another attempt holds the record; its lease ends in `retryAfterSeconds` (at least 1). */
  | { state: 'in_progress'; retryAfterSeconds: number }
  | { state: 'mismatch' };

export interface IdempotencyRequest {
  /** Opaque record key derived from the user sub and the Idempotency-Key. */
  key: string;
  requestHash: string;
  /** The command id to use if this is the first attempt. */
  commandId: string;
  nowSeconds: number;
  inProgressSeconds: number;
  expiresAtSeconds: number;
}

export interface CommandStore {
  /**
   * Claim an idempotency record (conditional write). A record left FAILED, or IN_PROGRESS past
   * its lease, by an earlier attempt of the same request is re-claimed with its original command id.
   */
  claim(request: IdempotencyRequest): Promise<IdempotencyClaim>;
  /** Mark a claimed record FAILED so the client may retry with the same key. */
  release(key: string): Promise<void>;
  /** Mark a claimed record COMPLETED with the response (after the publish), so a retry replays it. */
  complete(key: string, response: SendResponse): Promise<void>;
  /**
   * Write the PENDING row, before the command is published (the ECU's result may reach telemetry-ingest before
   * command-sender returns, and is applied only to an existing PENDING row). A PENDING row of the same command id,
   * user and thing (left by an earlier attempt of the same idempotent request) is replaced. `answered`: that earlier
   * attempt's command was delivered and its result recorded, so it must not be sent again.
   */
  recordPending(row: CommandRow): Promise<'recorded' | 'answered'>;
  /**
   * The publish failed: delete the row while it is still PENDING. `answered`: the ECU's result already reached
   * the row, so the command was delivered after all and the row is kept.
   */
  withdrawPending(commandId: string): Promise<'withdrawn' | 'answered'>;
  get(commandId: string): Promise<CommandRow | undefined>;
}

export interface MqttMessage {
  topic: string;
  payload: string;
  responseTopic: string;
  /** Base64 of the command id (MQTT 5 correlation data). */
  correlationData: string;
  /** MQTT 5 message expiry interval, seconds. */
  messageExpirySeconds: number;
}

export interface Publisher {
  publish(message: MqttMessage): Promise<void>;
}

/** Behaviour counters (docs/detection.md): commands counted per ECU and hour for behaviour-detector. */
export interface CommandCounter {
  /** Counts one command published to the ECU; best effort (the adapter reports and drops a failed write). */
  received(thingName: string, atMs: number): Promise<void>;
}

export interface SendCommandDeps {
  registry: Registry;
  access: VehicleAccess;
  store: CommandStore;
  /** The command signer (KMS), resolved once per container. */
  signer: () => Promise<CommandSigner>;
  encrypt: CommandEncrypter;
  encryptionKeyId: string;
  publisher: Publisher;
  /** Absent: commands are not counted. */
  counter?: CommandCounter;
  stage: string;
  ttlSeconds: number;
  now: () => number;
  newId: () => string;
}

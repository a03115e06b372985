import { createHash } from 'node:crypto';
import { buildCommandMessage, CryptoError, commandClaims } from '@cv/crypto/command';
import { badRequest, conflict, forbidden, notFound } from '@cv/runtime';
import {
  COMMAND_ID,
  IDEMPOTENCY_KEY,
  parseCommandRequest,
  type ValidCommandRequest,
  VIN,
} from './catalog.js';
import type { EcuRecord, SendCommandDeps, SendResponse } from './ports.js';
import { grantAllows, mayCommand, type Principal } from './principal.js';

/** Rows stay readable (status, audit) this long after the command expired; then DynamoDB TTL removes them. */
export const ROW_RETENTION_SECONDS = 30 * 24 * 3600;
/** How long an Idempotency-Key is remembered. */
export const IDEMPOTENCY_RETENTION_SECONDS = 24 * 3600;
/** Lease of an in-progress idempotency record (longer than the function timeout). */
export const IDEMPOTENCY_LEASE_SECONDS = 60;

export interface SendCommandInput {
  principal: Principal;
  vin: string | undefined;
  body: unknown;
  idempotencyKey: string | undefined;
}

export interface SendCommandResult {
  response: SendResponse;
  /** True when the response was replayed from an earlier request with the same Idempotency-Key. */
  replayed: boolean;
}

function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

/** Pick the target ECU: the vehicle's ACTIVE gateway, or the given ECU if it is this vehicle's and ACTIVE. */
async function resolveTarget(
  vin: string,
  ecuId: string | undefined,
  deps: SendCommandDeps,
): Promise<EcuRecord> {
  const ecus = await deps.registry.ecusOfVehicle(vin, ecuId);
  const target =
    ecuId === undefined
      ? ecus.find((e) => e.role === 'gateway' && e.status === 'ACTIVE' && e.vin === vin)
      : ecus.find((e) => e.ecuId === ecuId && e.vin === vin && e.status === 'ACTIVE');
  // One answer for "no such ECU", "another vehicle's ECU" and "not ACTIVE": no existence oracle.
  if (target === undefined) {
    throw ecuId === undefined
      ? notFound('no_active_gateway', 'The vehicle has no active gateway ECU')
      : forbidden('ecu_not_allowed', 'The ECU is not an active ECU of this vehicle');
  }
  const thingName = `${vin}_${target.ecuId}`;
  if (target.thingName !== undefined && target.thingName !== thingName) {
    throw forbidden('ecu_not_allowed', 'The ECU is not an active ECU of this vehicle');
  }
  return { ...target, thingName };
}

/**
 * POST /vehicles/{vin}/commands: validate, re-check permission, pick the target, then
 * sign (KMS) -> encrypt (KMS) -> write the PENDING row -> publish (IoT, QoS 1).
 *
 * The row is written before the publish, so the ECU's result, which may reach telemetry-ingest
 * before this function has returned, always finds its command. A KMS failure writes nothing; a
 * failed publish withdraws the row again (unless the ECU's result already reached it: then the
 * command was delivered after all, and it is answered 202). With an Idempotency-Key, the record is
 * completed with the response once the command is sent, and released (FAILED) when it is not.
 */
export async function sendCommand(
  input: SendCommandInput,
  deps: SendCommandDeps,
): Promise<SendCommandResult> {
  const { principal } = input;
  const vin = input.vin ?? '';
  if (!VIN.test(vin)) throw badRequest('invalid_vin', 'Malformed VIN');
  const parsed = parseCommandRequest(input.body);
  if (!parsed.ok) throw badRequest(parsed.code, parsed.message);
  const request: ValidCommandRequest = parsed.value;
  if (!mayCommand(principal, vin, Math.floor(deps.now() / 1000), request.command)) {
    throw forbidden('command_not_allowed', 'You may not send this command to this vehicle');
  }
  // The authorizer's decision may be served from API Gateway's cache: re-read the grant, so a revocation or a
  // transfer of the car stops commands at once (docs/commands.md, "Revocation").
  const grant = await deps.access.grantOf(principal.sub, vin);
  if (!grantAllows(grant, Math.floor(deps.now() / 1000), request.command)) {
    throw forbidden('command_not_allowed', 'You may not send this command to this vehicle');
  }
  if (input.idempotencyKey !== undefined && !IDEMPOTENCY_KEY.test(input.idempotencyKey)) {
    throw badRequest('invalid_idempotency_key', 'Idempotency-Key must be 1-128 of [A-Za-z0-9._:-]');
  }

  const target = await resolveTarget(vin, request.ecuId, deps);
  const thingName = target.thingName ?? `${vin}_${target.ecuId}`;
  const nowMs = deps.now();
  const nowSeconds = Math.floor(nowMs / 1000);

  let commandId = deps.newId();
  let idempotencyKey: string | undefined;
  if (input.idempotencyKey !== undefined) {
    idempotencyKey = `idempotency#${sha256(`${principal.sub}\n${input.idempotencyKey}`)}`;
    const claim = await deps.store.claim({
      key: idempotencyKey,
      requestHash: sha256(JSON.stringify([vin, request.command, request.args, request.ecuId ?? null])),
      commandId,
      nowSeconds,
      inProgressSeconds: IDEMPOTENCY_LEASE_SECONDS,
      expiresAtSeconds: nowSeconds + IDEMPOTENCY_RETENTION_SECONDS,
    });
    if (claim.state === 'completed') return { response: claim.response, replayed: true };
    if (claim.state === 'in_progress') {
      // Clears by itself: the other attempt completes, or its lease ends and a retry re-claims it.
      throw conflict(
        'request_in_progress',
        'A request with this Idempotency-Key is in progress',
        undefined,
        claim.retryAfterSeconds,
      );
    }
    if (claim.state === 'mismatch') {
      throw conflict('idempotency_key_reused', 'The Idempotency-Key was used for a different request');
    }
    commandId = claim.commandId;
  }

  // Nothing written yet: a KMS failure (or the outcome unknown) releases the key, so the client may retry.
  // A retry with the same Idempotency-Key re-uses this command id, so an ECU that did receive an
  // earlier message rejects the second as a replay.
  const release = async () => {
    if (idempotencyKey !== undefined) await deps.store.release(idempotencyKey).catch(() => undefined);
  };
  let claims: ReturnType<typeof commandClaims>;
  let payload: string;
  try {
    claims = commandClaims({
      stage: deps.stage,
      thingName,
      vin,
      sub: principal.sub,
      cmd: request.command,
      args: request.args,
      ttlSeconds: deps.ttlSeconds,
      commandId,
      now: nowMs,
    });
    const signer = await deps.signer();
    ({ payload } = await buildCommandMessage({
      claims,
      signer,
      encrypt: deps.encrypt,
      encryptionKeyId: deps.encryptionKeyId,
    }));
  } catch (error) {
    await release();
    // The crypto module wraps signer/encrypter failures; surface the underlying (e.g. KMS
    // throttling) error so the HTTP layer can map it (503 + Retry-After, else 500).
    throw error instanceof CryptoError && error.cause instanceof Error ? error.cause : error;
  }

  const expiresAt = new Date(claims.exp * 1000).toISOString();
  const response: SendResponse = { commandId, status: 'PENDING', expiresAt };
  // Best effort: if it fails, the record stays IN_PROGRESS until its lease ends, and a retry then re-claims it
  // with this command id, finds the row, and is answered without sending again (or sends again, if still PENDING:
  // the ECU rejects the replayed jti).
  const complete = async (done: SendResponse) => {
    if (idempotencyKey !== undefined) await deps.store.complete(idempotencyKey, done).catch(() => undefined);
  };
  let recorded: 'recorded' | 'answered';
  try {
    recorded = await deps.store.recordPending({
      commandId,
      vin,
      thingName,
      command: request.command,
      args: request.args,
      requestedBy: principal.sub,
      status: 'PENDING',
      createdAt: new Date(claims.iat * 1000).toISOString(),
      expiresAt,
      ttl: claims.exp + ROW_RETENTION_SECONDS,
    });
  } catch (error) {
    await release();
    throw error;
  }
  if (recorded === 'answered') {
    // An earlier attempt of this idempotent request was delivered and answered: answer it, send nothing.
    const earlier = await deps.store.get(commandId);
    const replay: SendResponse = { commandId, status: 'PENDING', expiresAt: earlier?.expiresAt ?? expiresAt };
    await complete(replay);
    return { response: replay, replayed: true };
  }

  try {
    await deps.publisher.publish({
      topic: `ecus/${thingName}/commands`,
      payload,
      responseTopic: `ecus/${thingName}/command-results`,
      correlationData: Buffer.from(commandId, 'utf8').toString('base64'),
      messageExpirySeconds: deps.ttlSeconds,
    });
  } catch (error) {
    // Not published (or the outcome unknown): withdraw the row and free the key, so the client may retry (same
    // command id). If the withdrawal fails, the row stays PENDING: it ends EXPIRED, or a retry replaces it.
    const undone = await deps.store.withdrawPending(commandId).catch(() => 'left' as const);
    if (undone !== 'answered') {
      await release();
      throw error;
    }
    // The ECU's result is already in the row: the message was delivered. Answered as a successful publish.
  }
  await complete(response);
  // Counted once it is published and recorded (a replayed response above was counted when first sent).
  await deps.counter?.received(thingName, nowMs);
  return { response, replayed: false };
}

export interface CommandView {
  commandId: string;
  vin: string;
  command: string;
  status: string;
  createdAt: string;
  expiresAt: string;
  result?: unknown;
}

/**
 * GET /vehicles/{vin}/commands/{commandId}: the row, only for a vehicle the caller may
 * command and only if the command belongs to that vehicle (404 otherwise, no oracle).
 * A PENDING command past its expiry is reported as EXPIRED.
 */
export async function getCommand(
  input: { principal: Principal; vin: string | undefined; commandId: string | undefined },
  deps: Pick<SendCommandDeps, 'store' | 'now' | 'access'>,
): Promise<CommandView> {
  const vin = input.vin ?? '';
  const commandId = input.commandId ?? '';
  if (!VIN.test(vin)) throw badRequest('invalid_vin', 'Malformed VIN');
  if (!COMMAND_ID.test(commandId)) throw badRequest('invalid_command_id', 'Malformed command id');
  const nowSeconds = Math.floor(deps.now() / 1000);
  if (!mayCommand(input.principal, vin, nowSeconds))
    throw forbidden('vehicle_not_allowed', 'You may not command this vehicle');
  if (!grantAllows(await deps.access.grantOf(input.principal.sub, vin), nowSeconds))
    throw forbidden('vehicle_not_allowed', 'You may not command this vehicle');
  const row = await deps.store.get(commandId);
  if (row === undefined || row.vin !== vin) throw notFound('command_not_found', 'No such command');
  const expired = row.status === 'PENDING' && Date.parse(row.expiresAt) <= deps.now();
  return {
    commandId: row.commandId,
    vin: row.vin,
    command: row.command,
    status: expired ? 'EXPIRED' : row.status,
    createdAt: row.createdAt,
    expiresAt: row.expiresAt,
    ...(row.result === undefined ? {} : { result: row.result }),
  };
}

import type { CommandSigner } from '@cv/crypto/command';
import type {
  AccessGrant,
  CommandRow,
  CommandStore,
  EcuRecord,
  IdempotencyClaim,
  IdempotencyRequest,
  MqttMessage,
  SendCommandDeps,
  SendResponse,
} from '../src/ports.js';
import type { Principal } from '../src/principal.js';
import {
  ENCRYPTION_KEY_ARN,
  localSigningKey,
  localSymmetricKms,
  OTHER_VIN,
  SIGNING_KEY_ARN,
  SUB,
  VIN,
} from './helpers.js';

interface IdemRecord {
  status: 'IN_PROGRESS' | 'COMPLETED' | 'FAILED';
  requestHash: string;
  targetCommandId: string;
  inProgressUntil: number;
  response?: SendResponse;
}

/** In-memory store with the same claim semantics as the DynamoDB adapter's conditional update. */
export class MemoryStore implements CommandStore {
  readonly rows = new Map<string, CommandRow>();
  readonly idem = new Map<string, IdemRecord>();
  async claim(req: IdempotencyRequest): Promise<IdempotencyClaim> {
    const existing = this.idem.get(req.key);
    const reclaimable =
      existing !== undefined &&
      existing.requestHash === req.requestHash &&
      (existing.status === 'FAILED' ||
        (existing.status === 'IN_PROGRESS' && existing.inProgressUntil < req.nowSeconds));
    if (existing === undefined || reclaimable) {
      const targetCommandId = existing?.targetCommandId ?? req.commandId;
      this.idem.set(req.key, {
        status: 'IN_PROGRESS',
        requestHash: req.requestHash,
        targetCommandId,
        inProgressUntil: req.nowSeconds + req.inProgressSeconds,
      });
      return { state: 'claimed', commandId: targetCommandId };
    }
    if (existing.requestHash !== req.requestHash) return { state: 'mismatch' };
    if (existing.status === 'COMPLETED' && existing.response)
      return { state: 'completed', response: existing.response };
    const left = existing.inProgressUntil - req.nowSeconds + 1;
    return { state: 'in_progress', retryAfterSeconds: Math.min(req.inProgressSeconds, Math.max(1, left)) };
  }
  async release(key: string): Promise<void> {
    const r = this.idem.get(key);
    if (r?.status === 'IN_PROGRESS') r.status = 'FAILED';
  }
  async complete(key: string, response: SendResponse): Promise<void> {
    const r = this.idem.get(key);
    if (r?.status !== 'IN_PROGRESS' || r.targetCommandId !== response.commandId)
      throw new Error('not in progress');
    Object.assign(r, { status: 'COMPLETED', response });
  }
  async recordPending(row: CommandRow): Promise<'recorded' | 'answered'> {
    const existing = this.rows.get(row.commandId);
    if (
      existing === undefined ||
      (existing.status === 'PENDING' &&
        existing.requestedBy === row.requestedBy &&
        existing.thingName === row.thingName)
    ) {
      this.rows.set(row.commandId, row);
      return 'recorded';
    }
    if (existing.requestedBy === row.requestedBy && existing.thingName === row.thingName) return 'answered';
    throw new Error('row exists');
  }
  async withdrawPending(commandId: string): Promise<'withdrawn' | 'answered'> {
    const row = this.rows.get(commandId);
    if (row !== undefined && row.status !== 'PENDING') return 'answered';
    this.rows.delete(commandId);
    return 'withdrawn';
  }
  async get(commandId: string): Promise<CommandRow | undefined> {
    return this.rows.get(commandId);
  }
}

export const REGISTRY: EcuRecord[] = [
  { ecuId: 'gw-0001', vin: VIN, role: 'gateway', status: 'ACTIVE', thingName: `${VIN}_gw-0001` },
  { ecuId: 'body-0002', vin: VIN, role: 'body', status: 'ACTIVE', thingName: `${VIN}_body-0002` },
  { ecuId: 'adas-0003', vin: VIN, role: 'adas', status: 'BLOCKED', thingName: `${VIN}_adas-0003` },
  { ecuId: 'gw-9999', vin: OTHER_VIN, role: 'gateway', status: 'ACTIVE', thingName: `${OTHER_VIN}_gw-9999` },
];

export function principal(
  vehicles: Record<string, string[]> = { [VIN]: ['door.lock', 'engine.start', 'climate.start'] },
): Principal {
  return { sub: SUB, vehicles: new Map(Object.entries(vehicles)) };
}

export function fakeDeps(over: Partial<SendCommandDeps> = {}) {
  const key = localSigningKey();
  const kms = localSymmetricKms();
  const calls = {
    sign: 0,
    encrypt: 0,
    publish: [] as MqttMessage[],
    contexts: [] as Record<string, string>[],
    grantReads: [] as string[],
  };
  const signer: CommandSigner = {
    alg: 'ES256',
    keyId: SIGNING_KEY_ARN,
    sign: async (digest) => {
      calls.sign++;
      return key.signDigest(digest);
    },
  };
  const store = new MemoryStore();
  /** Vehicle-access rows as the sender re-reads them: `${sub}|${vin}` -> grant (`null`: revoked). Unlisted: `*`. */
  const grants = new Map<string, AccessGrant | null>();
  let n = 0;
  const deps: SendCommandDeps = {
    registry: {
      ecusOfVehicle: async (vin, ecuId) =>
        REGISTRY.filter((e) => e.vin === vin && (ecuId === undefined || e.ecuId === ecuId)),
    },
    access: {
      grantOf: async (sub, vin) => {
        calls.grantReads.push(`${sub}|${vin}`);
        const grant = grants.get(`${sub}|${vin}`);
        return grant === null ? undefined : (grant ?? { commands: ['*'] });
      },
    },
    store,
    signer: async () => signer,
    encrypt: async (plaintext, context) => {
      calls.encrypt++;
      calls.contexts.push({ ...context });
      return kms.encrypt(plaintext, context);
    },
    encryptionKeyId: ENCRYPTION_KEY_ARN,
    publisher: {
      publish: async (m) => {
        calls.publish.push(m);
      },
    },
    stage: 'dev',
    ttlSeconds: 120,
    now: () => Date.UTC(2026, 10, 25, 9, 0, 0),
    newId: () => `00000000-0000-4000-8000-${String(++n).padStart(12, '0')}`,
    ...over,
  };
  return { deps, key, kms, calls, store, grants };
}

/** In-memory fakes of the manifest import's ports (a registry that can fail, race, and count its calls). */
import type { AdminAuditEntry } from '../src/audit.js';
import { ThrottledError } from '../src/errors.js';
import type { ImportDeps } from '../src/manifests/import.js';
import type {
  CheckpointPort,
  ExistingBinding,
  ImportCheckpoint,
  ManifestSource,
  RefusedRow,
} from '../src/manifests/ports.js';
import type { SupplierCa } from '../src/suppliers/ports.js';

export const ACME_KEY = 'a1'.repeat(32);
export const ACME_KEY_2 = 'a2'.repeat(32);
export const BOSCO_KEY = 'b1'.repeat(32);
export const OLD_KEY = 'c1'.repeat(32);

export function ca(
  supplierId: string,
  caKeySha256: string,
  status: 'ACTIVE' | 'RETIRED' = 'ACTIVE',
): SupplierCa {
  return {
    supplierId,
    caKeySha256,
    certificateSha256: 'f'.repeat(64),
    certificatePem: '',
    subject: `CN=${supplierId}`,
    notAfter: '2030-01-01T00:00:00.000Z',
    status,
    addedAt: '2026-01-01T00:00:00.000Z',
    addedBy: 'arn:aws:iam::123456789012:user/op',
  };
}

export function source(text: string, name = 'manifest.jsonl', chunk = 7): ManifestSource {
  const bytes = Buffer.from(text, 'utf8');
  return {
    name,
    size: bytes.length,
    async *open(start = 0) {
      for (let i = start; i < bytes.length; i += chunk)
        yield bytes.subarray(i, Math.min(bytes.length, i + chunk));
    },
  };
}

export interface World {
  readonly rows: Map<string, Record<string, string>>;
  readonly audit: AdminAuditEntry[];
  readonly refusedRows: RefusedRow[];
  readonly checkpoints: Map<string, ImportCheckpoint>;
  readonly calls: { getMany: number; put: number; saves: number };
  /** Successful puts per ECU id (a row written twice would show 2). */
  readonly writesById: Map<string, number>;
  /** Puts in flight now, and the most seen at once. */
  readonly inFlight: { now: number; max: number };
  /** Throws on the n-th put from now (1-based), simulating an interruption. */
  failOnPut?: number;
  /** The next n puts are throttled (ThrottledError, nothing written). */
  throttleNext?: number;
  /** Awaited inside each put before its condition is evaluated (e.g. a random delay: puts finish out of order). */
  putDelay?: (ecuId: string) => Promise<void>;
  /** Runs just before each put's condition is evaluated (a racing writer). */
  beforePut?: (ecuId: string) => void;
  readonly deps: ImportDeps;
}

export function world(
  cas: SupplierCa[] = [ca('acme', ACME_KEY), ca('bosco', BOSCO_KEY)],
  rows: Record<string, Record<string, string>> = {},
): World {
  const w: World = {
    rows: new Map(Object.entries(rows)),
    audit: [],
    refusedRows: [],
    checkpoints: new Map(),
    calls: { getMany: 0, put: 0, saves: 0 },
    writesById: new Map(),
    inFlight: { now: 0, max: 0 },
  } as unknown as World;
  const binding = (r: Record<string, string>): ExistingBinding => ({
    ecuId: r.ecuId ?? '',
    vin: r.vin ?? '',
    role: r.role ?? '',
    status: r.status ?? '',
    supplierId: r.supplierId,
    attestationIssuerKeySha256: r.attestationIssuerKeySha256,
    attestationCertificateSha256: r.attestationCertificateSha256,
    manifestSha256: r.manifestSha256,
  });
  const checkpoints: CheckpointPort = {
    load: async (sha) => w.checkpoints.get(sha),
    save: async (cp) => {
      w.calls.saves += 1;
      w.checkpoints.set(cp.manifestSha256, cp);
    },
    clear: async (sha) => {
      w.checkpoints.delete(sha);
    },
  };
  (w as { deps: ImportDeps }).deps = {
    registryImport: {
      getMany: async (ids) => {
        w.calls.getMany += 1;
        const out = new Map<string, ExistingBinding>();
        for (const id of ids) {
          const r = w.rows.get(id);
          if (r !== undefined) out.set(id, binding(r));
        }
        return out;
      },
      putIfAbsent: async (row, provenance) => {
        w.inFlight.now += 1;
        w.inFlight.max = Math.max(w.inFlight.max, w.inFlight.now);
        try {
          await w.putDelay?.(row.ecuId);
          if (w.failOnPut !== undefined) {
            w.failOnPut -= 1;
            if (w.failOnPut === 0) {
              w.failOnPut = undefined;
              throw new Error('ECONNRESET');
            }
          }
          if (w.throttleNext !== undefined && w.throttleNext > 0) {
            w.throttleNext -= 1;
            throw new ThrottledError();
          }
          w.beforePut?.(row.ecuId);
          w.calls.put += 1;
          if (w.rows.has(row.ecuId)) return false;
          w.rows.set(row.ecuId, {
            ...(row as unknown as Record<string, string>),
            status: 'ACTIVE',
            manifestSha256: provenance.manifestSha256,
          });
          w.writesById.set(row.ecuId, (w.writesById.get(row.ecuId) ?? 0) + 1);
          return true;
        } finally {
          w.inFlight.now -= 1;
        }
      },
    },
    suppliers: {
      casOf: async (id) => cas.filter((c) => c.supplierId === id),
      all: async () => cas,
    },
    checkpoints,
    caller: { whoAmI: async () => 'arn:aws:iam::123456789012:user/factory' },
    clock: { now: () => new Date('2026-12-03T06:00:00.000Z') },
    audit: { record: async (e) => void w.audit.push(e) },
    observer: {
      progress: () => undefined,
      refused: (r) => void w.refusedRows.push(r),
      done: () => undefined,
    },
  };
  return w;
}

/** A random delay of 0 to `maxMs` ms from a seeded generator (puts then finish out of order, reproducibly). */
export function randomDelays(seed: number, maxMs = 3): () => Promise<void> {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    const ms = (x >>> 0) % (maxMs + 1);
    return new Promise((resolve) => setTimeout(resolve, ms));
  };
}

export const VIN1 = 'WVWZZZ1JZXW000001';
export const VIN2 = 'WVWZZZ1JZXW000002';

export const jsonl = (rows: Record<string, unknown>[]) =>
  `${rows.map((r) => JSON.stringify(r)).join('\n')}\n`;

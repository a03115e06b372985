import { createSecretKey, type KeyObject } from 'node:crypto';

/** Bounds of the plaintext data-key cache of the decrypt path. */
export interface DataKeyCacheBounds {
  /** Most cached data keys; the least recently used is evicted first. */
  capacity: number;
  /** A data key older than this (milliseconds since it was fetched) is fetched again. */
  maxAgeMs: number;
  /** Optional: after this many messages a data key is fetched again. Unbounded when absent. */
  maxMessages?: number;
}

interface Entry {
  key: KeyObject;
  fetchedAt: number;
  uses: number;
}

interface Pending {
  promise: Promise<KeyObject>;
  waiters: number;
}

/**
 * A bounded, process-local cache of plaintext data keys (LRU by entries, max age, optional max messages per key),
 * with one fetch in flight per id: concurrent misses for the same data key share one keyring (KMS) call.
 * Keys are held as `KeyObject`s (native memory, outside the JS heap; about 8x cheaper per AES-GCM / HKDF call than
 * a Buffer key); the fetched key bytes are zero-filled as soon as they are wrapped. Evicted and expired keys are
 * dropped (a `KeyObject` cannot be zero-filled from JS). Keys are lent synchronously to a callback only.
 *
 * @example
 * const cache = new DataKeyCache({ capacity: 1000, maxAgeMs: 300_000 });
 * const out = await cache.use(id, () => fetchFromKms(), (key) => derive(key));
 */
export class DataKeyCache {
  readonly #bounds: DataKeyCacheBounds;
  readonly #entries = new Map<string, Entry>();
  readonly #pending = new Map<string, Pending>();

  constructor(bounds: DataKeyCacheBounds) {
    if (!Number.isInteger(bounds.capacity) || bounds.capacity < 1)
      throw new RangeError('capacity must be >= 1');
    if (!(bounds.maxAgeMs > 0)) throw new RangeError('maxAgeMs must be > 0');
    if (
      bounds.maxMessages !== undefined &&
      !(Number.isInteger(bounds.maxMessages) && bounds.maxMessages >= 1)
    )
      throw new RangeError('maxMessages must be >= 1');
    this.#bounds = { ...bounds };
  }

  /** Number of cached keys (for tests and metrics). */
  get size(): number {
    return this.#entries.size;
  }

  /**
   * Runs `use` with the cached key for `id`, fetching it with `fetch` on a miss. `fetch` must return a fresh buffer
   * the cache then owns (it zero-fills it once wrapped). `use` runs synchronously with the key; do not keep it.
   */
  async use<T>(id: string, fetch: () => Promise<Buffer>, use: (key: KeyObject) => T): Promise<T> {
    const hit = this.#take(id);
    if (hit) return use(hit);

    const pending = this.#pending.get(id) ?? this.#start(id, fetch);
    pending.waiters++;
    const key = await pending.promise;
    return use(key);
  }

  /** Drops every cached key. */
  clear(): void {
    this.#entries.clear();
  }

  /** One fetch per id; the waiters registered by the time it lands count as messages on the new entry. */
  #start(id: string, fetch: () => Promise<Buffer>): Pending {
    const counter = { waiters: 0 };
    const promise = fetch().then(
      (bytes) => {
        this.#pending.delete(id);
        let key: KeyObject;
        try {
          key = createSecretKey(bytes);
        } finally {
          bytes.fill(0);
        }
        this.#insert(id, key, counter.waiters);
        return key;
      },
      (error: unknown) => {
        this.#pending.delete(id);
        throw error;
      },
    );
    const pending: Pending = Object.assign(counter, { promise });
    this.#pending.set(id, pending);
    return pending;
  }

  #take(id: string): KeyObject | undefined {
    const entry = this.#entries.get(id);
    if (!entry) return undefined;
    const { maxAgeMs, maxMessages } = this.#bounds;
    this.#entries.delete(id);
    if (Date.now() - entry.fetchedAt > maxAgeMs || (maxMessages !== undefined && entry.uses >= maxMessages)) {
      return undefined;
    }
    entry.uses++;
    this.#entries.set(id, entry); // most recently used last
    return entry.key;
  }

  #insert(id: string, key: KeyObject, uses: number): void {
    const { capacity, maxMessages } = this.#bounds;
    if (maxMessages !== undefined && uses >= maxMessages) return;
    this.#entries.delete(id);
    this.#entries.set(id, { key, fetchedAt: Date.now(), uses });
    while (this.#entries.size > capacity) {
      const oldest = this.#entries.keys().next();
      if (oldest.done) break;
      this.#entries.delete(oldest.value); // least recently used
    }
  }
}

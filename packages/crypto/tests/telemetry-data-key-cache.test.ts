import { randomBytes } from 'node:crypto';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { DataKeyCache } from '../src/telemetry/index.js';

/** A fetch that returns fresh random key bytes and records what it handed out. */
function fetcher() {
  const handed: Buffer[] = [];
  const fetch = vi.fn(async () => {
    const bytes = randomBytes(32);
    handed.push(bytes);
    return bytes;
  });
  return { fetch, handed };
}

const exported = (key: { export(): Buffer }) => key.export().toString('hex');

describe('DataKeyCache', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('fetches once and lends the same key on a hit', async () => {
    const cache = new DataKeyCache({ capacity: 2, maxAgeMs: 60_000 });
    const { fetch } = fetcher();

    const a = await cache.use('a', fetch, exported);
    const b = await cache.use('a', fetch, exported);

    expect(a).toBe(b);
    expect(fetch).toHaveBeenCalledTimes(1);
  });

  it('zero-fills the fetched bytes once wrapped', async () => {
    const cache = new DataKeyCache({ capacity: 2, maxAgeMs: 60_000 });
    const { fetch, handed } = fetcher();

    const key = await cache.use('a', fetch, exported);

    expect(handed[0]?.equals(Buffer.alloc(32))).toBe(true);
    expect(key).not.toBe(Buffer.alloc(32).toString('hex'));
  });

  it('evicts the least recently used key beyond capacity', async () => {
    const cache = new DataKeyCache({ capacity: 2, maxAgeMs: 60_000 });
    const { fetch } = fetcher();
    await cache.use('a', fetch, exported);
    await cache.use('b', fetch, exported);
    await cache.use('a', fetch, exported); // a is now the most recent

    await cache.use('c', fetch, exported); // evicts b
    await cache.use('a', fetch, exported);
    expect(fetch).toHaveBeenCalledTimes(3);
    await cache.use('b', fetch, exported);

    expect(fetch).toHaveBeenCalledTimes(4);
    expect(cache.size).toBe(2);
  });

  it('fetches again after the max age', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(new Date('2026-11-25T10:00:00Z'));
    const cache = new DataKeyCache({ capacity: 2, maxAgeMs: 60_000 });
    const { fetch } = fetcher();

    await cache.use('a', fetch, exported);
    vi.setSystemTime(new Date('2026-11-25T10:01:00Z'));
    await cache.use('a', fetch, exported);
    expect(fetch).toHaveBeenCalledTimes(1);
    vi.setSystemTime(new Date('2026-11-25T10:01:00.001Z'));
    await cache.use('a', fetch, exported);

    expect(fetch).toHaveBeenCalledTimes(2);
  });

  it('fetches again after max messages', async () => {
    const cache = new DataKeyCache({ capacity: 2, maxAgeMs: 60_000, maxMessages: 3 });
    const { fetch } = fetcher();

    for (let i = 0; i < 7; i++) await cache.use('a', fetch, exported);

    expect(fetch).toHaveBeenCalledTimes(3);
  });

  it('shares one fetch between concurrent misses, and counts them as messages', async () => {
    const cache = new DataKeyCache({ capacity: 2, maxAgeMs: 60_000, maxMessages: 4 });
    const { fetch } = fetcher();

    const keys = await Promise.all([1, 2, 3].map(() => cache.use('a', fetch, exported)));
    await cache.use('a', fetch, exported); // the 4th message on this key
    await cache.use('a', fetch, exported); // the 5th: fetched again

    expect(new Set(keys).size).toBe(1);
    expect(fetch).toHaveBeenCalledTimes(2);
  });

  it('passes a failed fetch to every waiter and caches nothing', async () => {
    const cache = new DataKeyCache({ capacity: 2, maxAgeMs: 60_000 });
    const failing = vi.fn(async (): Promise<Buffer> => {
      throw new Error('ThrottlingException');
    });

    const results = await Promise.allSettled([1, 2].map(() => cache.use('a', failing, exported)));
    const { fetch } = fetcher();
    await cache.use('a', fetch, exported);

    expect(results.map((r) => r.status)).toEqual(['rejected', 'rejected']);
    expect(failing).toHaveBeenCalledTimes(1);
    expect(fetch).toHaveBeenCalledTimes(1);
  });

  it.each([
    [{ capacity: 0, maxAgeMs: 1 }],
    [{ capacity: 1, maxAgeMs: 0 }],
    [{ capacity: 1, maxAgeMs: 1, maxMessages: 0 }],
  ])('refuses bounds %j', (bounds) => {
    expect(() => new DataKeyCache(bounds)).toThrow(RangeError);
  });
});

/**
 * importManifest's concurrency against in-memory fakes whose puts finish out of order: writes in flight bounded,
 * throttling retried with backoff under a narrowed limit, the file's first binding winning across batches in flight,
 * refusals reported in file order, and an interrupted concurrent import resumed to the state of a clean one.
 */
import { describe, expect, it } from 'vitest';
import { importManifest } from '../src/manifests/import.js';
import { jsonl, randomDelays, source, VIN1, VIN2, world } from './manifest-fakes.js';

const row = (ecuId: string, over: Record<string, unknown> = {}) => ({
  ecuId,
  vin: VIN1,
  role: 'gateway',
  supplier: 'acme',
  ...over,
});
const many = (n: number, prefix = 'GW') => Array.from({ length: n }, (_, i) => row(`${prefix}-${i}`));

describe('importManifest, concurrent writes', () => {
  it.each([1, 7, 25])('keeps at most %i conditional writes in flight, and uses them', async (concurrency) => {
    const w = world();
    w.putDelay = randomDelays(concurrency, 2);

    const report = await importManifest(
      { source: source(jsonl(many(450)), 'm.jsonl', 512), concurrency },
      w.deps,
    );

    expect(report.written).toBe(450);
    expect(w.inFlight.max).toBeLessThanOrEqual(concurrency);
    expect(w.inFlight.max).toBe(concurrency);
  });

  it('throttled writes are retried after a jittered, growing delay with the limit halved; every row ends written once', async () => {
    const w = world();
    w.putDelay = randomDelays(3, 2);
    w.throttleNext = 40;
    const sleeps: number[] = [];
    const deps = {
      ...w.deps,
      backoff: { random: () => 0.999, sleep: async (ms: number) => void sleeps.push(ms) },
    };

    const report = await importManifest(
      { source: source(jsonl(many(300)), 'm.jsonl', 512), concurrency: 16 },
      deps,
    );

    expect(report).toMatchObject({ written: 300, unchanged: 0, refused: 0 });
    expect([...w.writesById.values()].every((n) => n === 1)).toBe(true);
    expect(w.writesById.size).toBe(300);
    expect(sleeps.length).toBe(40);
  });

  it('a row throttled again and again waits longer each time (exponential, jittered, capped)', async () => {
    const w = world();
    w.throttleNext = 6;
    const sleeps: number[] = [];
    const deps = {
      ...w.deps,
      backoff: { random: () => 0.999, capMs: 1000, sleep: async (ms: number) => void sleeps.push(ms) },
    };

    const report = await importManifest({ source: source(jsonl(many(1))), concurrency: 1 }, deps);

    expect(report.written).toBe(1);
    expect(sleeps).toEqual([49, 99, 199, 399, 799, 999]);
  });

  it('throttling that never stops: retries_exhausted, nothing written past it, the checkpoint keeps the finished batches', async () => {
    const w = world();
    w.throttleNext = Number.POSITIVE_INFINITY;
    const deps = { ...w.deps, backoff: { attempts: 3, sleep: async () => undefined } };
    const file = source(jsonl(many(250)), 'm.jsonl', 512);

    await expect(importManifest({ source: file, concurrency: 4 }, deps)).rejects.toMatchObject({
      code: 'retries_exhausted',
    });

    expect(w.rows.size).toBe(0);
    expect(w.calls.put).toBe(0);
    const checkpoint = [...w.checkpoints.values()][0];
    expect(checkpoint).toMatchObject({ lines: 0, written: 0 });
    expect(w.audit.map((a) => a.outcome)).toEqual(['refused']);
  });

  it('the same ECU id in two batches in flight: the file’s first binding is written, the later one refused', async () => {
    for (const slowFirstMs of [0, 5, 30]) {
      const w = world();
      // The first GW-1's write is slow, so unless the import orders them the later row (another batch) wins the race.
      let first = true;
      const jitter = randomDelays(slowFirstMs + 1, 2);
      w.putDelay = async (ecuId) => {
        if (ecuId === 'GW-1' && first) {
          first = false;
          await new Promise((resolve) => setTimeout(resolve, slowFirstMs));
        } else await jitter();
      };
      const rows = [row('GW-1'), ...many(130, 'X'), row('GW-1', { vin: VIN2 }), ...many(130, 'Y')];

      const report = await importManifest(
        { source: source(jsonl(rows), 'm.jsonl', 512), concurrency: 25 },
        w.deps,
      );

      expect(report).toMatchObject({ written: 261, refused: 1, refusedByReason: { bound_to_other_vin: 1 } });
      expect(w.rows.get('GW-1')?.vin).toBe(VIN1);
      expect(w.refusedRows.map((r) => r.line)).toEqual([132]);
    }
  });

  it('refusals reach the rejects stream in file order, though the writes finish out of order', async () => {
    const w = world();
    w.putDelay = randomDelays(9, 3);
    const rows = Array.from({ length: 600 }, (_, i) =>
      i % 37 === 5
        ? row(`GW-${i}`, { vin: 'bad' })
        : row(`GW-${i}`, i % 53 === 3 ? { supplier: 'nobody' } : {}),
    );

    const report = await importManifest(
      { source: source(jsonl(rows), 'm.jsonl', 512), concurrency: 30 },
      w.deps,
    );

    const lines = w.refusedRows.map((r) => r.line);
    expect(lines.length).toBe(report.refused);
    expect(lines.length).toBeGreaterThan(20);
    expect(lines).toEqual([...lines].sort((a, b) => a - b));
  });

  it('interrupted with writes in flight, then resumed: the state and report of a clean run, no row written twice', async () => {
    const rows = Array.from({ length: 1200 }, (_, i) => row(`GW-${i}`, i % 97 === 7 ? { vin: 'bad' } : {}));
    const file = source(jsonl(rows), 'big.jsonl', 4096);
    const clean = world();
    const expected = await importManifest({ source: file }, clean.deps);
    for (const failOnPut of [1, 333, 777, 1100]) {
      const w = world();
      w.putDelay = randomDelays(failOnPut, 3);
      w.failOnPut = failOnPut;

      await expect(importManifest({ source: file, concurrency: 25 }, w.deps)).rejects.toThrow('ECONNRESET');
      const resumed = await importManifest({ source: file, concurrency: 25 }, w.deps);

      expect([...w.writesById.values()].every((n) => n === 1)).toBe(true);
      expect(new Map([...w.rows].map(([k, v]) => [k, v.vin]))).toEqual(
        new Map([...clean.rows].map(([k, v]) => [k, v.vin])),
      );
      expect({ ...resumed, resumedAfterLine: undefined, refusedExamples: [] }).toEqual({
        ...expected,
        resumedAfterLine: undefined,
        refusedExamples: [],
      });
      expect(w.refusedRows.map((r) => r.line)).toEqual(clean.refusedRows.map((r) => r.line));
      expect(w.checkpoints.size).toBe(0);
    }
  });

  it.each([0, -3, 201, 2.5, Number.NaN])(
    'refuses a concurrency of %s before reading or writing anything',
    async (concurrency) => {
      const w = world();

      await expect(
        importManifest({ source: source(jsonl(many(3))), concurrency }, w.deps),
      ).rejects.toMatchObject({
        code: 'invalid_input',
      });

      expect(w.calls).toMatchObject({ getMany: 0, put: 0, saves: 0 });
      expect(w.rows.size).toBe(0);
    },
  );
});

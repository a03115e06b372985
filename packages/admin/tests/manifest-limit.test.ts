/** AdaptiveLimit: the import's conditional writes in flight, halved on throttling and grown back (AIMD). */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { AdaptiveLimit } from '../src/manifests/limit.js';

const tick = () => new Promise((resolve) => setTimeout(resolve, 0));

describe('AdaptiveLimit', () => {
  it('never lets more than its maximum run at once, and its limit stays within 1..max, whatever the outcomes', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 30 }),
        fc.array(fc.constantFrom('ok', 'throttled', 'tick'), { minLength: 1, maxLength: 120 }),
        async (max, outcomes) => {
          const limit = new AdaptiveLimit(max);
          let running = 0;
          let violated = false;
          const tasks = outcomes.map(async (outcome, i) => {
            await limit.acquire();
            running += 1;
            if (running > max) violated = true;
            await new Promise((resolve) => setTimeout(resolve, i % 3));
            if (outcome === 'throttled') limit.throttled();
            else if (outcome === 'ok') limit.succeeded();
            running -= 1;
            limit.release();
          });
          await Promise.all(tasks);
          expect(violated).toBe(false);
          expect(limit.limit).toBeGreaterThanOrEqual(1);
          expect(limit.limit).toBeLessThanOrEqual(max);
        },
      ),
      { numRuns: 60 },
    );
  });

  it('halves on each throttle down to 1, then grows back to its maximum by one per window of successes', () => {
    const limit = new AdaptiveLimit(16);

    limit.throttled();
    expect(limit.limit).toBe(8);
    for (let i = 0; i < 10; i++) limit.throttled();
    expect(limit.limit).toBe(1);
    limit.succeeded();
    expect(limit.limit).toBe(2);
    limit.succeeded();
    expect(limit.limit).toBe(2);
    limit.succeeded();
    expect(limit.limit).toBe(3);
    for (let i = 0; i < 1000; i++) limit.succeeded();
    expect(limit.limit).toBe(16);
  });

  it('a throttle lowers the limit for writes not yet started: waiting ones start only as the in-flight ones drain', async () => {
    const limit = new AdaptiveLimit(4);
    for (let i = 0; i < 4; i++) await limit.acquire();
    let started = 0;
    const waiting = Array.from({ length: 4 }, () =>
      limit.acquire().then(() => {
        started += 1;
      }),
    );
    limit.throttled(); // limit 2, 4 in flight

    limit.release();
    limit.release();
    await tick();
    expect(started).toBe(0); // 2 in flight = the limit
    limit.release();
    await tick();
    expect(started).toBe(1);
    limit.release(); // the last of the first four: one new write in flight, one more may start
    await tick();
    expect(started).toBe(2);
    for (let i = 0; i < 4; i++) limit.release();
    await Promise.all(waiting);
    expect(started).toBe(4);
  });

  it.each([0, -1, 1.5, Number.NaN])('refuses a maximum of %s', (max) => {
    expect(() => new AdaptiveLimit(max)).toThrow(RangeError);
  });
});

import { describe, expect, it } from 'vitest';
import { BehaviourTally, flushTally, messageBytes } from '../src/behaviour.js';

const T = Date.UTC(2026, 10, 25, 9, 10);
const HOUR_OF_T = Date.UTC(2026, 10, 25, 9) / 1000;
const stored = (thingName: string) =>
  ({ result: 'stored', thingName, kind: 'telemetry', messageId: 'm' }) as const;

describe('behaviour tally', () => {
  it('one entry per ECU and hour, however many messages; duplicates and nameless drops are not counted', () => {
    const tally = new BehaviourTally();
    tally.observe(stored('A_1'), 100, T);
    tally.observe(stored('A_1'), 900, T + 60_000);
    tally.observe({ result: 'dropped', reason: 'tampered', thingName: 'A_1' } as never, 50, T);
    tally.observe({ ...stored('A_1'), result: 'duplicate' }, 100, T);
    tally.observe({ result: 'dropped', reason: 'malformed' } as never, 10, T);
    tally.observe(stored('A_1'), 10, T + 3_600_000);
    const adds = tally.drain();
    expect(adds).toEqual([
      { thingName: 'A_1', start: HOUR_OF_T, sent: 3, bytes: 1050, maxBytes: 900 },
      { thingName: 'A_1', start: HOUR_OF_T + 3600, sent: 1, bytes: 10, maxBytes: 10 },
    ]);
    expect(tally.size).toBe(0);
  });

  it('a failed counter write is reported and dropped, never thrown into ingestion', async () => {
    const tally = new BehaviourTally();
    tally.observe(stored('A_1'), 100, T);
    const errors: number[] = [];
    await flushTally(tally, { add: async () => Promise.reject(new Error('throttled')) }, (_, n) =>
      errors.push(n),
    );
    expect(errors).toEqual([1]);
    expect(tally.size).toBe(0);
  });

  it('sizes messages as delivered: text by its UTF-8 bytes, objects by their JSON', () => {
    expect(messageBytes('é')).toBe(2);
    expect(messageBytes({ a: 1 })).toBe(7);
    expect(messageBytes(undefined)).toBe(0);
  });
});

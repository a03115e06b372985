/**
 * The load harness's Lambda model: one container per concurrent invocation (its own module
 * state, so its own SDK clients), reused when warm; a function's reserved concurrency holds its
 * asynchronous events in Lambda's queue, in order, none lost; and the steady rate leaves a flow's
 * ramp-up and tail out.
 */
import { LambdaModel } from '@cv/demo/load/lambda';
import { steadyRate } from '@cv/demo/load/metrics';
import { describe, expect, it } from 'vitest';

const noWait = async () => undefined;

/** A handler factory whose containers count their invocations and the calls in flight. */
function probe() {
  const state = { created: 0, inFlight: 0, peak: 0, order: [] as number[], release: [] as (() => void)[] };
  const create = () => {
    const id = ++state.created;
    return async (event: unknown) => {
      state.inFlight += 1;
      state.peak = Math.max(state.peak, state.inFlight);
      state.order.push((event as { n: number }).n);
      await new Promise<void>((r) => state.release.push(r));
      state.inFlight -= 1;
      return id;
    };
  };
  /** Lets every invocation waiting so far finish, then lets the event loop run. */
  const drain = async () => {
    for (let i = 0; i < 50; i++) {
      for (const r of state.release.splice(0)) r();
      await new Promise((r) => setImmediate(r));
    }
  };
  return { state, containers: { create }, drain };
}

describe('LambdaModel', () => {
  it('runs each concurrent invocation in a container of its own and reuses a warm one afterwards', async () => {
    const { state, containers, drain } = probe();
    const lambda = new LambdaModel(noWait, 'eu-west-1', '123456789012', 100);
    const first = Array.from({ length: 5 }, (_, n) => lambda.invoke('fn', containers, { n }));
    await new Promise((r) => setImmediate(r));
    expect(state.created).toBe(5);
    await drain();
    const ids = await Promise.all(first);
    expect(new Set(ids).size).toBe(5);
    // Sequential invocations find a warm container: no cold start.
    for (let n = 5; n < 8; n++) {
      const p = lambda.invoke('fn', containers, { n });
      await drain();
      expect(ids).toContain(await p);
    }
    expect(state.created).toBe(5);
    expect(lambda.coldStarts.get('fn')).toBe(5);
  });

  it('holds a function to its reserved concurrency: its other events wait in order and all run; other functions are not held', async () => {
    const held = probe();
    const free = probe();
    const lambda = new LambdaModel(noWait, 'eu-west-1', '123456789012', 100, { jitr: 2 });
    const jitr = Array.from({ length: 7 }, (_, n) => lambda.invokeAsync('jitr', held.containers, { n }));
    const other = Array.from({ length: 4 }, (_, n) => lambda.invokeAsync('other', free.containers, { n }));
    await new Promise((r) => setImmediate(r));
    expect(held.state.inFlight).toBe(2);
    expect(free.state.inFlight).toBe(4);
    expect(lambda.peakQueued).toBe(5);
    for (let i = 0; i < 60 && held.state.order.length < 7; i++) {
      await held.drain();
      await free.drain();
    }
    await Promise.all([...jitr, ...other]);
    expect(held.state.peak).toBe(2);
    expect(held.state.created).toBe(2);
    expect(held.state.order).toEqual([0, 1, 2, 3, 4, 5, 6]);
    expect(lambda.deadLetters).toEqual([]);
  });

  it('serves a long queue (thousands of events behind one slot) in arrival order', async () => {
    const order: number[] = [];
    const lambda = new LambdaModel(noWait, 'eu-west-1', '123456789012', 100, { jitr: 1 });
    await Promise.all(
      Array.from({ length: 3000 }, (_, n) =>
        lambda.invokeAsync(
          'jitr',
          async () => {
            order.push(n);
            await new Promise((r) => setImmediate(r));
          },
          {},
        ),
      ),
    );
    expect(order).toEqual(Array.from({ length: 3000 }, (_, n) => n));
    expect(lambda.peakQueued).toBe(2999);
  });

  it('gives the reserved slot back while a failed event waits for its retry, and dead-letters it after three attempts', async () => {
    let attempts = 0;
    const served: string[] = [];
    let wakeRetry: (() => void) | undefined;
    const sleep = () => new Promise<void>((r) => (wakeRetry = r));
    const lambda = new LambdaModel(sleep, 'eu-west-1', '123456789012', 100, { jitr: 1 });
    const failing = lambda.invokeAsync(
      'jitr',
      async () => {
        attempts += 1;
        throw new Error('ThrottlingException');
      },
      {},
    );
    await new Promise((r) => setImmediate(r));
    // While the failed event waits for Lambda's retry, the next one runs in the only slot.
    await lambda.invokeAsync('jitr', async () => served.push('next'), {});
    expect(served).toEqual(['next']);
    expect(attempts).toBe(1);
    for (let i = 0; i < 2; i++) {
      wakeRetry?.();
      await new Promise((r) => setTimeout(r, 5));
    }
    await failing;
    expect(attempts).toBe(3);
    expect(lambda.asyncRetries).toBe(2);
    expect(lambda.deadLetters).toEqual([{ fn: 'jitr', error: 'Error' }]);
  });
});

describe('steadyRate', () => {
  it('is the rate between the seconds in which 10 % and 90 % of the events had completed', () => {
    // 100 events: a slow start, 16/s in the middle, a long tail.
    const bySecond = [1, 2, 3, 16, 16, 16, 16, 16, 4, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1];
    expect(bySecond.reduce((a, b) => a + b)).toBe(100);
    // 10 % is reached in second 3 (22 done), 90 % in second 8 (90 done): 68 events in 5 s.
    expect(steadyRate(bySecond)).toBeCloseTo(68 / 5);
    // The whole flow's rate is far lower: the ramp and tail are what the steady rate leaves out.
    expect(100 / bySecond.length).toBeLessThan(6);
  });

  it('is undefined with no events or a middle under 3 seconds, and counts seconds without completions', () => {
    expect(steadyRate([])).toBeUndefined();
    expect(steadyRate([0, 0])).toBeUndefined();
    expect(steadyRate([50, 50])).toBeUndefined();
    const gaps: (number | undefined)[] = [10];
    gaps[4] = 80;
    gaps[8] = 10;
    // 10 % in second 0, 90 % in second 4: 80 events over 4 s.
    expect(steadyRate(gaps)).toBe(20);
  });
});

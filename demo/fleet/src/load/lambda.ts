/**
 * How the harness invokes the real handlers, modelled on Lambda: synchronous invocations (API
 * Gateway) and asynchronous ones (IoT rules) with Lambda's retries of a failed asynchronous
 * event (two more attempts, about one and two minutes later, scaled by the time scale) and then
 * the dead-letter queue. Peak concurrency is compared with the account's Lambda quota.
 */
import { randomUUID } from 'node:crypto';
import { LAMBDA_CONCURRENCY } from '@cv/local-cloud';

export type Handler = (event: unknown, context: unknown) => Promise<unknown>;

/**
 * A function whose execution environments are modelled one by one: each concurrent invocation
 * runs in a container of its own, made by `create` (a cold start: its own configuration, SDK
 * clients and caches) when no idle one is left, and reused afterwards, as Lambda does. Without
 * it, every invocation shares one module instance, and so one SDK client (and one adaptive-retry
 * rate limiter) across the whole simulated fleet.
 */
export interface Containers {
  readonly create: () => Handler;
}

export interface DeadLetter {
  readonly fn: string;
  readonly error: string;
}

export class LambdaModel {
  inFlight = 0;
  peak = 0;
  invocations = 0;
  /** Asynchronous events retried by Lambda after a failed attempt. */
  asyncRetries = 0;
  /** Events that failed every attempt: what the DLQ (on-failure destination) holds. */
  readonly deadLetters: DeadLetter[] = [];
  readonly limit = LAMBDA_CONCURRENCY.limit;
  /** Asynchronous events waiting for a free slot (Lambda's internal queue), at most at once. */
  get peakQueued(): number {
    return Math.max(this.slots.peakQueued, ...[...this.reserved.values()].map((r) => r.peakQueued));
  }
  /** Containers created, by function (cold starts), for functions modelled with {@link Containers}. */
  readonly coldStarts = new Map<string, number>();
  private readonly idle = new Map<string, Handler[]>();
  private readonly slots: Slots;
  private readonly reserved: Map<string, Slots>;

  constructor(
    private readonly sleep: (quotaMs: number) => Promise<void>,
    private readonly region: string,
    private readonly account: string,
    /** Asynchronous invocations run at once: what one process can serve without timing out. */
    asyncSlots = 32,
    /**
     * Reserved concurrency by function (the stack's `reservedConcurrency`): at most that many of its
     * asynchronous invocations run at once; the others wait in Lambda's queue, in order.
     */
    reservedConcurrency: Readonly<Record<string, number>> = {},
  ) {
    this.slots = new Slots(asyncSlots);
    this.reserved = new Map(Object.entries(reservedConcurrency).map(([fn, n]) => [fn, new Slots(n)]));
  }

  private context(fn: string): unknown {
    // Each invocation has its own deadline, as in Lambda (30 s, the API functions' timeout).
    const deadline = Date.now() + 30_000;
    return {
      functionName: fn,
      awsRequestId: randomUUID(),
      invokedFunctionArn: `arn:aws:lambda:${this.region}:${this.account}:function:${fn}`,
      getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    };
  }

  /** A synchronous invocation; its errors go to the caller. */
  async invoke(fn: string, target: Handler | Containers, event: unknown): Promise<unknown> {
    this.inFlight += 1;
    this.invocations += 1;
    if (this.inFlight > this.peak) this.peak = this.inFlight;
    const handler = typeof target === 'function' ? target : this.container(fn, target);
    try {
      return await handler(event, this.context(fn));
    } finally {
      this.inFlight -= 1;
      // A container serves one invocation at a time; afterwards it is warm for the next.
      if (typeof target !== 'function') this.idle.get(fn)?.push(handler);
    }
  }

  private container(fn: string, containers: Containers): Handler {
    const idle = this.idle.get(fn) ?? [];
    this.idle.set(fn, idle);
    const warm = idle.pop();
    if (warm) return warm;
    this.coldStarts.set(fn, (this.coldStarts.get(fn) ?? 0) + 1);
    return containers.create();
  }

  /** An asynchronous invocation: up to three attempts, then the dead-letter queue. Never throws. */
  async invokeAsync(fn: string, handler: Handler | Containers, event: unknown): Promise<unknown> {
    for (let attempt = 0; ; attempt++) {
      const reserved = this.reserved.get(fn);
      await reserved?.acquire();
      await this.slots.acquire();
      let failure: unknown;
      try {
        return await this.invoke(fn, handler, event);
      } catch (error) {
        failure = error;
      } finally {
        this.slots.release();
        reserved?.release();
      }
      if (attempt >= 2) {
        this.deadLetters.push({ fn, error: failure instanceof Error ? failure.name : String(failure) });
        return undefined;
      }
      this.asyncRetries += 1;
      await this.sleep((attempt + 1) * 60_000);
    }
  }
}

/** A counting semaphore whose waiters are served in arrival order (a queue of events). */
class Slots {
  private running = 0;
  // A queue as an array and the index of its head: shift() would copy the whole array each time.
  private waiting: (() => void)[] = [];
  private head = 0;
  /** Waiters at most at once. */
  peakQueued = 0;

  constructor(readonly size: number) {}

  async acquire(): Promise<void> {
    if (this.running < this.size) {
      this.running += 1;
      return;
    }
    // The slot is handed over by release(), so the count never exceeds the size.
    await new Promise<void>((resolve) => {
      this.waiting.push(resolve);
      this.peakQueued = Math.max(this.peakQueued, this.waiting.length - this.head);
    });
  }

  release(): void {
    const next = this.waiting[this.head];
    if (!next) {
      this.running -= 1;
      return;
    }
    this.head += 1;
    if (this.head > 1024 && this.head * 2 > this.waiting.length) {
      this.waiting = this.waiting.slice(this.head);
      this.head = 0;
    }
    next();
  }
}

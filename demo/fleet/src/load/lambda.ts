/**
 * How the harness invokes the real handlers, modelled on Lambda: synchronous invocations (API
 * Gateway) and asynchronous ones (IoT rules) with Lambda's retries of a failed asynchronous
 * event (two more attempts, about one and two minutes later, scaled by the time scale) and then
 * the dead-letter queue. Peak concurrency is compared with the account's Lambda quota.
 */
import { randomUUID } from 'node:crypto';
import { LAMBDA_CONCURRENCY } from '@cv/local-cloud';

export type Handler = (event: unknown, context: unknown) => Promise<unknown>;

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
  peakQueued = 0;
  private running = 0;
  private readonly waiting: (() => void)[] = [];

  constructor(
    private readonly sleep: (quotaMs: number) => Promise<void>,
    private readonly region: string,
    private readonly account: string,
    /** Asynchronous invocations run at once: what one process can serve without timing out. */
    private readonly asyncSlots = 32,
  ) {}

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
  async invoke(fn: string, handler: Handler, event: unknown): Promise<unknown> {
    this.inFlight += 1;
    this.invocations += 1;
    if (this.inFlight > this.peak) this.peak = this.inFlight;
    try {
      return await handler(event, this.context(fn));
    } finally {
      this.inFlight -= 1;
    }
  }

  /** An asynchronous invocation: up to three attempts, then the dead-letter queue. Never throws. */
  async invokeAsync(fn: string, handler: Handler, event: unknown): Promise<unknown> {
    for (let attempt = 0; ; attempt++) {
      await this.acquire();
      let failure: unknown;
      try {
        return await this.invoke(fn, handler, event);
      } catch (error) {
        failure = error;
      } finally {
        this.release();
      }
      if (attempt >= 2) {
        this.deadLetters.push({ fn, error: failure instanceof Error ? failure.name : String(failure) });
        return undefined;
      }
      this.asyncRetries += 1;
      await this.sleep((attempt + 1) * 60_000);
    }
  }

  private async acquire(): Promise<void> {
    if (this.running < this.asyncSlots) {
      this.running += 1;
      return;
    }
    // The slot is handed over by release(), so the count never exceeds the slots.
    await new Promise<void>((resolve) => {
      this.waiting.push(resolve);
      this.peakQueued = Math.max(this.peakQueued, this.waiting.length);
    });
  }

  private release(): void {
    const next = this.waiting.shift();
    if (next) next();
    else this.running -= 1;
  }
}

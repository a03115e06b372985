/**
 * The number of conditional writes the import keeps in flight: at most `max`, halved when the service throttles
 * (multiplicative decrease, never below 1) and grown back by one per `limit` successful writes (additive increase),
 * the AIMD rule TCP uses for its congestion window.
 *
 * @example const limit = new AdaptiveLimit(25); await limit.acquire(); try { ... } finally { limit.release(); }
 */
export class AdaptiveLimit {
  private current: number;
  private inFlight = 0;
  private readonly waiting: (() => void)[] = [];

  constructor(readonly max: number) {
    if (!Number.isSafeInteger(max) || max < 1) throw new RangeError('the limit is a positive integer');
    this.current = max;
  }

  /** The current limit (a whole number of writes). */
  get limit(): number {
    return Math.floor(this.current);
  }

  /** Resolves when a write may start (fewer than {@link limit} in flight). */
  async acquire(): Promise<void> {
    if (this.inFlight < this.limit) {
      this.inFlight += 1;
      return;
    }
    await new Promise<void>((resolve) => this.waiting.push(resolve));
  }

  /** A write finished (whatever its outcome): lets a waiting one start if the limit allows. */
  release(): void {
    this.inFlight -= 1;
    this.wake();
  }

  /** A write succeeded: the limit grows by 1/limit (one whole write per `limit` successes), up to `max`. */
  succeeded(): void {
    if (this.current < this.max) {
      this.current = Math.min(this.max, this.current + 1 / this.limit);
      this.wake();
    }
  }

  /** A write was throttled: the limit halves (not below 1). */
  throttled(): void {
    this.current = Math.max(1, Math.floor(this.current / 2));
  }

  private wake(): void {
    while (this.inFlight < this.limit && this.waiting.length > 0) {
      this.inFlight += 1;
      this.waiting.shift()?.();
    }
  }
}

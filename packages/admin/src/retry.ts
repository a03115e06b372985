import { RetriesExhaustedError } from './errors.js';

/** Exponential backoff with full jitter (AWS Architecture Blog, "Exponential Backoff And Jitter"). */
export interface Backoff {
  /** First delay ceiling in ms (default 50). */
  readonly baseMs?: number;
  /** Largest delay ceiling in ms (default 5000). */
  readonly capMs?: number;
  /** Attempts before giving up (default 10). */
  readonly attempts?: number;
  /** Random source in [0, 1) (tests pass their own). */
  readonly random?: () => number;
  readonly sleep?: (ms: number) => Promise<void>;
}

const sleepMs = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** The delay before retry `attempt` (0-based): uniform in [0, min(cap, base * 2^attempt)). */
export function jitteredDelay(attempt: number, backoff: Backoff = {}): number {
  const ceiling = Math.min(backoff.capMs ?? 5000, (backoff.baseMs ?? 50) * 2 ** attempt);
  return Math.floor((backoff.random ?? Math.random)() * ceiling);
}

/**
 * Runs `step` on `pending` until nothing is left over: `step` returns what it could not process (DynamoDB's
 * UnprocessedItems/UnprocessedKeys, throttled requests), which is retried after a jittered exponential delay.
 * Throws {@link RetriesExhaustedError} with what is still pending after `attempts` tries.
 *
 * @example await retryUnprocessed(keys, async (left) => (await batchGet(left)).unprocessed);
 */
export async function retryUnprocessed<T>(
  pending: readonly T[],
  step: (pending: readonly T[]) => Promise<readonly T[]>,
  backoff: Backoff = {},
): Promise<void> {
  let left = pending;
  const attempts = backoff.attempts ?? 10;
  for (let attempt = 0; left.length > 0; attempt++) {
    if (attempt >= attempts) throw new RetriesExhaustedError(left.length);
    if (attempt > 0) await (backoff.sleep ?? sleepMs)(jitteredDelay(attempt - 1, backoff));
    left = await step(left);
  }
}

/** Retry policies of the ECU: backoff with full jitter, and the broker's Retry-After. */

/** How an ECU waits and retries (backoff with full jitter; `sleep` lets a harness scale time). */
export interface RetryPolicy {
  /** Attempts including the first. */
  readonly attempts: number;
  /** Backoff base and cap in milliseconds: attempt n waits uniform [0, min(cap, base * 2^n)). */
  readonly baseDelayMs: number;
  readonly maxDelayMs: number;
  readonly sleep?: (ms: number) => Promise<void>;
  readonly random?: () => number;
  /** Called before each wait with the reason (`throttled`, `unavailable`, `in-progress`, `refused`, `publish`). */
  readonly onRetry?: (reason: string, waitMs: number) => void;
}

export const DEFAULT_CONNECT_RETRY: RetryPolicy = { attempts: 20, baseDelayMs: 25, maxDelayMs: 2_000 };
export const DEFAULT_ENROL_RETRY: RetryPolicy = { attempts: 8, baseDelayMs: 500, maxDelayMs: 30_000 };

export const realSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * Statuses after which the ECU comes back later: the broker's 429 and 503 with Retry-After and 409 (SPEC 4), and API
 * Gateway's 502/504 when the function failed or timed out (backoff).
 */
export const RETRY_LATER: Readonly<Record<number, string>> = {
  409: 'in-progress',
  429: 'throttled',
  502: 'gateway',
  503: 'unavailable',
  504: 'gateway',
};

/** Seconds of a `Retry-After` header (delta-seconds form), if present and sane. */
export function retryAfterSeconds(headers: Readonly<Record<string, string>> | undefined): number | undefined {
  if (!headers) return undefined;
  const entry = Object.entries(headers).find(([k]) => k.toLowerCase() === 'retry-after');
  const raw = entry?.[1].trim() ?? '';
  const n = /^\d{1,4}$/.test(raw) ? Number(raw) : Number.NaN;
  return n <= 3600 ? n : undefined;
}

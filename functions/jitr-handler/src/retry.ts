/** Names of AWS errors worth retrying after a pause. */
const RETRYABLE = new Set([
  'ThrottlingException',
  'Throttling',
  'TooManyRequestsException',
  'LimitExceededException',
  'RequestLimitExceeded',
  'ServiceUnavailableException',
  'ServiceUnavailable',
  'InternalFailureException',
  'InternalFailure',
  'InternalException',
  'ProvisionedThroughputExceededException',
]);

/** True for AWS throttling and transient server errors (SDK errors carry their modelled `name`). */
export function isRetryableAwsError(error: unknown): boolean {
  if (typeof error !== 'object' || error === null) return false;
  const e = error as { name?: unknown; $retryable?: unknown; $metadata?: { httpStatusCode?: unknown } };
  if (typeof e.name === 'string' && RETRYABLE.has(e.name)) return true;
  if (e.$retryable !== undefined && e.$retryable !== null) return true;
  const status = e.$metadata?.httpStatusCode;
  return typeof status === 'number' && (status === 429 || status >= 500);
}

export interface RetryOptions {
  /** Attempts including the first. */
  readonly attempts: number;
  readonly baseDelayMs: number;
  readonly maxDelayMs: number;
  readonly sleep?: (ms: number) => Promise<void>;
  readonly random?: () => number;
  readonly onRetry?: (error: unknown, attempt: number) => void;
}

const defaultSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * Runs `fn`, retrying throttling and transient AWS errors with capped exponential backoff and
 * full jitter, on top of the SDK's own adaptive retries. Other errors propagate at once.
 *
 * @example
 * await withRetry(() => iot.send(cmd), { attempts: 4, baseDelayMs: 200, maxDelayMs: 2000 });
 */
export async function withRetry<T>(fn: () => Promise<T>, options: RetryOptions): Promise<T> {
  const sleep = options.sleep ?? defaultSleep;
  const random = options.random ?? Math.random;
  for (let attempt = 1; ; attempt += 1) {
    try {
      return await fn();
    } catch (error) {
      if (attempt >= options.attempts || !isRetryableAwsError(error)) throw error;
      options.onRetry?.(error, attempt);
      const cap = Math.min(options.maxDelayMs, options.baseDelayMs * 2 ** (attempt - 1));
      await sleep(Math.floor(random() * cap));
    }
  }
}

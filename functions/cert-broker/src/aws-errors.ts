import { isThrottlingError, isTransientError } from '@smithy/core/retry';

/** What the SDK's classifiers take (any error object; they read name, code, cause, $metadata, $retryable). */
type SdkError = Parameters<typeof isTransientError>[0];

/** Names of AWS errors that mean "slow down and retry later". */
const THROTTLING = new Set([
  'ThrottlingException',
  'Throttling',
  'ThrottledException',
  'TooManyRequestsException',
  'RequestLimitExceeded',
  'LimitExceededException',
  'ProvisionedThroughputExceededException',
  'RequestThrottled',
  'RequestThrottledException',
  'SlowDown',
]);
const TRANSIENT = new Set([
  'ServiceUnavailable',
  'ServiceUnavailableException',
  'InternalFailure',
  'InternalServerError',
]);

function errorName(error: unknown): string | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  const name = (error as { name?: unknown }).name;
  return typeof name === 'string' ? name : undefined;
}

/**
 * True when an AWS SDK error is a throttling error: matched by its modelled name, or as the SDK's own retry
 * strategy classifies it (HTTP 429, `$retryable.throttling`).
 */
export function isThrottling(error: unknown): boolean {
  const name = errorName(error);
  if (name !== undefined && THROTTLING.has(name)) return true;
  return typeof error === 'object' && error !== null && isThrottlingError(error as SdkError);
}

/**
 * True when an AWS SDK error is transient: a server-side failure (5xx, or a modelled name), or what the SDK's
 * own retry strategy retries once its attempts are spent: a request timeout (`TimeoutError`, `RequestTimeout`),
 * a connection reset, refused or broken (`ECONNRESET`, `ECONNREFUSED`, `EPIPE`, `ETIMEDOUT`), a network or
 * DNS failure, `$retryable`, also as the `cause` of a wrapper. The caller answers these "retry later", never as
 * an internal error: after an issuance, the ECU's retry completes it with the same certificate.
 */
export function isTransient(error: unknown): boolean {
  const name = errorName(error);
  if (name !== undefined && TRANSIENT.has(name)) return true;
  if (typeof error === 'object' && error !== null && isTransientError(error as SdkError)) return true;
  const status = (error as { $metadata?: { httpStatusCode?: number } } | undefined)?.$metadata
    ?.httpStatusCode;
  return typeof status === 'number' && status >= 500;
}

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

/** True when an AWS SDK error is a throttling error (SDK errors are matched by their modelled name). */
export function isThrottling(error: unknown): boolean {
  const name = errorName(error);
  return name !== undefined && THROTTLING.has(name);
}

/** True when an AWS SDK error is a server-side transient failure. */
export function isTransient(error: unknown): boolean {
  const name = errorName(error);
  if (name !== undefined && TRANSIENT.has(name)) return true;
  const status = (error as { $metadata?: { httpStatusCode?: number } } | undefined)?.$metadata
    ?.httpStatusCode;
  return typeof status === 'number' && status >= 500;
}

import { isThrottling, isTransient } from '../aws-errors.js';
import { UpstreamUnavailableError } from '../errors.js';

/**
 * Runs one DynamoDB call of the broker's tables: a throttling or transient failure becomes an
 * UpstreamUnavailableError (429/503 with Retry-After); anything else is rethrown unchanged.
 *
 * @example
 * const out = await callDynamoDb(() => doc.send(new GetCommand(input)), 2);
 */
export async function callDynamoDb<T>(fn: () => Promise<T>, retryAfterSeconds: number): Promise<T> {
  try {
    return await fn();
  } catch (error) {
    if (isThrottling(error) || isTransient(error)) {
      throw new UpstreamUnavailableError('dynamodb', {
        retryAfterSeconds,
        throttled: isThrottling(error),
        cause: error,
      });
    }
    throw error;
  }
}

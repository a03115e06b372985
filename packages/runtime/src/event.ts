import type { Context } from 'aws-lambda';
import {
  type LambdaHandler,
  logError,
  type Observability,
  safeCorrelationId,
  withObservability,
} from './middleware.js';

/**
 * Wraps a handler for a non-HTTP event source (IoT rule, EventBridge, SQS, Kinesis, Step
 * Functions task): structured logs with Lambda context, cold start and a correlation id
 * (the event's `id` when it has one, e.g. EventBridge, else the Lambda request id), EMF
 * metrics. Errors are logged (redacted) and rethrown so Lambda / the caller retries.
 *
 * @example
 * export const handler = eventHandler<JitrEvent, void>(async (event) => {
 *   await registerCertificate(JitrEventSchema.parse(event), deps);
 * }, { logger, metrics });
 */
export function eventHandler<E, R>(
  fn: (event: E, context: Context) => Promise<R>,
  opts: Observability,
): LambdaHandler<E, R> {
  const { logger } = opts;
  const inner: LambdaHandler<E, R> = async (event, context) => {
    const id = typeof event === 'object' && event !== null ? (event as { id?: unknown }).id : undefined;
    logger.appendKeys({ correlation_id: safeCorrelationId(id) ?? context.awsRequestId });
    try {
      return await fn(event, context);
    } catch (error) {
      logError(logger, 'invocation failed', error);
      throw error;
    }
  };
  return withObservability(inner, opts);
}

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
 * `expected` names the errors that are a designed answer, not a failure (an authorizer's
 * `Unauthorized`, which API Gateway turns into a 401): rethrown the same, without the ERROR
 * line (the handler logs why).
 *
 * @example
 * export const handler = eventHandler<JitrEvent, void>(async (event) => {
 *   await registerCertificate(JitrEventSchema.parse(event), deps);
 * }, { logger, metrics });
 */
export function eventHandler<E, R>(
  fn: (event: E, context: Context) => Promise<R>,
  opts: Observability & { readonly expected?: (error: unknown) => boolean },
): LambdaHandler<E, R> {
  const { logger } = opts;
  const inner: LambdaHandler<E, R> = async (event, context) => {
    const id = typeof event === 'object' && event !== null ? (event as { id?: unknown }).id : undefined;
    logger.appendKeys({ correlation_id: safeCorrelationId(id) ?? context.awsRequestId });
    try {
      return await fn(event, context);
    } catch (error) {
      if (opts.expected?.(error) !== true) logError(logger, 'invocation failed', error);
      throw error;
    }
  };
  return withObservability(inner, opts);
}

import type { Logger } from '@aws-lambda-powertools/logger';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import type { Metrics } from '@aws-lambda-powertools/metrics';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import middy from '@middy/core';
import type { Context } from 'aws-lambda';

/** Collaborators every wrapper needs. */
export interface Observability {
  logger: Logger;
  metrics: Metrics;
}

/** A Lambda handler as the runtime calls it. */
export type LambdaHandler<E, R> = (event: E, context: Context) => Promise<R>;

/**
 * Wraps `inner` with the Powertools middlewares: Lambda context and `cold_start` on every
 * log line, temporary keys (correlation id) reset after each invocation, metrics flushed
 * after each invocation with a `ColdStart` metric.
 */
export function withObservability<E, R>(inner: LambdaHandler<E, R>, obs: Observability): LambdaHandler<E, R> {
  const wrapped = middy<E, R>()
    .use(injectLambdaContext(obs.logger, { resetKeys: true }))
    .use(logMetrics(obs.metrics, { captureColdStartMetric: true }))
    .handler((event, context) => inner(event, context));
  return (event, context) => wrapped(event, context);
}

const SAFE_ID = /^[A-Za-z0-9._:=+/-]{1,128}$/;

/** A correlation id only if it is short and made of safe characters (it is client-controlled when it comes from a header). */
export function safeCorrelationId(value: unknown): string | undefined {
  return typeof value === 'string' && SAFE_ID.test(value) ? value : undefined;
}

/** Logs an error at ERROR level whatever was thrown (the logger redacts it). */
export function logError(logger: Logger, message: string, error: unknown): void {
  if (error instanceof Error) logger.error(message, error);
  else logger.error(message, { error });
}

import type { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { createLogger } from './logger.js';

export type { Metrics } from '@aws-lambda-powertools/metrics';
export { MetricUnit } from '@aws-lambda-powertools/metrics';

export interface MetricsOptions {
  /** CloudWatch namespace; defaults to `cv-security`. */
  namespace?: string;
  /** Service name, added as the `service` dimension. */
  serviceName: string;
  /** Dimensions added to every metric, e.g. `{ stage: 'dev' }`. */
  defaultDimensions?: Record<string, string>;
  /**
   * Where Powertools Metrics writes its own warnings, so they are structured JSON too;
   * defaults to a new redacting logger for `serviceName`.
   */
  logger?: Logger;
}

/** Routine "no metrics this invocation" notices go to DEBUG instead of a WARN line per invocation. */
function metricsDiagnostics(logger: Logger) {
  return {
    trace: (...args: unknown[]) => logger.debug(String(args[0])),
    debug: (...args: unknown[]) => logger.debug(String(args[0])),
    info: (...args: unknown[]) => logger.info(String(args[0])),
    warn: (...args: unknown[]) => {
      const message = String(args[0]);
      if (message.startsWith('No application metrics to publish')) logger.debug(message);
      else logger.warn(message);
    },
    error: (...args: unknown[]) => logger.error(String(args[0])),
  };
}

/**
 * A Powertools Metrics instance that writes CloudWatch Embedded Metric Format to stdout.
 * The middy wrappers flush it after each invocation and record a `ColdStart` metric.
 *
 * @example
 * const metrics = createMetrics({ serviceName: 'telemetry-ingest', logger });
 * metrics.addMetric('MessagesDropped', MetricUnit.Count, 1);
 */
export function createMetrics(opts: MetricsOptions): Metrics {
  const logger = opts.logger ?? createLogger({ serviceName: opts.serviceName });
  return new Metrics({
    namespace: opts.namespace ?? 'cv-security',
    serviceName: opts.serviceName,
    logger: metricsDiagnostics(logger),
    ...(opts.defaultDimensions ? { defaultDimensions: opts.defaultDimensions } : {}),
  });
}

import { Metrics } from '@aws-lambda-powertools/metrics';

export type { Metrics } from '@aws-lambda-powertools/metrics';
export { MetricUnit } from '@aws-lambda-powertools/metrics';

export interface MetricsOptions {
  /** CloudWatch namespace; defaults to `cv-security`. */
  namespace?: string;
  /** Service name, added as the `service` dimension. */
  serviceName: string;
  /** Dimensions added to every metric, e.g. `{ stage: 'dev' }`. */
  defaultDimensions?: Record<string, string>;
}

/**
 * A Powertools Metrics instance that writes CloudWatch Embedded Metric Format to stdout.
 * The middy wrappers flush it after each invocation and record a `ColdStart` metric.
 *
 * @example
 * const metrics = createMetrics({ serviceName: 'telemetry-ingest' });
 * metrics.addMetric('MessagesDropped', MetricUnit.Count, 1);
 */
export function createMetrics(opts: MetricsOptions): Metrics {
  return new Metrics({
    namespace: opts.namespace ?? 'cv-security',
    serviceName: opts.serviceName,
    ...(opts.defaultDimensions ? { defaultDimensions: opts.defaultDimensions } : {}),
  });
}

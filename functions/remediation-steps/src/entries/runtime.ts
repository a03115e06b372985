/**
 * What every remediation step's entry shares: logging, metrics, the step's configuration (validated once per
 * container, on its first invocation) and the account id from the invoked function's ARN. No AWS client here: each
 * entry (one per Step Functions task, docs/architecture.md §8) imports and constructs only the client(s) its own step calls,
 * so each step's bundle carries only those (docs/performance.md).
 */
import {
  awsClientConfig,
  createLogger,
  createMetrics,
  type Env,
  eventHandler,
  MetricUnit,
} from '@cv/runtime';
import { accountIdOf, loadConfig, type StepName } from '../config.js';
import type { StepResult } from '../plan.js';

export const env: Env = process.env;
export const logger = createLogger({ serviceName: 'remediation-steps', logLevel: env.LOG_LEVEL });
export const metrics = createMetrics({ serviceName: 'remediation-steps', logger });

export const clientConfig = awsClientConfig({ region: env.AWS_REGION });
export const clock = { now: () => new Date() };

/** A module-scope singleton built on first call (then reused for the container's lifetime). */
export function once<T>(make: () => T): () => T {
  let value: T | undefined;
  return () => {
    value ??= make();
    return value;
  };
}

const configs = new Map<StepName, ReturnType<typeof loadConfig>>();
let invokedArn: string | undefined;
/** The step's configuration, validated once per container (throws ConfigError naming the variable). */
export function config(step: StepName) {
  let c = configs.get(step);
  if (c === undefined) {
    c = loadConfig(step, env, accountIdOf(invokedArn, env));
    configs.set(step, c);
  }
  return c;
}

/** Every handler records the function ARN first: the account id comes from it. */
export function on<E, R>(fn: (event: E) => Promise<R>) {
  return eventHandler<E, R>(
    async (event, context) => {
      invokedArn = context.invokedFunctionArn;
      return fn(event);
    },
    { logger, metrics },
  );
}

export function record(result: StepResult): StepResult {
  logger.info('remediation step done', {
    action: result.action,
    outcome: result.outcome,
    detail: result.detail,
  });
  metrics.addMetric(`Step_${result.action}_${result.outcome}`, MetricUnit.Count, 1);
  return result;
}

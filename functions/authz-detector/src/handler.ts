/**
 * Composition root of authz-detector: invoked by a CloudWatch Logs subscription filter on the AWS IoT log group
 * (`AWSIotLogsV2`) with the authorization failures; imports a Security Hub finding per certificate over the
 * threshold, which the remediation state machine then handles like a Device Defender Detect violation.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SecurityHubClient } from '@aws-sdk/client-securityhub';
import { awsClientConfig, createLogger, createMetrics, eventHandler, MetricUnit } from '@cv/runtime';
import type { Context } from 'aws-lambda';
import { dynamoFailureCounter } from './adapters/behaviour-counters.js';
import { SecurityHubImporter } from './adapters/findings.js';
import { DynamoFailureLedger } from './adapters/ledger.js';
import { DynamoProvenanceWriter } from './adapters/provenance.js';
import { failureCounts } from './behaviour.js';
import { accountIdOf, loadConfig } from './config.js';
import { type DetectDeps, detectAuthorizationFailures } from './detect.js';
import { MalformedLogsError } from './errors.js';
import { authorizationFailures, decodeSubscriptionEvent } from './logs.js';

const config = loadConfig(process.env);
const logger = createLogger({ serviceName: 'authz-detector', logLevel: process.env.LOG_LEVEL });
const metrics = createMetrics({ serviceName: 'authz-detector', logger });
const clientConfig = awsClientConfig({ region: config.region });
const dynamo = new DynamoDBClient(clientConfig);
const ledger = new DynamoFailureLedger(dynamo, config.table);
const provenance = new DynamoProvenanceWriter(dynamo, config.provenanceTable);
const findings = new SecurityHubImporter(new SecurityHubClient(clientConfig));
const clock = { now: () => new Date() };
const countFailures =
  config.behaviourTable === undefined
    ? undefined
    : dynamoFailureCounter(dynamo, config.behaviourTable, (error) => {
        metrics.addMetric('BehaviourCountsDropped', MetricUnit.Count, 1);
        logger.error('behaviour counter not written', { error });
      });
let deps: DetectDeps | undefined;

/** The use case's collaborators; the account (for the product ARN) is the invoked function's. */
function depsFor(context: Context): DetectDeps {
  deps ??= {
    ledger,
    provenance,
    findings,
    clock,
    config: {
      region: config.region,
      partition: config.partition,
      threshold: config.threshold,
      windowSeconds: config.windowSeconds,
      accountId: accountIdOf(context.invokedFunctionArn, process.env),
    },
  };
  return deps;
}

export const handler = eventHandler<unknown, void>(
  async (event, context) => {
    let data: ReturnType<typeof decodeSubscriptionEvent>;
    try {
      data = decodeSubscriptionEvent(event);
    } catch (error) {
      // Retrying cannot fix a malformed payload: drop it, loudly.
      if (!(error instanceof MalformedLogsError)) throw error;
      logger.error('dropped malformed log payload', { reason: error.reason });
      metrics.addMetric('MalformedPayloads', MetricUnit.Count, 1);
      return;
    }
    const { failures, skipped } = authorizationFailures(data);
    metrics.addMetric('AuthorizationFailures', MetricUnit.Count, failures.length);
    metrics.addMetric('SkippedLogLines', MetricUnit.Count, skipped);
    if (failures.length === 0) return;
    await countFailures?.(failureCounts(failures));
    const detection = await detectAuthorizationFailures(failures, depsFor(context));
    if (detection.raised.length > 0) {
      metrics.addMetric('FindingsRaised', MetricUnit.Count, detection.raised.length);
      logger.warn('authorization failure threshold reached', { findings: detection.raised });
    }
  },
  { logger, metrics },
);

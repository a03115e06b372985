/**
 * Composition root of behaviour-detector. Two entry points over one set of ports:
 * - `presence`: the IoT rule on `$aws/events/presence/+/+` (AWS IoT lifecycle events): counters of connects,
 *   disconnects and source addresses, and the real-time rules (cloned identity, reconnect loop).
 * - `counters`: the behaviour table's stream (counter items only, by the event source filter): each ECU's bucket
 *   judged against its baselines, baselines learned when a bucket closes.
 * Findings go to the account's own Security Hub product, each after its provenance record.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SecurityHubClient } from '@aws-sdk/client-securityhub';
import { awsClientConfig, createLogger, createMetrics, eventHandler, MetricUnit } from '@cv/runtime';
import type { Context } from 'aws-lambda';
import { DynamoCounterStore } from './adapters/counter-store.js';
import { SecurityHubImporter } from './adapters/findings.js';
import { DynamoFindingLedger } from './adapters/ledger.js';
import { DynamoProvenanceWriter } from './adapters/provenance.js';
import { RegistryRoles } from './adapters/registry.js';
import { DynamoStateStore } from './adapters/state.js';
import { accountIdOf, loadConfig } from './config.js';
import { onCounters } from './counters.js';
import type { DetectDeps } from './detect.js';
import { MalformedEventError } from './errors.js';
import { parseCounterStream, parsePresence } from './events.js';
import { onPresence } from './presence.js';

const config = loadConfig(process.env);
const logger = createLogger({ serviceName: 'behaviour-detector', logLevel: process.env.LOG_LEVEL });
const metrics = createMetrics({ serviceName: 'behaviour-detector', logger });
const clientConfig = awsClientConfig({ region: config.region });
const dynamo = new DynamoDBClient(clientConfig);
const ports = {
  counters: new DynamoCounterStore(dynamo, config.table),
  state: new DynamoStateStore(dynamo, config.table),
  ledger: new DynamoFindingLedger(dynamo, config.table),
  roles: new RegistryRoles(dynamo, config.registryTable),
  provenance: new DynamoProvenanceWriter(dynamo, config.provenanceTable),
  findings: new SecurityHubImporter(new SecurityHubClient(clientConfig)),
  clock: { now: () => new Date() },
};
let deps: DetectDeps | undefined;

function depsFor(context: Context): DetectDeps {
  deps ??= {
    ...ports,
    config: {
      region: config.region,
      partition: config.partition,
      accountId: accountIdOf(context.invokedFunctionArn, process.env),
      roleSampleModulo: config.roleSampleModulo,
    },
  };
  return deps;
}

function report(raised: string[]): void {
  if (raised.length === 0) return;
  metrics.addMetric('FindingsRaised', MetricUnit.Count, raised.length);
  logger.warn('behaviour anomaly', { findings: raised });
}

/** IoT rule action: one lifecycle event per invocation (or an array of them). */
export const presence = eventHandler<unknown, void>(
  async (event, context) => {
    let events: ReturnType<typeof parsePresence>;
    try {
      events = parsePresence(event);
    } catch (error) {
      // Retrying cannot fix a malformed event: drop it, loudly (nothing counted, nothing raised).
      if (!(error instanceof MalformedEventError)) throw error;
      logger.error('dropped malformed lifecycle event', { reason: error.reason });
      metrics.addMetric('MalformedEvents', MetricUnit.Count, 1);
      return;
    }
    metrics.addMetric('LifecycleEvents', MetricUnit.Count, events.length);
    report(await onPresence(events, depsFor(context)));
  },
  { logger, metrics },
);

/**
 * DynamoDB stream of the behaviour table (counter items). Records are judged in order; on a failure the batch
 * reports the first failed record, so it and the ones after it are retried (judging and learning are idempotent).
 */
export const counters = eventHandler<unknown, { batchItemFailures: Array<{ itemIdentifier: string }> }>(
  async (event, context) => {
    let updates: ReturnType<typeof parseCounterStream>;
    try {
      updates = parseCounterStream(event);
    } catch (error) {
      if (!(error instanceof MalformedEventError)) throw error;
      logger.error('dropped malformed stream batch', { reason: error.reason });
      metrics.addMetric('MalformedEvents', MetricUnit.Count, 1);
      return { batchItemFailures: [] };
    }
    for (const update of updates) {
      try {
        report(await onCounters([update], depsFor(context)));
      } catch (error) {
        logger.error('counter update failed, reported for retry', { recordId: update.recordId, error });
        return { batchItemFailures: [{ itemIdentifier: update.recordId }] };
      }
    }
    return { batchItemFailures: [] };
  },
  { logger, metrics },
);

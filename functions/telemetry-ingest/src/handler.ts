import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { KMS } from '@aws-sdk/client-kms';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { createTelemetryDecryptor, telemetryKmsKeyring } from '@cv/crypto/telemetry/decrypt';
import { awsClientConfig, createLogger, createMetrics, eventHandler, MetricUnit } from '@cv/runtime';
import type {
  KinesisStreamEvent,
  KinesisStreamRecord,
  SQSBatchResponse,
  SQSEvent,
  SQSRecord,
} from 'aws-lambda';
import { DynamoCounterSink } from './adapters/behaviour-counters.js';
import { DynamoDbCommandResultStore, DynamoDbTelemetryStore } from './adapters/dynamodb.js';
import { BehaviourTally, flushTally, messageBytes } from './behaviour.js';
import { loadConfig } from './config.js';
import { type IngestDeps, type IngestOutcome, ingestMessage } from './ingest.js';

const config = loadConfig(process.env);
const logger = createLogger({ serviceName: 'telemetry-ingest', logLevel: config.logLevel });
const metrics = createMetrics({ serviceName: 'telemetry-ingest' });

const kms = new KMS(awsClientConfig());
const dynamo = new DynamoDBClient(awsClientConfig());
const ddb = DynamoDBDocumentClient.from(dynamo, {
  marshallOptions: { removeUndefinedValues: true },
});
const counterSink =
  config.behaviourTable === undefined ? undefined : new DynamoCounterSink(dynamo, config.behaviourTable);
const tally = new BehaviourTally();

// Module scope: one data-key cache per container, so KMS is called once per data key, not once per message.
const decryptor = createTelemetryDecryptor({
  keyring: telemetryKmsKeyring({ keyId: config.telemetryKeyId, client: kms }),
  cache: {
    capacity: config.dataKeyCacheCapacity,
    maxAgeMs: config.dataKeyCacheMaxAgeSeconds * 1000,
  },
  maxBodyBytes: config.maxPayloadBytes,
});

const deps: IngestDeps = {
  decryptor,
  telemetry: new DynamoDbTelemetryStore(ddb, config.telemetryTable),
  commands: new DynamoDbCommandResultStore(ddb, config.commandsTable),
  now: () => new Date(),
  ttlDays: config.ttlDays,
  maxPayloadBytes: config.maxPayloadBytes,
};

/** Logs and counts one outcome: ids and reasons only, never the body. */
function record(outcome: IngestOutcome): void {
  if (outcome.result === 'dropped') {
    metrics.addMetric('MessagesDropped', MetricUnit.Count, 1);
    const byReason = metrics.singleMetric();
    byReason.addDimension('reason', outcome.reason);
    byReason.addMetric('MessagesDroppedByReason', MetricUnit.Count, 1);
    logger.warn('message dropped', {
      reason: outcome.reason,
      thingName: outcome.thingName,
      kind: outcome.kind,
      messageId: outcome.messageId,
    });
    return;
  }
  metrics.addMetric(
    outcome.result === 'stored' ? 'MessagesStored' : 'MessagesDuplicate',
    MetricUnit.Count,
    1,
  );
  if (outcome.commandUpdate === 'applied') metrics.addMetric('CommandResultsApplied', MetricUnit.Count, 1);
  // A redelivery of the message that applied the result: nothing written again.
  if (outcome.commandUpdate === 'already-applied')
    metrics.addMetric('CommandResultsAlreadyApplied', MetricUnit.Count, 1);
  if (outcome.commandUpdate === 'not-applicable') {
    metrics.addMetric('CommandResultsIgnored', MetricUnit.Count, 1);
    logger.warn('command result not applied (not this thing, unknown, or not PENDING)', {
      thingName: outcome.thingName,
      commandId: outcome.commandId,
      messageId: outcome.messageId,
    });
  }
  logger.debug('message ingested', {
    result: outcome.result,
    thingName: outcome.thingName,
    kind: outcome.kind,
  });
}

async function ingest(message: unknown): Promise<void> {
  const outcome = await ingestMessage(message, deps);
  record(outcome);
  tally.observe(outcome, messageBytes(message), deps.now().getTime());
}

/** After each invocation: the behaviour counts it gathered, one write per ECU and hour. */
async function flushCounters(): Promise<void> {
  await flushTally(tally, counterSink, (error, dropped) => {
    metrics.addMetric('BehaviourCountsDropped', MetricUnit.Count, dropped);
    logger.error('behaviour counters not written', { error, dropped });
  });
}

async function counted<T>(run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } finally {
    await flushCounters();
  }
}

/** One batch record: a thrown (transient) error is logged with the record id and rethrown, so it is reported. */
async function ingestRecord(recordId: string, message: string): Promise<void> {
  try {
    await ingest(message);
  } catch (error) {
    metrics.addMetric('MessagesRetried', MetricUnit.Count, 1);
    logger.error('record failed, reported for retry', { recordId, error });
    throw error;
  }
}

/** IoT rule action: `SELECT *, topic(2) AS thingName, topic(3) AS topicKind FROM 'ecus/+/telemetry'` (and command-results). */
export const handler = eventHandler<unknown, void>(async (event) => counted(() => ingest(event)), {
  logger,
  metrics,
});

const sqsProcessor = new BatchProcessor(EventType.SQS);
/** SQS batch (the same rule output as message body); permanent rejections succeed, transient ones are reported. */
export const batchHandler = eventHandler<SQSEvent, SQSBatchResponse>(
  async (event, context) =>
    counted(() =>
      processPartialResponse(event, (r: SQSRecord) => ingestRecord(r.messageId, r.body), sqsProcessor, {
        context,
      }),
    ),
  { logger, metrics },
);

const kinesisProcessor = new BatchProcessor(EventType.KinesisDataStreams);
/** Kinesis batch (the rule output as record data). */
export const kinesisHandler = eventHandler<KinesisStreamEvent, SQSBatchResponse>(
  async (event, context) =>
    counted(() =>
      processPartialResponse(
        event,
        (r: KinesisStreamRecord) =>
          ingestRecord(r.kinesis.sequenceNumber, Buffer.from(r.kinesis.data, 'base64').toString('utf8')),
        kinesisProcessor,
        { context },
      ),
    ),
  { logger, metrics },
);

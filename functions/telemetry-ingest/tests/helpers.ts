import { readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import {
  CreateTableCommand,
  DescribeTableCommand,
  DynamoDBClient,
  ResourceNotFoundException,
} from '@aws-sdk/client-dynamodb';
import { lambdaContext as sharedLambdaContext } from '@cv/test-support';
import type { Context } from 'aws-lambda';
import dynalite from 'dynalite';

export const KEY_ARN = 'arn:aws:kms:eu-west-1:111122223333:key/11111111-2222-4333-8444-555555555555';
export const OTHER_KEY_ARN = 'arn:aws:kms:eu-west-1:111122223333:key/99999999-2222-4333-8444-555555555555';
export const TELEMETRY_TABLE = 'cv-security-test-telemetry';
export const COMMANDS_TABLE = 'cv-security-test-commands';
export const BEHAVIOUR_TABLE = 'cv-security-test-behaviour';
export const REGION = 'eu-west-1';
export const CREDENTIALS = { accessKeyId: 'AKIDTESTONLY', secretAccessKey: 'test-only' };

/** Loads a sample event from events/telemetry-ingest/. */
export function sampleEvent<T = Record<string, unknown>>(name: string): T {
  return JSON.parse(
    readFileSync(new URL(`../../../events/telemetry-ingest/${name}`, import.meta.url), 'utf8'),
  ) as T;
}

/** Starts dynalite (in memory) on a loopback port and creates the two tables. */
export async function startDynalite(): Promise<{
  endpoint: string;
  close: () => Promise<void>;
  /** Every DynamoDB operation the server was asked for, in order (`X-Amz-Target`'s operation). */
  operations: string[];
}> {
  const server = dynalite({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
  const operations: string[] = [];
  server.on('request', (req: { headers: Record<string, string | string[] | undefined> }) => {
    const target = req.headers['x-amz-target'];
    if (typeof target === 'string') operations.push(target.replace(/^DynamoDB_\d+\./, ''));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const ddb = new DynamoDBClient({ endpoint, region: REGION, credentials: CREDENTIALS });
  await ddb.send(
    new CreateTableCommand({
      TableName: TELEMETRY_TABLE,
      KeySchema: [
        { AttributeName: 'thingName', KeyType: 'HASH' },
        { AttributeName: 'sk', KeyType: 'RANGE' },
      ],
      AttributeDefinitions: [
        { AttributeName: 'thingName', AttributeType: 'S' },
        { AttributeName: 'sk', AttributeType: 'S' },
      ],
      BillingMode: 'PAY_PER_REQUEST',
    }),
  );
  await tableStatus(ddb, TELEMETRY_TABLE, 'ACTIVE');
  await createCommandsTable(ddb);
  ddb.destroy();
  return {
    endpoint,
    operations,
    close: () =>
      new Promise<void>((resolve, reject) => server.close((e?: Error) => (e ? reject(e) : resolve()))),
  };
}

/** The commands table (also re-created by the test that removes it to provoke DynamoDB errors). */
/** behaviour-detector's table (serverless/resources/behaviour-detector.yml), where messages are counted. */
export async function createBehaviourTable(ddb: DynamoDBClient): Promise<void> {
  await ddb.send(
    new CreateTableCommand({
      TableName: BEHAVIOUR_TABLE,
      BillingMode: 'PAY_PER_REQUEST',
      AttributeDefinitions: [
        { AttributeName: 'thingName', AttributeType: 'S' },
        { AttributeName: 'sk', AttributeType: 'S' },
      ],
      KeySchema: [
        { AttributeName: 'thingName', KeyType: 'HASH' },
        { AttributeName: 'sk', KeyType: 'RANGE' },
      ],
    }),
  );
}

export async function createCommandsTable(ddb: DynamoDBClient): Promise<void> {
  await ddb.send(
    new CreateTableCommand({
      TableName: COMMANDS_TABLE,
      KeySchema: [{ AttributeName: 'commandId', KeyType: 'HASH' }],
      AttributeDefinitions: [{ AttributeName: 'commandId', AttributeType: 'S' }],
      BillingMode: 'PAY_PER_REQUEST',
    }),
  );
  await tableStatus(ddb, COMMANDS_TABLE, 'ACTIVE');
}

/**
 * Waits until a table is ACTIVE (or gone). dynalite, like DynamoDB, answers
 * ResourceNotFound while a table is still CREATING, even with createTableMs 0,
 * so a test that writes right after CreateTable races without this.
 */
export async function tableStatus(
  ddb: DynamoDBClient,
  table: string,
  want: 'ACTIVE' | 'GONE',
): Promise<void> {
  for (let attempt = 0; attempt < 500; attempt++) {
    try {
      const { Table } = await ddb.send(new DescribeTableCommand({ TableName: table }));
      if (want === 'ACTIVE' && Table?.TableStatus === 'ACTIVE') return;
    } catch (error) {
      if (!(error instanceof ResourceNotFoundException)) throw error;
      if (want === 'GONE') return;
    }
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  throw new Error(`table ${table} never became ${want}`);
}

export function lambdaContext(): Context {
  return sharedLambdaContext({
    functionName: 'cv-security-test-telemetryIngest',
    awsRequestId: 'c6af9ac6-7b61-11e6-9a41-93e812345678',
    memoryLimitInMB: '512',
    callbackWaitsForEmptyEventLoop: false,
    logStreamName: '2026/11/25/[$LATEST]abcdef',
  });
}

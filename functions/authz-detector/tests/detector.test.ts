import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import {
  BatchWriteItemCommand,
  ConditionalCheckFailedException,
  DynamoDBClient,
  GetItemCommand,
  ProvisionedThroughputExceededException,
  PutItemCommand,
  QueryCommand,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import { BatchImportFindingsCommand, SecurityHubClient } from '@aws-sdk/client-securityhub';
import fc from 'fast-check';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { MalformedLogsError } from '../src/errors.js';
import { findingId } from '../src/finding.js';
import { authorizationFailures, decodeSubscriptionEvent } from '../src/logs.js';
import {
  ACCOUNT,
  burst,
  CERT,
  context,
  iotLogLine,
  mock,
  OTHER_CERT,
  REGION,
  subscriptionEvent,
  THING,
} from './helpers.js';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const BEHAVIOUR_TABLE_NAME = 'cv-security-dev-behaviour';
const ENV = {
  AWS_REGION: REGION,
  AUTHZ_FAILURES_TABLE: 'cv-security-dev-authz-failures',
  AUTHZ_FAILURE_THRESHOLD: '5',
  AUTHZ_WINDOW_SECONDS: '300',
  FINDING_PROVENANCE_TABLE: 'cv-security-dev-finding-provenance',
  BEHAVIOUR_TABLE: BEHAVIOUR_TABLE_NAME,
  LOG_LEVEL: 'SILENT',
  POWERTOOLS_METRICS_DISABLED: 'true',
};
const PROVENANCE_TABLE = 'cv-security-dev-finding-provenance';
const NOW = Date.UTC(2026, 10, 25, 8, 46, 0);
const T0 = Date.UTC(2026, 10, 25, 8, 45, 1);

/**
 * The two DynamoDB tables the detector writes (failures ledger, provenance), with the semantics it relies on:
 * BatchWriteItem (puts by key, UnprocessedItems), key-range Query, conditional PutItem/UpdateItem. `throttle` makes
 * the next BatchWriteItem calls fail (`'all'`: the call throws) or leave all but `n` items unprocessed.
 */
type Attr = { S?: string; N?: string; BOOL?: boolean };
type Row = Record<string, Attr>;

class FakeTable {
  readonly items = new Map<string, Row>();
  readonly provenance = new Map<string, Row>();
  /** behaviour-detector's counters: the ADDs received (thing, hour, authzFailures). */
  readonly counters: Array<{ thingName?: string; sk?: string; authzFailures?: string }> = [];
  readonly ddb = mock(DynamoDBClient);
  throttle: Array<'all' | number> = [];
  constructor() {
    const key = (k: Row) => `${k.principal?.S}|${k.sk?.S}`;
    const failed = () => new ConditionalCheckFailedException({ message: 'condition', $metadata: {} });
    this.ddb
      .on(BatchWriteItemCommand)
      .callsFake((i: { RequestItems: Record<string, Array<{ PutRequest: { Item: Row } }>> }) => {
        const [[tableName, requests] = ['', []]] = Object.entries(i.RequestItems);
        const plan = this.throttle.shift();
        if (plan === 'all') {
          throw new ProvisionedThroughputExceededException({ message: 'throttled', $metadata: {} });
        }
        const done = plan === undefined ? requests.length : plan;
        for (const r of requests.slice(0, done)) this.items.set(key(r.PutRequest.Item), r.PutRequest.Item);
        const rest = requests.slice(done);
        return { UnprocessedItems: rest.length > 0 ? { [tableName]: rest } : {} };
      });
    this.ddb.on(QueryCommand).callsFake((i: { ExpressionAttributeValues: Row }) => {
      const v = i.ExpressionAttributeValues;
      const Items = [...this.items.values()].filter(
        (it) =>
          it.principal?.S === v[':p']?.S &&
          (it.sk?.S ?? '') >= (v[':from']?.S ?? '') &&
          (it.sk?.S ?? '') <= (v[':to']?.S ?? ''),
      );
      return { Items: Items.map((it) => ({ at: it.at })) };
    });
    this.ddb.on(GetItemCommand).callsFake((i: { Key: Row }) => ({ Item: this.items.get(key(i.Key)) }));
    this.ddb
      .on(PutItemCommand)
      .callsFake(
        (i: {
          TableName: string;
          Item: Row;
          ConditionExpression?: string;
          ExpressionAttributeValues?: Row;
        }) => {
          if (i.TableName === PROVENANCE_TABLE) {
            this.provenance.set(i.Item.findingId?.S ?? '', i.Item);
            return {};
          }
          const current = this.items.get(key(i.Item));
          if (i.ConditionExpression === 'attribute_not_exists(sk)' && current !== undefined) throw failed();
          if (
            i.ConditionExpression === 'findingId = :previous' &&
            current?.findingId?.S !== i.ExpressionAttributeValues?.[':previous']?.S
          ) {
            throw failed();
          }
          this.items.set(key(i.Item), i.Item);
          return {};
        },
      );
    this.ddb
      .on(UpdateItemCommand)
      .callsFake((i: { TableName: string; Key: Row; ExpressionAttributeValues: Row }) => {
        if (i.TableName === BEHAVIOUR_TABLE_NAME) {
          this.counters.push({
            thingName: i.Key.thingName?.S,
            sk: i.Key.sk?.S,
            authzFailures: i.ExpressionAttributeValues[':authzFailures']?.N,
          });
          return {};
        }
        const current = this.items.get(key(i.Key));
        if (current === undefined || current.findingId?.S !== i.ExpressionAttributeValues[':id']?.S)
          throw failed();
        current.imported = { BOOL: true };
        return {};
      });
  }

  /** The failures stored for a certificate. */
  failures(cert = CERT): number {
    return [...this.items.values()].filter((it) => it.principal?.S === cert && it.sk?.S?.startsWith('event#'))
      .length;
  }
}

let table: FakeTable;
const hub = mock(SecurityHubClient);
type Finding = Record<string, unknown> & { ProductFields?: Record<string, string> };
const imported = () =>
  hub.commandCalls(BatchImportFindingsCommand).map((c) => c.args[0].input as { Findings: Finding[] });
let handler: (event: unknown, ctx: ReturnType<typeof context>) => Promise<void>;
const saved = { ...process.env };

beforeAll(async () => {
  Object.assign(process.env, ENV);
  vi.useFakeTimers({ now: NOW, toFake: ['Date'] });
  ({ handler } = await import('../src/handler.js'));
});
afterAll(() => {
  vi.useRealTimers();
  process.env = saved;
});
beforeEach(() => {
  table?.ddb.restore();
  table = new FakeTable();
  hub.reset();
  hub.on(BatchImportFindingsCommand).resolves({ SuccessCount: 1, FailedCount: 0, FailedFindings: [] });
});

describe('decoding the CloudWatch Logs subscription payload', () => {
  it('reads the committed sample event: failures by certificate principals only', () => {
    const event = JSON.parse(
      readFileSync(`${ROOT}events/authz-detector/authorization-failures.json`, 'utf8'),
    );

    const { failures, skipped } = authorizationFailures(decodeSubscriptionEvent(event));

    expect(failures).toHaveLength(4);
    expect(new Set(failures.map((f) => f.eventType))).toEqual(
      new Set(['Connect', 'Publish-In', 'Subscribe']),
    );
    expect(failures.every((f) => f.certificateId === CERT)).toBe(true);
    // a successful connect, a Cognito principal, a throttled publish and a non-JSON line
    expect(skipped).toBe(4);
  });

  it('keeps a claimed client id only when it is a valid name, and never trusts it as the identity', () => {
    const event = subscriptionEvent([
      { line: iotLogLine({ clientId: '<script>' }), at: T0 },
      { line: iotLogLine({ clientId: THING }), at: T0 },
    ]);

    const { failures } = authorizationFailures(decodeSubscriptionEvent(event));

    expect(failures[0]?.clientId).toBeUndefined();
    expect(failures[1]).toMatchObject({ clientId: THING, certificateId: CERT });
  });

  it('ignores CloudWatch Logs control messages', () => {
    const data = gzipSync(
      JSON.stringify({ messageType: 'CONTROL_MESSAGE', owner: 'CloudwatchLogs', logEvents: [] }),
    );

    const decoded = decodeSubscriptionEvent({ awslogs: { data: data.toString('base64') } });

    expect(authorizationFailures(decoded).failures).toEqual([]);
  });

  it('throws only MalformedLogsError on arbitrary input (property)', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.anything(),
          fc.record({ awslogs: fc.record({ data: fc.base64String({ minLength: 1 }) }) }),
        ),
        (input) => {
          try {
            decodeSubscriptionEvent(input);
            return true;
          } catch (error) {
            return error instanceof MalformedLogsError;
          }
        },
      ),
      { numRuns: 300 },
    );
  });

  it('never throws on arbitrary log lines, and extracts only well-formed certificate failures (property)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.oneof(fc.string(), fc.json(), fc.constant(JSON.stringify(iotLogLine())))),
        (messages) => {
          const { failures, skipped } = authorizationFailures({
            messageType: 'DATA_MESSAGE',
            owner: ACCOUNT,
            logGroup: 'AWSIotLogsV2',
            logStream: 's',
            subscriptionFilters: [],
            logEvents: messages.map((message, i) => ({ id: String(i), timestamp: T0, message })),
          });
          return (
            failures.length + skipped === messages.length &&
            failures.every((f) => /^[0-9a-f]{64}$/.test(f.certificateId))
          );
        },
      ),
      { numRuns: 200 },
    );
  });
});

describe('detection', () => {
  it('a burst below the threshold raises nothing', async () => {
    await handler(subscriptionEvent(burst(4, T0)), context());

    expect(imported()).toHaveLength(0);
    expect(table.failures()).toBe(4);
  });

  it('counts the Publish-In failures per ECU (the pinned client id) and hour for behaviour-detector; Connect failures never', async () => {
    await handler(subscriptionEvent(burst(3, T0)), context());
    await handler(
      subscriptionEvent(
        burst(2, T0 + 10_000, CERT, { eventType: 'Connect', clientId: 'VICTIM0000000000_gw-1' }),
      ),
      context(),
    );

    const hour = `b#${String(Math.floor(T0 / 3_600_000) * 3600).padStart(12, '0')}`;
    expect(table.counters).toEqual([{ thingName: THING, sk: hour, authzFailures: '3' }]);
  });

  it('repeated bursts in one window raise one finding, not many', async () => {
    for (let i = 0; i < 4; i++) await handler(subscriptionEvent(burst(4, T0 + i * 5000)), context());

    expect(imported()).toHaveLength(1);
    const finding = imported()[0]?.Findings[0];
    expect(finding).toMatchObject({
      Id: findingId(CERT, T0),
      ProductArn: `arn:aws:securityhub:${REGION}:${ACCOUNT}:product/${ACCOUNT}/default`,
      GeneratorId: 'cv-security/authz-detector',
      ProductFields: { DeviceCertificateId: CERT, 'cv/FailureCount': '8' },
    });
  });

  it('12 real failures, three DynamoDB throttles and a redelivered batch: 12 stored, one finding counting 12', async () => {
    const event = subscriptionEvent(burst(12, T0));
    // 1st invocation: 5 written, the rest unprocessed and then throttled; 2nd and 3rd: throttled outright.
    table.throttle = [5, 'all', 'all', 'all'];

    await expect(handler(event, context())).rejects.toThrow(/throttled/);
    await expect(handler(event, context())).rejects.toThrow(/throttled/);
    await expect(handler(event, context())).rejects.toThrow(/throttled/);
    await handler(event, context()); // the retry that goes through
    await handler(event, context()); // CloudWatch Logs delivers the same batch again

    expect(table.failures()).toBe(12);
    expect(imported()).toHaveLength(1);
    expect(imported()[0]?.Findings[0]).toMatchObject({
      FirstObservedAt: new Date(T0).toISOString(),
      ProductFields: { 'cv/FailureCount': '12' },
    });
    expect(table.provenance.get(findingId(CERT, T0))?.targets).toEqual({ M: { certificateId: { S: CERT } } });
  });

  it('the same failures delivered again (a Lambda retry) do not raise a second finding', async () => {
    const event = subscriptionEvent(burst(6, T0));

    await handler(event, context());
    await handler(event, context());

    expect(imported()).toHaveLength(1);
  });

  it('failures further apart than the window do not add up', async () => {
    await handler(subscriptionEvent(burst(4, T0)), context());
    await handler(subscriptionEvent(burst(4, T0 + 10 * 60_000)), context());

    expect(imported()).toHaveLength(0);
  });

  it('counts each certificate on its own', async () => {
    await handler(subscriptionEvent([...burst(6, T0, CERT), ...burst(3, T0, OTHER_CERT)]), context());

    expect(imported()).toHaveLength(1);
    expect(imported()[0]?.Findings[0]?.ProductFields?.DeviceCertificateId).toBe(CERT);
  });

  it('drops a malformed payload without any AWS call', async () => {
    await handler({ awslogs: { data: Buffer.from('not gzip').toString('base64') } }, context());

    expect(table.ddb.commandCalls(BatchWriteItemCommand)).toHaveLength(0);
    expect(table.counters).toHaveLength(0);
    expect(imported()).toHaveLength(0);
  });

  it('fails (so Lambda retries) when Security Hub refuses the finding, and raises it on the retry', async () => {
    hub.reset();
    hub.on(BatchImportFindingsCommand).resolves({
      SuccessCount: 0,
      FailedCount: 1,
      FailedFindings: [{ Id: 'x', ErrorCode: 'InvalidInput', ErrorMessage: 'no' }],
    });
    const event = subscriptionEvent(burst(6, T0));

    await expect(handler(event, context())).rejects.toThrow(/InvalidInput/);
    hub.reset();
    hub.on(BatchImportFindingsCommand).resolves({ SuccessCount: 1, FailedCount: 0, FailedFindings: [] });
    await handler(event, context());

    expect(imported()).toHaveLength(1);
  });

  it('imports the finding the remediation workflow expects (events/remediation-steps/own-authz-detector-finding.json)', async () => {
    await handler(subscriptionEvent(burst(5, T0, CERT, { clientId: THING })), context());
    const sample = JSON.parse(
      readFileSync(`${ROOT}events/remediation-steps/own-authz-detector-finding.json`, 'utf8'),
    );

    const finding = imported()[0]?.Findings[0];

    // Security Hub adds the workflow fields when it imports the finding.
    expect({ ...finding, Workflow: { Status: 'NEW' }, WorkflowState: 'NEW' }).toEqual(
      sample.detail.findings[0],
    );
  });
});

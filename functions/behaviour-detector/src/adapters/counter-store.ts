import {
  type AttributeValue,
  type DynamoDBClient,
  QueryCommand,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import { counterSortKey, counterUpdate } from '@cv/runtime';
import { type BucketCounts, emptyCounts } from '../model.js';
import type { CounterIncrement, CounterStore } from '../ports.js';

/**
 * {@link CounterStore} on the behaviour table: one `UpdateItem ADD` per ECU and bucket (the shared item format of
 * `@cv/runtime` counterUpdate), buckets read back with one key-range Query.
 */
export class DynamoCounterStore implements CounterStore {
  constructor(
    private readonly client: DynamoDBClient,
    private readonly table: string,
  ) {}

  async add(increments: readonly CounterIncrement[]): Promise<void> {
    for (const inc of increments) {
      // sourceIps is a set here, a count in the model: the set comes from inc.sourceIps only.
      const { sourceIps: _count, ...add } = inc.add;
      await this.client.send(
        new UpdateItemCommand({
          TableName: this.table,
          ...counterUpdate({
            thingName: inc.thingName,
            start: inc.start,
            ...add,
            ...(inc.disconnectReasons === undefined ? {} : { disconnectReasons: inc.disconnectReasons }),
            ...(inc.sourceIps === undefined ? {} : { sourceIps: inc.sourceIps }),
          }),
        }),
      );
    }
  }

  async between(thingName: string, from: number, to: number, limit: number): Promise<BucketCounts[]> {
    if (to < from) return [];
    const out = await this.client.send(
      new QueryCommand({
        TableName: this.table,
        KeyConditionExpression: 'thingName = :t AND sk BETWEEN :from AND :to',
        ExpressionAttributeValues: {
          ':t': { S: thingName },
          ':from': { S: counterSortKey(from) },
          ':to': { S: counterSortKey(to) },
        },
        Limit: limit,
      }),
    );
    return (out.Items ?? []).flatMap((item) => {
      const b = parseCounterItem(item);
      return b === undefined ? [] : [b];
    });
  }
}

const num = (v: AttributeValue | undefined) => {
  const n = Number(v?.N);
  return Number.isFinite(n) && n >= 0 ? n : 0;
};

/** A counter item (from a Query or a stream image) to a bucket; anything else is `undefined`. */
export function parseCounterItem(item: Record<string, AttributeValue> | undefined): BucketCounts | undefined {
  const thingName = item?.thingName?.S;
  const sk = /^b#(\d{12})$/.exec(item?.sk?.S ?? '');
  if (item === undefined || thingName === undefined || sk === null) return undefined;
  const counts = emptyCounts();
  counts.sent = num(item.sent);
  counts.bytes = num(item.bytes);
  counts.received = num(item.received);
  counts.connects = num(item.connects);
  counts.disconnects = num(item.disconnects);
  counts.authzFailures = num(item.authzFailures);
  counts.maxBytes = Math.max(0, ...(item.sizeClasses?.NS ?? []).map(Number).filter(Number.isFinite));
  counts.sourceIps = item.sourceIps?.SS?.length ?? 0;
  const disconnectReasons: Record<string, number> = {};
  for (const [name, value] of Object.entries(item)) {
    if (name.startsWith('dc_')) disconnectReasons[name.slice(3)] = num(value);
  }
  return { thingName, start: Number(sk[1]), counts, disconnectReasons };
}

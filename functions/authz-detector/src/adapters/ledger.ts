import {
  BatchWriteItemCommand,
  ConditionalCheckFailedException,
  type DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  QueryCommand,
  UpdateItemCommand,
  type WriteRequest,
} from '@aws-sdk/client-dynamodb';
import type { CountedFailure, FailureLedger, RaisedFinding } from '../ports.js';

const pad = (n: number) => String(Math.max(0, Math.floor(n))).padStart(15, '0');
const MAX_PAGES = 50;
/** Rounds of BatchWriteItem for the items DynamoDB left unprocessed, before the invocation fails (and is retried). */
const MAX_UNPROCESSED_ROUNDS = 5;

/** DynamoDB left items unprocessed after every round (throttling): the invocation fails and is retried whole. */
export class UnprocessedWritesError extends Error {
  constructor(readonly remaining: number) {
    super(`DynamoDB left ${remaining} failure records unprocessed`);
    this.name = 'UnprocessedWritesError';
  }
}

/**
 * {@link FailureLedger} on a DynamoDB table: pk `principal` (certificate id); sk `event#<epoch ms, 15 digits>#<log
 * event id>` for each failure (attribute `at`), so a redelivered event overwrites its own item and a window is one
 * key-range Query; sk `raised` for the certificate's last finding. TTL attribute `ttl`.
 */
export class DynamoFailureLedger implements FailureLedger {
  constructor(
    private readonly client: DynamoDBClient,
    private readonly table: string,
    private readonly sleep: (ms: number) => Promise<void> = (ms) => new Promise((r) => setTimeout(r, ms)),
  ) {}

  async record(certificateId: string, failures: readonly CountedFailure[], expiresAt: number): Promise<void> {
    const requests: WriteRequest[] = failures.map((f) => ({
      PutRequest: {
        Item: {
          principal: { S: certificateId },
          sk: { S: `event#${pad(f.at)}#${f.eventId}` },
          at: { N: String(f.at) },
          ttl: { N: String(expiresAt) },
        },
      },
    }));
    for (let i = 0; i < requests.length; i += 25) {
      let pending = requests.slice(i, i + 25);
      for (let round = 0; pending.length > 0; round++) {
        if (round >= MAX_UNPROCESSED_ROUNDS) throw new UnprocessedWritesError(pending.length);
        if (round > 0) await this.sleep(50 * 2 ** round);
        const out = await this.client.send(
          new BatchWriteItemCommand({ RequestItems: { [this.table]: pending } }),
        );
        pending = out.UnprocessedItems?.[this.table] ?? [];
      }
    }
  }

  async failuresBetween(certificateId: string, from: number, to: number): Promise<number[]> {
    const ats: number[] = [];
    let ExclusiveStartKey: QueryCommand['input']['ExclusiveStartKey'];
    for (let page = 0; page < MAX_PAGES; page++) {
      const out = await this.client.send(
        new QueryCommand({
          TableName: this.table,
          KeyConditionExpression: 'principal = :p AND sk BETWEEN :from AND :to',
          ExpressionAttributeValues: {
            ':p': { S: certificateId },
            ':from': { S: `event#${pad(from)}#` },
            ':to': { S: `event#${pad(to)}#~` },
          },
          ProjectionExpression: '#at',
          ExpressionAttributeNames: { '#at': 'at' },
          ConsistentRead: true,
          ExclusiveStartKey,
        }),
      );
      for (const item of out.Items ?? []) {
        const at = Number(item.at?.N);
        if (Number.isFinite(at)) ats.push(at);
      }
      ExclusiveStartKey = out.LastEvaluatedKey;
      if (!ExclusiveStartKey) break;
    }
    return ats.sort((x, y) => x - y);
  }

  async lastRaised(certificateId: string): Promise<RaisedFinding | undefined> {
    const out = await this.client.send(
      new GetItemCommand({
        TableName: this.table,
        Key: { principal: { S: certificateId }, sk: { S: 'raised' } },
        ConsistentRead: true,
      }),
    );
    const it = out.Item;
    if (it?.findingId?.S === undefined || it.details?.S === undefined) return undefined;
    const details = JSON.parse(it.details.S) as Pick<RaisedFinding, 'eventTypes' | 'clientIds' | 'sourceIps'>;
    return {
      certificateId,
      findingId: it.findingId.S,
      firstObservedAt: Number(it.firstObservedAt?.N),
      lastObservedAt: Number(it.lastObservedAt?.N),
      count: Number(it.count?.N),
      raisedAt: Number(it.raisedAt?.N),
      imported: it.imported?.BOOL === true,
      eventTypes: details.eventTypes,
      clientIds: details.clientIds,
      sourceIps: details.sourceIps,
    };
  }

  async claimRaise(
    next: RaisedFinding,
    previous: RaisedFinding | undefined,
    expiresAt: number,
  ): Promise<boolean> {
    try {
      await this.client.send(
        new PutItemCommand({
          TableName: this.table,
          Item: {
            principal: { S: next.certificateId },
            sk: { S: 'raised' },
            findingId: { S: next.findingId },
            firstObservedAt: { N: String(next.firstObservedAt) },
            lastObservedAt: { N: String(next.lastObservedAt) },
            count: { N: String(next.count) },
            raisedAt: { N: String(next.raisedAt) },
            imported: { BOOL: false },
            details: {
              S: JSON.stringify({
                eventTypes: next.eventTypes,
                clientIds: next.clientIds,
                sourceIps: next.sourceIps,
              }),
            },
            ttl: { N: String(expiresAt) },
          },
          ...(previous === undefined
            ? { ConditionExpression: 'attribute_not_exists(sk)' }
            : {
                ConditionExpression: 'findingId = :previous',
                ExpressionAttributeValues: { ':previous': { S: previous.findingId } },
              }),
        }),
      );
      return true;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return false;
      throw error;
    }
  }

  async markImported(certificateId: string, findingId: string): Promise<void> {
    try {
      await this.client.send(
        new UpdateItemCommand({
          TableName: this.table,
          Key: { principal: { S: certificateId }, sk: { S: 'raised' } },
          UpdateExpression: 'SET imported = :true',
          ConditionExpression: 'findingId = :id',
          ExpressionAttributeValues: { ':true': { BOOL: true }, ':id': { S: findingId } },
        }),
      );
    } catch (error) {
      // A newer finding replaced this one meanwhile: nothing left to mark.
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
    }
  }
}

import {
  ConditionalCheckFailedException,
  type DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  QueryCommand,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import type { FailureCounter } from '../ports.js';

const pad = (n: number) => String(n).padStart(12, '0');
const MAX_PAGES = 10;

/**
 * {@link FailureCounter} on a DynamoDB table: pk `principal` (certificate id), sk `bucket#<epoch s>` (count,
 * atomic ADD) or `raised#<slot>` (a finding was imported), TTL attribute `ttl`.
 */
export class DynamoFailureCounter implements FailureCounter {
  constructor(
    private readonly client: DynamoDBClient,
    private readonly table: string,
  ) {}

  async add(certificateId: string, bucketStart: number, count: number, expiresAt: number): Promise<void> {
    await this.client.send(
      new UpdateItemCommand({
        TableName: this.table,
        Key: { principal: { S: certificateId }, sk: { S: `bucket#${pad(bucketStart)}` } },
        UpdateExpression: 'ADD #count :n SET #ttl = if_not_exists(#ttl, :ttl)',
        ExpressionAttributeNames: { '#count': 'count', '#ttl': 'ttl' },
        ExpressionAttributeValues: { ':n': { N: String(count) }, ':ttl': { N: String(expiresAt) } },
      }),
    );
  }

  async sumSince(certificateId: string, from: number): Promise<number> {
    let sum = 0;
    let ExclusiveStartKey: QueryCommand['input']['ExclusiveStartKey'];
    for (let page = 0; page < MAX_PAGES; page++) {
      const out = await this.client.send(
        new QueryCommand({
          TableName: this.table,
          KeyConditionExpression: 'principal = :p AND sk BETWEEN :from AND :to',
          ExpressionAttributeValues: {
            ':p': { S: certificateId },
            ':from': { S: `bucket#${pad(Math.max(0, from))}` },
            ':to': { S: 'bucket#~' },
          },
          ProjectionExpression: '#count',
          ExpressionAttributeNames: { '#count': 'count' },
          ConsistentRead: true,
          ExclusiveStartKey,
        }),
      );
      for (const item of out.Items ?? []) sum += Number(item.count?.N ?? 0);
      ExclusiveStartKey = out.LastEvaluatedKey;
      if (!ExclusiveStartKey) break;
    }
    return sum;
  }

  async wasRaised(certificateId: string, slot: number): Promise<boolean> {
    const out = await this.client.send(
      new GetItemCommand({
        TableName: this.table,
        Key: { principal: { S: certificateId }, sk: { S: `raised#${pad(slot)}` } },
        ConsistentRead: true,
      }),
    );
    return out.Item !== undefined;
  }

  async markRaised(certificateId: string, slot: number, expiresAt: number): Promise<boolean> {
    try {
      await this.client.send(
        new PutItemCommand({
          TableName: this.table,
          Item: {
            principal: { S: certificateId },
            sk: { S: `raised#${pad(slot)}` },
            ttl: { N: String(expiresAt) },
          },
          ConditionExpression: 'attribute_not_exists(sk)',
        }),
      );
      return true;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return false;
      throw error;
    }
  }
}

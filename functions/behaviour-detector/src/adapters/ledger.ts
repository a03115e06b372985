import {
  ConditionalCheckFailedException,
  type DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import type { FindingLedger, RaisedFinding } from '../ports.js';

/** A raise is kept 30 days (longer than any cool-down), then expires. */
const RAISED_TTL_SECONDS = 30 * 86_400;

/** {@link FindingLedger} on the behaviour table: sk `raised#<behaviour>` under the thing name. */
export class DynamoFindingLedger implements FindingLedger {
  constructor(
    private readonly client: DynamoDBClient,
    private readonly table: string,
  ) {}

  async lastRaised(thingName: string, behaviour: string): Promise<RaisedFinding | undefined> {
    const out = await this.client.send(
      new GetItemCommand({
        TableName: this.table,
        Key: { thingName: { S: thingName }, sk: { S: `raised#${behaviour}` } },
        ConsistentRead: true,
      }),
    );
    const state = out.Item?.state?.S;
    const findingId = out.Item?.findingId?.S;
    if (state === undefined || findingId === undefined) return undefined;
    const parsed = JSON.parse(state) as Omit<RaisedFinding, 'imported' | 'findingId'>;
    return { ...parsed, findingId, imported: out.Item?.imported?.BOOL === true };
  }

  async claimRaise(next: RaisedFinding, previous: RaisedFinding | undefined): Promise<boolean> {
    try {
      await this.client.send(
        new PutItemCommand({
          TableName: this.table,
          Item: {
            thingName: { S: next.finding.thingName },
            sk: { S: `raised#${next.finding.behaviour}` },
            findingId: { S: next.findingId },
            state: { S: JSON.stringify({ finding: next.finding, raisedAt: next.raisedAt }) },
            imported: { BOOL: false },
            ttl: { N: String(Math.floor(next.raisedAt / 1000) + RAISED_TTL_SECONDS) },
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

  async markImported(thingName: string, behaviour: string, findingId: string): Promise<void> {
    try {
      await this.client.send(
        new UpdateItemCommand({
          TableName: this.table,
          Key: { thingName: { S: thingName }, sk: { S: `raised#${behaviour}` } },
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

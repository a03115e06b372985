import {
  ConditionalCheckFailedException,
  type DynamoDBClient,
  GetItemCommand,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import type { AlertLedgerPort } from '../ports.js';

/** A claim older than this is taken over (the run that made it died before sending). */
export const ALERT_CLAIM_LEASE_SECONDS = 120;
/** How long an alert key is remembered (Security Hub keeps findings 90 days). */
export const ALERT_LEDGER_TTL_SECONDS = 180 * 86_400;

/**
 * {@link AlertLedgerPort} on a DynamoDB table (pk `alertKey`; `claimedAt`, `sentAt`, `messageId`, `findingId`,
 * TTL `ttl`). The claim is one conditional UpdateItem: it succeeds only when the key is new, or when an earlier claim
 * was never marked sent and is older than the lease.
 */
export class DynamoAlertLedger implements AlertLedgerPort {
  constructor(
    private readonly client: DynamoDBClient,
    private readonly table: string,
  ) {}

  async claim(
    key: string,
    findingId: string,
    now: Date,
  ): Promise<{ state: 'claimed' } | { state: 'sent'; messageId: string } | { state: 'busy' }> {
    const epoch = Math.floor(now.getTime() / 1000);
    try {
      await this.client.send(
        new UpdateItemCommand({
          TableName: this.table,
          Key: { alertKey: { S: key } },
          UpdateExpression: 'SET claimedAt = :now, findingId = :finding, #ttl = :ttl',
          ConditionExpression:
            'attribute_not_exists(alertKey) OR (attribute_not_exists(sentAt) AND claimedAt < :stale)',
          ExpressionAttributeNames: { '#ttl': 'ttl' },
          ExpressionAttributeValues: {
            ':now': { N: String(epoch) },
            ':stale': { N: String(epoch - ALERT_CLAIM_LEASE_SECONDS) },
            ':finding': { S: findingId.slice(0, 512) },
            ':ttl': { N: String(epoch + ALERT_LEDGER_TTL_SECONDS) },
          },
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        }),
      );
      return { state: 'claimed' };
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
      // The item as it is (ReturnValuesOnConditionCheckFailure; a strongly consistent read where it is not returned).
      const item = error.Item ?? (await this.read(key));
      const sent = item?.sentAt?.N;
      return sent === undefined ? { state: 'busy' } : { state: 'sent', messageId: item?.messageId?.S ?? '' };
    }
  }

  private async read(key: string) {
    const out = await this.client.send(
      new GetItemCommand({ TableName: this.table, Key: { alertKey: { S: key } }, ConsistentRead: true }),
    );
    return out.Item;
  }

  async markSent(key: string, messageId: string, now: Date): Promise<void> {
    await this.client.send(
      new UpdateItemCommand({
        TableName: this.table,
        Key: { alertKey: { S: key } },
        UpdateExpression: 'SET sentAt = :now, messageId = :id',
        ConditionExpression: 'attribute_exists(alertKey)',
        ExpressionAttributeValues: {
          ':now': { N: String(Math.floor(now.getTime() / 1000)) },
          ':id': { S: messageId },
        },
      }),
    );
  }
}

import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { type DynamoDBDocumentClient, GetCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { CommandResultStore, TelemetryItem, TelemetryStore } from '../ingest.js';

/** The telemetry table: one row per Encryption SDK message, written once (`attribute_not_exists(sk)`). */
export class DynamoDbTelemetryStore implements TelemetryStore {
  constructor(
    private readonly ddb: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async put(item: TelemetryItem): Promise<'stored' | 'duplicate'> {
    try {
      await this.ddb.send(
        new PutCommand({
          TableName: this.tableName,
          Item: item,
          ConditionExpression: 'attribute_not_exists(sk)',
        }),
      );
      return 'stored';
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return 'duplicate';
      throw error;
    }
  }
}

/**
 * The commands table: a result is applied only to this thing's command while it is still PENDING,
 * and records the Encryption SDK message id that applied it (`resultMessageId`), so a redelivery of
 * that message is told apart (`already-applied`, one consistent read, only after the condition
 * failed) from a result the command no longer takes. One conditional write: no transaction needed.
 */
export class DynamoDbCommandResultStore implements CommandResultStore {
  constructor(
    private readonly ddb: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async applyResult(
    input: Parameters<CommandResultStore['applyResult']>[0],
  ): Promise<'applied' | 'already-applied' | 'not-applicable'> {
    try {
      await this.ddb.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { commandId: input.commandId },
          UpdateExpression:
            'SET #status = :status, #result = :result, completedAt = :completedAt, resultMessageId = :esdk',
          ConditionExpression: 'attribute_exists(commandId) AND thingName = :thing AND #status = :pending',
          ExpressionAttributeNames: { '#status': 'status', '#result': 'result' },
          ExpressionAttributeValues: {
            ':status': input.result.status,
            ':result': input.result,
            ':completedAt': input.result.receivedAt,
            ':esdk': input.esdkMessageId,
            ':thing': input.thingName,
            ':pending': 'PENDING',
          },
        }),
      );
      return 'applied';
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
    }
    const { Item } = await this.ddb.send(
      new GetCommand({
        TableName: this.tableName,
        Key: { commandId: input.commandId },
        ConsistentRead: true,
        ProjectionExpression: 'thingName, resultMessageId',
      }),
    );
    return Item?.thingName === input.thingName && Item?.resultMessageId === input.esdkMessageId
      ? 'already-applied'
      : 'not-applicable';
  }
}

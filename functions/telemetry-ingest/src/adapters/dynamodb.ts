import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { type DynamoDBDocumentClient, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { CommandResultStore, TelemetryItem, TelemetryStore } from '../ingest.js';

/** The telemetry table: one row per message, written once (`attribute_not_exists(sk)`). */
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

/** The commands table: a result is applied only to this thing's command while it is still PENDING. */
export class DynamoDbCommandResultStore implements CommandResultStore {
  constructor(
    private readonly ddb: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async applyResult(
    input: Parameters<CommandResultStore['applyResult']>[0],
  ): Promise<'applied' | 'not-applicable'> {
    try {
      await this.ddb.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { commandId: input.commandId },
          UpdateExpression: 'SET #status = :status, #result = :result, completedAt = :completedAt',
          ConditionExpression: 'attribute_exists(commandId) AND thingName = :thing AND #status = :pending',
          ExpressionAttributeNames: { '#status': 'status', '#result': 'result' },
          ExpressionAttributeValues: {
            ':status': input.result.status,
            ':result': input.result,
            ':completedAt': input.result.receivedAt,
            ':thing': input.thingName,
            ':pending': 'PENDING',
          },
        }),
      );
      return 'applied';
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return 'not-applicable';
      throw error;
    }
  }
}

import { type DynamoDBClient, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { type CounterAdd, counterUpdate } from '@cv/runtime';

/**
 * Adds authorization-failure counts to behaviour-detector's table (one `UpdateItem ADD` per ECU and hour). Best
 * effort: a failed write is handed to `onError` and dropped, so it never makes the log batch retry (which would
 * count the failures twice).
 */
export function dynamoFailureCounter(
  client: DynamoDBClient,
  table: string,
  onError: (error: unknown) => void,
) {
  return async (adds: readonly CounterAdd[]): Promise<void> => {
    for (const add of adds) {
      try {
        await client.send(new UpdateItemCommand({ TableName: table, ...counterUpdate(add) }));
      } catch (error) {
        onError(error);
      }
    }
  };
}

import { type DynamoDBClient, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { bucketStart, counterUpdate } from '@cv/runtime';
import type { CommandCounter } from '../ports.js';

/**
 * {@link CommandCounter} on behaviour-detector's table: `ADD received 1` to the ECU's hour (commands are rare: one
 * write each). A failed write is handed to `onError` and dropped: counting never fails a command that was sent.
 */
export function dynamoCommandCounter(
  client: DynamoDBClient,
  table: string,
  onError: (error: unknown) => void,
): CommandCounter {
  return {
    async received(thingName, atMs) {
      try {
        await client.send(
          new UpdateItemCommand({
            TableName: table,
            ...counterUpdate({ thingName, start: bucketStart(atMs), received: 1 }),
          }),
        );
      } catch (error) {
        onError(error);
      }
    },
  };
}

import { type DynamoDBClient, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { type CounterAdd, counterUpdate } from '@cv/runtime';
import type { CounterSink } from '../behaviour.js';

/** {@link CounterSink} on the behaviour table: one `UpdateItem ADD` per ECU and hour (the shared item format). */
export class DynamoCounterSink implements CounterSink {
  constructor(
    private readonly client: DynamoDBClient,
    private readonly table: string,
  ) {}

  async add(adds: readonly CounterAdd[]): Promise<void> {
    for (const add of adds) {
      await this.client.send(new UpdateItemCommand({ TableName: this.table, ...counterUpdate(add) }));
    }
  }
}

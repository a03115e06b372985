import {
  ConditionalCheckFailedException,
  type DynamoDBClient,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import type { RegistryPort } from '../ports.js';

const THING = /^([A-HJ-NPR-Z0-9]{17})_([A-Za-z0-9-]{1,40})$/;

/** {@link RegistryPort} on the ECU registry table (pk `ecuId`; thingName is `<VIN>_<ecuId>`). */
export class RegistryAdapter implements RegistryPort {
  constructor(
    private readonly client: DynamoDBClient,
    private readonly table: string,
  ) {}

  async markRotationRequested(
    thingName: string,
    jobId: string,
    at: Date,
  ): Promise<'marked' | 'already' | 'missing'> {
    const ecuId = THING.exec(thingName)?.[2];
    if (ecuId === undefined) return 'missing';
    try {
      await this.client.send(
        new UpdateItemCommand({
          TableName: this.table,
          Key: { ecuId: { S: ecuId } },
          UpdateExpression: 'SET rotationRequestedAt = :at, rotationJobId = :job, updatedAt = :at',
          ConditionExpression:
            'attribute_exists(ecuId) AND thingName = :thing AND (attribute_not_exists(rotationJobId) OR rotationJobId <> :job)',
          ExpressionAttributeValues: {
            ':at': { S: at.toISOString() },
            ':job': { S: jobId },
            ':thing': { S: thingName },
          },
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        }),
      );
      return 'marked';
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
      const item = error.Item;
      if (item === undefined || item.thingName?.S !== thingName) return 'missing';
      return item.rotationJobId?.S === jobId ? 'already' : 'missing';
    }
  }
}

import {
  ConditionalCheckFailedException,
  type DynamoDBClient,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import type { RegistryPort, RotationRequest } from '../ports.js';

const THING = /^([A-HJ-NPR-Z0-9]{17})_([A-Za-z0-9-]{1,40})$/;

/** {@link RegistryPort} on the ECU registry table (pk `ecuId`; thingName is `<VIN>_<ecuId>`). */
export class RegistryAdapter implements RegistryPort {
  constructor(
    private readonly client: DynamoDBClient,
    private readonly table: string,
  ) {}

  async markRotationRequested(
    thingName: string,
    rotation: RotationRequest,
    at: Date,
  ): Promise<'marked' | 'already' | 'missing'> {
    const ecuId = THING.exec(thingName)?.[2];
    if (ecuId === undefined) return 'missing';
    try {
      await this.client.send(
        new UpdateItemCommand({
          TableName: this.table,
          Key: { ecuId: { S: ecuId } },
          UpdateExpression:
            'SET rotationRequestedAt = :at, rotationJobId = :job, rotationMethod = :method, rotationRetiredCertificateIds = :retired, updatedAt = :at',
          ConditionExpression:
            'attribute_exists(ecuId) AND thingName = :thing AND (attribute_not_exists(rotationJobId) OR rotationJobId <> :job)',
          ExpressionAttributeValues: {
            ':at': { S: at.toISOString() },
            ':job': { S: rotation.rotationId },
            ':method': { S: rotation.method },
            ':retired': { L: rotation.retiredCertificateIds.map((id) => ({ S: id })) },
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
      return item.rotationJobId?.S === rotation.rotationId ? 'already' : 'missing';
    }
  }
}

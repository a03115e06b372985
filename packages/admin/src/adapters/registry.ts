import {
  type AttributeValue,
  ConditionalCheckFailedException,
  type DynamoDBClient,
  GetItemCommand,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import type { ActionRecord, EcuRegistryPort, EcuRow } from '../ports.js';

const text = (v: AttributeValue | undefined): string | undefined => (v?.S === undefined ? undefined : v.S);

/** {@link EcuRegistryPort} on the ECU registry table (pk `ecuId`). */
export class DynamoDbEcuRegistry implements EcuRegistryPort {
  constructor(
    private readonly client: DynamoDBClient,
    private readonly tableName: string,
  ) {}

  async get(ecuId: string): Promise<EcuRow | undefined> {
    const out = await this.client.send(
      new GetItemCommand({ TableName: this.tableName, Key: { ecuId: { S: ecuId } }, ConsistentRead: true }),
    );
    const item = out.Item;
    if (item === undefined) return undefined;
    return {
      ecuId,
      vin: text(item.vin) ?? '',
      status: text(item.status) ?? '',
      thingName: text(item.thingName),
      rotationMethod: text(item.rotationMethod),
      rotationRequestedAt: text(item.rotationRequestedAt),
      rotationRetiredCertificateIds: (item.rotationRetiredCertificateIds?.L ?? []).flatMap((v) =>
        v.S === undefined ? [] : [v.S],
      ),
    };
  }

  async recordQuarantineRelease(ecuId: string, thingName: string, record: ActionRecord): Promise<boolean> {
    const values: Record<string, AttributeValue> = {
      ':at': { S: record.at.toISOString() },
      ':by': { S: record.by },
      ':thing': { S: thingName },
    };
    if (record.reason !== undefined) values[':reason'] = { S: record.reason };
    try {
      await this.client.send(
        new UpdateItemCommand({
          TableName: this.tableName,
          Key: { ecuId: { S: ecuId } },
          UpdateExpression:
            record.reason === undefined
              ? 'SET quarantineReleasedAt = :at, quarantineReleasedBy = :by, updatedAt = :at REMOVE quarantineReleaseReason'
              : 'SET quarantineReleasedAt = :at, quarantineReleasedBy = :by, quarantineReleaseReason = :reason, updatedAt = :at',
          ConditionExpression: 'attribute_exists(ecuId) AND thingName = :thing',
          ExpressionAttributeValues: values,
        }),
      );
      return true;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return false;
      throw error;
    }
  }
}

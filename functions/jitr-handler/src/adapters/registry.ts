import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { type DynamoDBDocumentClient, GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { EcuRecord, EcuRegistry, RecordedCertificate } from '../ports.js';

/** The ECU registry table (docs/architecture.md §3), pk `ecuId`. */
export class DynamoDbEcuRegistry implements EcuRegistry {
  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async get(ecuId: string): Promise<EcuRecord | undefined> {
    const out = await this.client.send(
      new GetCommand({
        TableName: this.tableName,
        Key: { ecuId },
        ConsistentRead: true,
        ProjectionExpression: 'ecuId, vin, #role, #status, thingName, certificateSerial, certificateId',
        ExpressionAttributeNames: { '#role': 'role', '#status': 'status' },
      }),
    );
    const item = out.Item;
    if (!item) return undefined;
    const text = (key: string): string | undefined =>
      typeof item[key] === 'string' ? (item[key] as string) : undefined;
    return {
      ecuId: text('ecuId') ?? '',
      vin: text('vin') ?? '',
      role: text('role') ?? '',
      status: text('status') ?? '',
      thingName: text('thingName'),
      certificateSerial: text('certificateSerial'),
      certificateId: text('certificateId'),
    };
  }

  async recordCertificate(
    ecuId: string,
    vin: string,
    record: { certificateId: string; thingName: string; updatedAt: string },
  ): Promise<RecordedCertificate> {
    try {
      const out = await this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { ecuId },
          UpdateExpression:
            'SET certificateId = :certificateId, thingName = :thingName, updatedAt = :updatedAt',
          ConditionExpression: 'attribute_exists(ecuId) AND #status = :active AND vin = :vin',
          ExpressionAttributeNames: { '#status': 'status' },
          ExpressionAttributeValues: {
            ':certificateId': record.certificateId,
            ':thingName': record.thingName,
            ':updatedAt': record.updatedAt,
            ':active': 'ACTIVE',
            ':vin': vin,
          },
          // The certificate the row named before this write: the thing's previous certificates
          // are listed (and retired) only when there was one.
          ReturnValues: 'UPDATED_OLD',
        }),
      );
      const previous = out.Attributes?.certificateId;
      return { recorded: true, previousCertificateId: typeof previous === 'string' ? previous : undefined };
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return { recorded: false };
      throw error;
    }
  }
}

import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { type DynamoDBDocumentClient, GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { EcuRecord, EcuRegistry, IssuedCertificateRecord } from '../ports.js';
import { callDynamoDb } from './dynamodb-call.js';

/** The ECU registry table (docs/architecture.md §3), pk `ecuId`. */
export class DynamoDbEcuRegistry implements EcuRegistry {
  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tableName: string,
    private readonly retryAfterSeconds = 2,
  ) {}

  async get(ecuId: string): Promise<EcuRecord | undefined> {
    const out = await this.call(() =>
      this.client.send(
        new GetCommand({
          TableName: this.tableName,
          Key: { ecuId },
          ConsistentRead: true,
          ProjectionExpression: 'ecuId, vin, #role, #status, thingName, attestationIssuerKeySha256',
          ExpressionAttributeNames: { '#role': 'role', '#status': 'status' },
        }),
      ),
    );
    const item = out.Item;
    if (!item) return undefined;
    const text = (key: string): string => (typeof item[key] === 'string' ? (item[key] as string) : '');
    return {
      ecuId: text('ecuId'),
      vin: text('vin'),
      role: text('role'),
      status: text('status'),
      thingName: typeof item.thingName === 'string' ? item.thingName : undefined,
      attestationIssuerKeySha256:
        typeof item.attestationIssuerKeySha256 === 'string' ? item.attestationIssuerKeySha256 : undefined,
    };
  }

  async recordIssued(
    ecuId: string,
    expected: { readonly vin: string; readonly attestationIssuerKeySha256: string },
    record: IssuedCertificateRecord,
  ): Promise<boolean> {
    try {
      await this.call(() =>
        this.client.send(
          new UpdateCommand({
            TableName: this.tableName,
            Key: { ecuId },
            UpdateExpression:
              'SET thingName = :thingName, certificateSerial = :serial, certificateNotAfter = :notAfter, updatedAt = :updatedAt',
            ConditionExpression:
              'attribute_exists(ecuId) AND #status = :active AND vin = :vin AND attestationIssuerKeySha256 = :issuer',
            ExpressionAttributeNames: { '#status': 'status' },
            ExpressionAttributeValues: {
              ':thingName': record.thingName,
              ':serial': record.certificateSerial,
              ':notAfter': record.certificateNotAfter,
              ':updatedAt': record.updatedAt,
              ':active': 'ACTIVE',
              ':vin': expected.vin,
              ':issuer': expected.attestationIssuerKeySha256,
            },
          }),
        ),
      );
      return true;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return false;
      throw error;
    }
  }

  private call<T>(fn: () => Promise<T>): Promise<T> {
    return callDynamoDb(fn, this.retryAfterSeconds);
  }
}

import {
  type AttributeValue,
  type DynamoDBClient,
  QueryCommand,
  ScanCommand,
} from '@aws-sdk/client-dynamodb';
import type { SupplierCa, SupplierCaStatus, SupplierDirectoryPort } from '../suppliers/ports.js';

const MAX_PAGES = 100;
const text = (v: AttributeValue | undefined): string => v?.S ?? '';

export function supplierCaOf(item: Record<string, AttributeValue>): SupplierCa | undefined {
  const status = item.status?.S;
  if (status !== 'ACTIVE' && status !== 'RETIRED') return undefined;
  return {
    supplierId: text(item.supplierId),
    caKeySha256: text(item.caKeySha256),
    certificateSha256: text(item.certificateSha256),
    certificatePem: text(item.certificatePem),
    subject: text(item.subject),
    notAfter: text(item.notAfter),
    status: status as SupplierCaStatus,
    addedAt: text(item.addedAt),
    addedBy: text(item.addedBy),
    ...(item.retiredAt?.S === undefined ? {} : { retiredAt: item.retiredAt.S }),
    ...(item.retiredBy?.S === undefined ? {} : { retiredBy: item.retiredBy.S }),
  };
}

/**
 * {@link SupplierDirectoryPort} on the suppliers table (serverless/resources/admin.yml): pk `supplierId`, sk
 * `caKeySha256`, one item per attestation CA a supplier onboarded.
 */
export class DynamoDbSupplierDirectory implements SupplierDirectoryPort {
  constructor(
    protected readonly client: DynamoDBClient,
    protected readonly tableName: string,
  ) {}

  async casOf(supplierId: string): Promise<SupplierCa[]> {
    const cas: SupplierCa[] = [];
    let start: Record<string, AttributeValue> | undefined;
    for (let page = 0; page < MAX_PAGES; page++) {
      const out = await this.client.send(
        new QueryCommand({
          TableName: this.tableName,
          KeyConditionExpression: 'supplierId = :s',
          ExpressionAttributeValues: { ':s': { S: supplierId } },
          ConsistentRead: true,
          ExclusiveStartKey: start,
        }),
      );
      for (const item of out.Items ?? []) {
        const ca = supplierCaOf(item);
        if (ca !== undefined) cas.push(ca);
      }
      start = out.LastEvaluatedKey;
      if (start === undefined) break;
    }
    return cas;
  }

  async all(): Promise<SupplierCa[]> {
    const cas: SupplierCa[] = [];
    let start: Record<string, AttributeValue> | undefined;
    for (let page = 0; page < MAX_PAGES; page++) {
      const out = await this.client.send(
        new ScanCommand({ TableName: this.tableName, ConsistentRead: true, ExclusiveStartKey: start }),
      );
      for (const item of out.Items ?? []) {
        const ca = supplierCaOf(item);
        if (ca !== undefined) cas.push(ca);
      }
      start = out.LastEvaluatedKey;
      if (start === undefined) break;
    }
    return cas.sort(
      (a, b) => a.supplierId.localeCompare(b.supplierId) || a.caKeySha256.localeCompare(b.caKeySha256),
    );
  }
}

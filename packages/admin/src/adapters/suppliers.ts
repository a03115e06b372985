import {
  type AttributeValue,
  ConditionalCheckFailedException,
  DeleteItemCommand,
  type DynamoDBClient,
  PutItemCommand,
  QueryCommand,
  ScanCommand,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import type {
  SupplierCa,
  SupplierCaStatus,
  SupplierDirectoryPort,
  SupplierStorePort,
} from '../suppliers/ports.js';

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

/** The lease item (no `status`, so the directory never reads it as a CA). */
const LOCK_KEY = { supplierId: { S: '~lock' }, caKeySha256: { S: '~lock' } };

async function conditional(fn: () => Promise<unknown>): Promise<boolean> {
  try {
    await fn();
    return true;
  } catch (error) {
    if (error instanceof ConditionalCheckFailedException) return false;
    throw error;
  }
}

/** {@link SupplierStorePort}: the directory plus its conditional writes and the publication lease. */
export class DynamoDbSupplierStore extends DynamoDbSupplierDirectory implements SupplierStorePort {
  addCa(ca: SupplierCa): Promise<boolean> {
    const item: Record<string, AttributeValue> = {
      supplierId: { S: ca.supplierId },
      caKeySha256: { S: ca.caKeySha256 },
      certificateSha256: { S: ca.certificateSha256 },
      certificatePem: { S: ca.certificatePem },
      subject: { S: ca.subject },
      notAfter: { S: ca.notAfter },
      status: { S: ca.status },
      addedAt: { S: ca.addedAt },
      addedBy: { S: ca.addedBy },
    };
    return conditional(() =>
      this.client.send(
        new PutItemCommand({
          TableName: this.tableName,
          Item: item,
          ConditionExpression: 'attribute_not_exists(caKeySha256)',
        }),
      ),
    );
  }

  async removeCa(supplierId: string, caKeySha256: string): Promise<void> {
    await this.client.send(
      new DeleteItemCommand({
        TableName: this.tableName,
        Key: { supplierId: { S: supplierId }, caKeySha256: { S: caKeySha256 } },
      }),
    );
  }

  async retireCas(supplierId: string, keys: readonly string[], by: string, at: string): Promise<void> {
    for (const key of keys) {
      await conditional(() =>
        this.client.send(
          new UpdateItemCommand({
            TableName: this.tableName,
            Key: { supplierId: { S: supplierId }, caKeySha256: { S: key } },
            UpdateExpression: 'SET #s = :retired, retiredAt = :at, retiredBy = :by',
            ConditionExpression: '#s = :active',
            ExpressionAttributeNames: { '#s': 'status' },
            ExpressionAttributeValues: {
              ':retired': { S: 'RETIRED' },
              ':active': { S: 'ACTIVE' },
              ':at': { S: at },
              ':by': { S: by },
            },
          }),
        ),
      );
    }
  }

  async reactivateCas(supplierId: string, keys: readonly string[]): Promise<void> {
    for (const key of keys) {
      await conditional(() =>
        this.client.send(
          new UpdateItemCommand({
            TableName: this.tableName,
            Key: { supplierId: { S: supplierId }, caKeySha256: { S: key } },
            UpdateExpression: 'SET #s = :active REMOVE retiredAt, retiredBy',
            ConditionExpression: '#s = :retired',
            ExpressionAttributeNames: { '#s': 'status' },
            ExpressionAttributeValues: { ':retired': { S: 'RETIRED' }, ':active': { S: 'ACTIVE' } },
          }),
        ),
      );
    }
  }

  lock(owner: string, until: Date): Promise<boolean> {
    return conditional(() =>
      this.client.send(
        new PutItemCommand({
          TableName: this.tableName,
          Item: { ...LOCK_KEY, owner: { S: owner }, expiresAt: { N: String(until.getTime()) } },
          ConditionExpression: 'attribute_not_exists(caKeySha256) OR expiresAt < :now',
          ExpressionAttributeValues: { ':now': { N: String(Date.now()) } },
        }),
      ),
    );
  }

  async unlock(owner: string): Promise<void> {
    await conditional(() =>
      this.client.send(
        new DeleteItemCommand({
          TableName: this.tableName,
          Key: LOCK_KEY,
          ConditionExpression: '#o = :owner',
          ExpressionAttributeNames: { '#o': 'owner' },
          ExpressionAttributeValues: { ':owner': { S: owner } },
        }),
      ),
    );
  }
}

import {
  type AttributeValue,
  BatchGetItemCommand,
  type BatchGetItemCommandOutput,
  ConditionalCheckFailedException,
  type DynamoDBClient,
  PutItemCommand,
} from '@aws-sdk/client-dynamodb';
import { ThrottledError } from '../errors.js';
import type {
  ExistingBinding,
  ImportProvenance,
  ManifestRegistryRow,
  RegistryImportPort,
} from '../manifests/ports.js';
import { type Backoff, retryUnprocessed } from '../retry.js';

/** DynamoDB's throttling errors (table or account throughput, request rate), once the SDK's own retries are spent. */
const THROTTLING = new Set([
  'ProvisionedThroughputExceededException',
  'ThrottlingException',
  'RequestLimitExceeded',
]);
const isThrottling = (error: unknown) => error instanceof Error && THROTTLING.has(error.name);

const text = (v: AttributeValue | undefined): string | undefined => v?.S;

/**
 * {@link RegistryImportPort} on the ECU registry table (pk `ecuId`): BatchGetItem (consistent reads, unprocessed
 * keys retried with jittered exponential backoff) and a PutItem conditional on `attribute_not_exists(ecuId)` per new
 * row (a throttled put is raised as {@link ThrottledError}: the import backs off and narrows its concurrency).
 * BatchWriteItem is not used on purpose: it cannot carry a condition, so of two importers racing on one ECU id
 * the second would overwrite the first's binding.
 */
export class DynamoDbRegistryImport implements RegistryImportPort {
  constructor(
    private readonly client: DynamoDBClient,
    private readonly tableName: string,
    private readonly backoff: Backoff = {},
  ) {}

  async getMany(ecuIds: readonly string[]): Promise<Map<string, ExistingBinding>> {
    const found = new Map<string, ExistingBinding>();
    const keys = [...new Set(ecuIds)].map(
      (ecuId): Record<string, AttributeValue> => ({ ecuId: { S: ecuId } }),
    );
    await retryUnprocessed(
      keys,
      async (pending) => {
        let out: BatchGetItemCommandOutput;
        try {
          out = await this.client.send(
            new BatchGetItemCommand({
              RequestItems: {
                [this.tableName]: {
                  Keys: [...pending],
                  ConsistentRead: true,
                  ProjectionExpression:
                    'ecuId, vin, #role, #status, supplierId, attestationIssuerKeySha256, attestationCertificateSha256, manifestSha256',
                  ExpressionAttributeNames: { '#role': 'role', '#status': 'status' },
                },
              },
            }),
          );
        } catch (error) {
          // Throttled as a whole: every key is still pending, retried after the backoff.
          if (isThrottling(error)) return pending;
          throw error;
        }
        for (const item of out.Responses?.[this.tableName] ?? []) {
          const ecuId = text(item.ecuId);
          if (ecuId === undefined) continue;
          found.set(ecuId, {
            ecuId,
            vin: text(item.vin) ?? '',
            role: text(item.role) ?? '',
            status: text(item.status) ?? '',
            supplierId: text(item.supplierId),
            attestationIssuerKeySha256: text(item.attestationIssuerKeySha256),
            attestationCertificateSha256: text(item.attestationCertificateSha256),
            manifestSha256: text(item.manifestSha256),
          });
        }
        return out.UnprocessedKeys?.[this.tableName]?.Keys ?? [];
      },
      this.backoff,
    );
    return found;
  }

  async putIfAbsent(row: ManifestRegistryRow, provenance: ImportProvenance): Promise<boolean> {
    const item: Record<string, AttributeValue> = {
      ecuId: { S: row.ecuId },
      vin: { S: row.vin },
      role: { S: row.role },
      status: { S: 'ACTIVE' },
      supplierId: { S: row.supplierId },
      attestationIssuerKeySha256: { S: row.attestationIssuerKeySha256 },
      manifestSha256: { S: provenance.manifestSha256 },
      importedBy: { S: provenance.importedBy },
      importedAt: { S: provenance.importedAt },
      updatedAt: { S: provenance.importedAt },
    };
    if (row.attestationCertificateSha256 !== undefined) {
      item.attestationCertificateSha256 = { S: row.attestationCertificateSha256 };
    }
    try {
      await this.client.send(
        new PutItemCommand({
          TableName: this.tableName,
          Item: item,
          ConditionExpression: 'attribute_not_exists(ecuId)',
        }),
      );
      return true;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return false;
      if (isThrottling(error)) throw new ThrottledError({ cause: error });
      throw error;
    }
  }
}

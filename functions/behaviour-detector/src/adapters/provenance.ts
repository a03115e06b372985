import { type DynamoDBClient, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { type FindingProvenance, provenanceItem } from '@cv/runtime';
import type { ProvenanceWriter } from '../ports.js';

/**
 * {@link ProvenanceWriter} on the finding provenance table (pk `findingId`). The role may write only keys under
 * `cv-security/behaviour-detector/` (IAM `dynamodb:LeadingKeys`).
 */
export class DynamoProvenanceWriter implements ProvenanceWriter {
  constructor(
    private readonly client: DynamoDBClient,
    private readonly table: string,
  ) {}

  async write(record: FindingProvenance, expiresAt: number): Promise<void> {
    await this.client.send(
      new PutItemCommand({ TableName: this.table, Item: provenanceItem(record, expiresAt) }),
    );
  }
}

import { type DynamoDBClient, GetItemCommand } from '@aws-sdk/client-dynamodb';
import { type FindingProvenance, parseProvenanceItem } from '@cv/runtime';
import type { ProvenancePort } from '../ports.js';

/** {@link ProvenancePort} on the finding provenance table (pk `findingId`), read-only. */
export class DynamoProvenance implements ProvenancePort {
  constructor(
    private readonly client: DynamoDBClient,
    private readonly table: string,
  ) {}

  async recordOf(findingId: string): Promise<FindingProvenance | undefined> {
    const out = await this.client.send(
      new GetItemCommand({
        TableName: this.table,
        Key: { findingId: { S: findingId } },
        ConsistentRead: true,
      }),
    );
    return out.Item === undefined ? undefined : parseProvenanceItem(out.Item);
  }
}

import { type DynamoDBDocumentClient, PutCommand } from '@aws-sdk/lib-dynamodb';
import type { IssuedCertificateEntry, IssuedCertificateLog } from '../ports.js';

/**
 * The issued-certificates table (serverless/resources/cert-lifecycle.yml), pk `certificateId`,
 * TTL `ttl` = the certificate's notAfter. A put of the same certificate again writes the same item.
 */
export class DynamoDbIssuedCertificates implements IssuedCertificateLog {
  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async record(entry: IssuedCertificateEntry): Promise<void> {
    await this.client.send(
      new PutCommand({
        TableName: this.tableName,
        Item: {
          certificateId: entry.certificateId,
          ecuId: entry.ecuId,
          thingName: entry.thingName,
          certificatePem: entry.certificatePem,
          serialNumber: entry.serialNumber,
          notAfter: entry.notAfter,
          issuedAt: entry.issuedAt,
          ttl: Math.ceil(Date.parse(entry.notAfter) / 1000),
        },
      }),
    );
  }
}

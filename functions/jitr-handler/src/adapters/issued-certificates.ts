import { type DynamoDBDocumentClient, GetCommand } from '@aws-sdk/lib-dynamodb';
import type { IssuedCertificateRecord, IssuedCertificates } from '../ports.js';

/** cert-broker's issued-certificates table (serverless/resources/cert-lifecycle.yml), pk `certificateId`. */
export class DynamoDbIssuedCertificates implements IssuedCertificates {
  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async get(certificateId: string): Promise<IssuedCertificateRecord | undefined> {
    const out = await this.client.send(
      new GetCommand({
        TableName: this.tableName,
        Key: { certificateId },
        ConsistentRead: true,
        ProjectionExpression: 'certificateId, ecuId, thingName, certificatePem',
      }),
    );
    const item = out.Item;
    if (!item) return undefined;
    const text = (key: string): string => (typeof item[key] === 'string' ? (item[key] as string) : '');
    return {
      certificateId: text('certificateId'),
      ecuId: text('ecuId'),
      thingName: text('thingName'),
      certificatePem: text('certificatePem'),
    };
  }
}

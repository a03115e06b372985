/** The four tables of docs/architecture.md §3 and cert-broker's replay ledger, created in the local DynamoDB. */
import {
  CreateTableCommand,
  type CreateTableCommandInput,
  DynamoDBClient,
  ResourceInUseException,
} from '@aws-sdk/client-dynamodb';

export interface TableNames {
  readonly ecuRegistry: string;
  readonly vehicleAccess: string;
  readonly commands: string;
  readonly telemetry: string;
  /** cert-broker's replay ledger (pk `proofId`); created when named. */
  readonly enrolmentProofs?: string;
  /** cert-broker's issued-certificate records (pk `certificateId`), read by jitr-handler; created when named. */
  readonly issuedCertificates?: string;
  /** @cv/admin's audit trail (serverless/resources/admin.yml); created when named. */
  readonly adminAudit?: string;
  /** @cv/admin's suppliers (pk `supplierId`, sk `caKeySha256`); created when named. */
  readonly suppliers?: string;
}

export function tableDefinitions(names: TableNames): CreateTableCommandInput[] {
  const s = (n: string) => ({ AttributeName: n, AttributeType: 'S' as const });
  return [
    {
      TableName: names.ecuRegistry,
      BillingMode: 'PAY_PER_REQUEST',
      AttributeDefinitions: [s('ecuId'), s('vin')],
      KeySchema: [{ AttributeName: 'ecuId', KeyType: 'HASH' }],
      GlobalSecondaryIndexes: [
        {
          IndexName: 'byVin',
          KeySchema: [
            { AttributeName: 'vin', KeyType: 'HASH' },
            { AttributeName: 'ecuId', KeyType: 'RANGE' },
          ],
          Projection: { ProjectionType: 'ALL' },
        },
      ],
    },
    {
      TableName: names.vehicleAccess,
      BillingMode: 'PAY_PER_REQUEST',
      AttributeDefinitions: [s('userSub'), s('vin')],
      KeySchema: [
        { AttributeName: 'userSub', KeyType: 'HASH' },
        { AttributeName: 'vin', KeyType: 'RANGE' },
      ],
    },
    {
      TableName: names.commands,
      BillingMode: 'PAY_PER_REQUEST',
      AttributeDefinitions: [s('commandId')],
      KeySchema: [{ AttributeName: 'commandId', KeyType: 'HASH' }],
    },
    {
      TableName: names.telemetry,
      BillingMode: 'PAY_PER_REQUEST',
      AttributeDefinitions: [s('thingName'), s('sk')],
      KeySchema: [
        { AttributeName: 'thingName', KeyType: 'HASH' },
        { AttributeName: 'sk', KeyType: 'RANGE' },
      ],
    },
    ...(names.enrolmentProofs === undefined
      ? []
      : [
          {
            TableName: names.enrolmentProofs,
            BillingMode: 'PAY_PER_REQUEST' as const,
            AttributeDefinitions: [s('proofId')],
            KeySchema: [{ AttributeName: 'proofId', KeyType: 'HASH' as const }],
          },
        ]),
    ...(names.issuedCertificates === undefined
      ? []
      : [
          {
            TableName: names.issuedCertificates,
            BillingMode: 'PAY_PER_REQUEST' as const,
            AttributeDefinitions: [s('certificateId')],
            KeySchema: [{ AttributeName: 'certificateId', KeyType: 'HASH' as const }],
          },
        ]),
    ...(names.adminAudit === undefined ? [] : [adminAuditTable(names.adminAudit)]),
    ...(names.suppliers === undefined
      ? []
      : [
          {
            TableName: names.suppliers,
            BillingMode: 'PAY_PER_REQUEST' as const,
            AttributeDefinitions: [s('supplierId'), s('caKeySha256')],
            KeySchema: [
              { AttributeName: 'supplierId', KeyType: 'HASH' as const },
              { AttributeName: 'caKeySha256', KeyType: 'RANGE' as const },
            ],
          },
        ]),
  ];
}

function adminAuditTable(name: string): CreateTableCommandInput {
  const s = (n: string) => ({ AttributeName: n, AttributeType: 'S' as const });
  const index = (IndexName: string, hash: string) => ({
    IndexName,
    KeySchema: [
      { AttributeName: hash, KeyType: 'HASH' as const },
      { AttributeName: 'sk', KeyType: 'RANGE' as const },
    ],
    Projection: { ProjectionType: 'ALL' as const },
  });
  return {
    TableName: name,
    BillingMode: 'PAY_PER_REQUEST',
    AttributeDefinitions: [s('target'), s('sk'), s('day'), s('actor')],
    KeySchema: [
      { AttributeName: 'target', KeyType: 'HASH' },
      { AttributeName: 'sk', KeyType: 'RANGE' },
    ],
    GlobalSecondaryIndexes: [index('byDay', 'day'), index('byActor', 'actor')],
  };
}

/**
 * Creates the tables (existing ones are left alone).
 * @example await createTables(client, { ecuRegistry: 'reg', vehicleAccess: 'acc', commands: 'cmd', telemetry: 'tel' });
 */
export async function createTables(client: DynamoDBClient, names: TableNames): Promise<void> {
  for (const def of tableDefinitions(names)) {
    try {
      await client.send(new CreateTableCommand(def));
    } catch (error) {
      if (!(error instanceof ResourceInUseException)) throw error;
    }
  }
}

export { DynamoDBClient };

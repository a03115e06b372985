/**
 * The demo's fleet enters the platform the way an operator's does (issue 15): the manufacturer's attestation CA is
 * onboarded as a supplier (`cv-admin supplier add`: trust bundle, truststore object and domain version together) and
 * the ECUs come in as a factory manifest (`cv-admin manifest import`), not as hand-written registry items.
 */
import { ApiGatewayV2Client } from '@aws-sdk/client-apigatewayv2';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { S3Client } from '@aws-sdk/client-s3';
import { SSMClient } from '@aws-sdk/client-ssm';
import {
  AwsTrustPlaces,
  addSupplierCa,
  DynamoDbAuditLog,
  DynamoDbRegistryImport,
  DynamoDbSupplierStore,
  importManifest,
} from '@cv/admin';
import type { LocalCloud } from '@cv/local-cloud';

const SUPPLIER = 'local-manufacturer';
/** The local stage's truststore object (the stack's `TruststoreBucket`, `attestation-cas.pem`). */
export const TRUSTSTORE = { bucket: 'cv-security-local-truststore', key: 'attestation-cas.pem' };

/** As the stack leaves a stage: the truststore object written once and the mTLS domain pinned to its version. */
export function seedTruststore(cloud: LocalCloud, stage: string, bundle: string): void {
  cloud.s3.createBucket(TRUSTSTORE.bucket);
  const version = cloud.s3.putObject(TRUSTSTORE.bucket, TRUSTSTORE.key, Buffer.from(bundle));
  cloud.apigateway.createDomainName(`certs.${stage}.cv.example.com`, {
    uri: `s3://${TRUSTSTORE.bucket}/${TRUSTSTORE.key}`,
    version,
  });
}

/** Onboards the manufacturer CA and imports one manifest row per ECU; throws unless every row is written or unchanged. */
export async function provisionFleet(options: {
  cloud: LocalCloud;
  ddb: DynamoDBClient;
  stage: string;
  account: string;
  tables: { ecuRegistry: string; adminAudit: string; suppliers: string };
  trustParameter: string;
  manufacturerCaPem: string;
  ecus: readonly { ecuId: string; vin: string; role: string }[];
}): Promise<{ written: number; unchanged: number }> {
  const { cloud, ddb } = options;
  const common = {
    audit: new DynamoDbAuditLog(ddb, options.tables.adminAudit),
    caller: { whoAmI: async () => `arn:aws:iam::${options.account}:user/fleet-demo` },
    clock: { now: () => new Date() },
  };
  const suppliers = new DynamoDbSupplierStore(ddb, options.tables.suppliers);
  await addSupplierCa(
    { supplierId: SUPPLIER, certificatePem: options.manufacturerCaPem },
    {
      ...common,
      supplierStore: suppliers,
      trustPlaces: new AwsTrustPlaces(
        {
          ssm: new SSMClient(cloud.clientConfig()),
          s3: new S3Client(cloud.clientConfig()),
          apigateway: new ApiGatewayV2Client(cloud.clientConfig()),
        },
        { bundleParameter: options.trustParameter, domainName: `certs.${options.stage}.cv.example.com` },
      ),
    },
  );
  const manifest = Buffer.from(
    options.ecus.map((e) => `${JSON.stringify({ ...e, supplier: SUPPLIER })}\n`).join(''),
  );
  const report = await importManifest(
    {
      source: {
        name: 'fleet.jsonl',
        size: manifest.length,
        async *open(start = 0) {
          yield manifest.subarray(start);
        },
      },
    },
    {
      ...common,
      registryImport: new DynamoDbRegistryImport(ddb, options.tables.ecuRegistry),
      suppliers,
      checkpoints: { load: async () => undefined, save: async () => undefined, clear: async () => undefined },
    },
  );
  if (report.refused > 0) throw new Error(`manifest import refused ${report.refused} rows`);
  return { written: report.written, unchanged: report.unchanged };
}

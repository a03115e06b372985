import { ACMPCAClient } from '@aws-sdk/client-acm-pca';
import { ApiGatewayV2Client } from '@aws-sdk/client-apigatewayv2';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { IoTClient } from '@aws-sdk/client-iot';
import { S3Client } from '@aws-sdk/client-s3';
import { SSMClient } from '@aws-sdk/client-ssm';
import { STSClient } from '@aws-sdk/client-sts';
import { DynamoDbVehicleAccess } from './adapters/access.js';
import { DynamoDbAuditLog } from './adapters/audit-log.js';
import { StsCaller } from './adapters/caller.js';
import { IotQuarantine } from './adapters/iot.js';
import { IotEcuDevices } from './adapters/lifecycle-iot.js';
import { DynamoDbLifecycleRegistry } from './adapters/lifecycle-registry.js';
import { PrivateCaRevoker } from './adapters/pca.js';
import { DynamoDbEcuRegistry } from './adapters/registry.js';
import { DynamoDbRegistryImport } from './adapters/registry-import.js';
import { DynamoDbSupplierStore } from './adapters/suppliers.js';
import { AwsTrustPlaces } from './adapters/trust-places.js';
import type { AdminDeps } from './cli.js';
import type { AdminConfig } from './config.js';

/**
 * The AWS adapters for one configuration. Credentials, and `AWS_ENDPOINT_URL` for the local cloud, come from the
 * SDK's default chain; retries are adaptive as in the functions.
 */
/** Where the attestation trust lives, for {@link AwsTrustPlaces}. */
export function trustNames(config: AdminConfig) {
  return {
    bundleParameter: config.trustBundleParameter,
    domainName: config.certBrokerDomain,
    truststore:
      config.truststoreBucket === undefined
        ? undefined
        : { bucket: config.truststoreBucket, key: 'attestation-cas.pem' },
  };
}

export function awsDeps(config: AdminConfig): AdminDeps {
  const client = { region: config.region, retryMode: 'adaptive', maxAttempts: 5 } as const;
  const iotClient = new IoTClient(client);
  const iot = new IotQuarantine(iotClient, config.quarantineGroup);
  const dynamodb = new DynamoDBClient(client);
  const audit = new DynamoDbAuditLog(dynamodb, config.auditTable);
  const suppliers = new DynamoDbSupplierStore(dynamodb, config.suppliersTable);
  return {
    registry: new DynamoDbEcuRegistry(dynamodb, config.registryTable),
    access: new DynamoDbVehicleAccess(dynamodb, config.vehicleAccessTable),
    lifecycle: new DynamoDbLifecycleRegistry(dynamodb, config.registryTable),
    devices: new IotEcuDevices(iotClient, config.quarantineGroup),
    ca: new PrivateCaRevoker(new ACMPCAClient(client), config.pcaCaArn),
    audit,
    auditQuery: audit,
    // The import adapts its own concurrency to throttling (AIMD, src/manifests/limit.ts): its client retries a
    // throttle twice with the SDK's backoff but does not also rate-limit itself (adaptive mode slowed a 120-row
    // import with 12 throttles to 16 s on the local cloud).
    registryImport: new DynamoDbRegistryImport(
      new DynamoDBClient({ region: config.region, retryMode: 'standard', maxAttempts: 3 }),
      config.registryTable,
    ),
    suppliers,
    supplierStore: suppliers,
    trustPlaces: new AwsTrustPlaces(
      { ssm: new SSMClient(client), s3: new S3Client(client), apigateway: new ApiGatewayV2Client(client) },
      trustNames(config),
    ),
    quarantine: iot,
    certificates: iot,
    caller: new StsCaller(new STSClient(client)),
    clock: { now: () => new Date() },
  };
}

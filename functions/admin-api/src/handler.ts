import { ACMPCAClient } from '@aws-sdk/client-acm-pca';
import { ApiGatewayV2Client } from '@aws-sdk/client-apigatewayv2';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { IoTClient } from '@aws-sdk/client-iot';
import { S3Client } from '@aws-sdk/client-s3';
import { SSMClient } from '@aws-sdk/client-ssm';
import {
  type AdminDeps,
  AwsTrustPlaces,
  DynamoDbAuditLog,
  DynamoDbEcuRegistry,
  DynamoDbLifecycleRegistry,
  DynamoDbRegistryImport,
  DynamoDbSupplierStore,
  DynamoDbVehicleAccess,
  IotEcuDevices,
  IotQuarantine,
  PrivateCaRevoker,
  trustNames,
} from '@cv/admin';
import { awsClientConfig, createLogger, createMetrics, httpHandler } from '@cv/runtime';
import type { APIGatewayProxyEvent } from 'aws-lambda';
import { dispatch } from './api.js';
import { loadConfig } from './config.js';
import { ROUTES } from './routes/index.js';
import { MAX_MANIFEST_BYTES } from './routes/manifests.js';

const config = loadConfig(process.env);
const logger = createLogger({
  serviceName: 'admin-api',
  logLevel: config.logLevel,
  persistentKeys: { stage: config.admin.stage },
});
const metrics = createMetrics({ serviceName: 'admin-api', defaultDimensions: { stage: config.admin.stage } });

const dynamodb = new DynamoDBClient(awsClientConfig());
const iot = new IoTClient(awsClientConfig());
const quarantine = new IotQuarantine(iot, config.admin.quarantineGroup);
const audit = new DynamoDbAuditLog(dynamodb, config.admin.auditTable);
const suppliers = new DynamoDbSupplierStore(dynamodb, config.admin.suppliersTable);
/** Everything but the caller, who is the SigV4 principal of each request. */
const base: Omit<AdminDeps, 'caller'> = {
  registry: new DynamoDbEcuRegistry(dynamodb, config.admin.registryTable),
  access: new DynamoDbVehicleAccess(dynamodb, config.admin.vehicleAccessTable),
  lifecycle: new DynamoDbLifecycleRegistry(dynamodb, config.admin.registryTable),
  devices: new IotEcuDevices(iot, config.admin.quarantineGroup),
  ca: new PrivateCaRevoker(new ACMPCAClient(awsClientConfig()), config.admin.pcaCaArn),
  audit,
  auditQuery: audit,
  registryImport: new DynamoDbRegistryImport(dynamodb, config.admin.registryTable),
  suppliers,
  supplierStore: suppliers,
  trustPlaces: new AwsTrustPlaces(
    {
      ssm: new SSMClient(awsClientConfig()),
      s3: new S3Client(awsClientConfig()),
      apigateway: new ApiGatewayV2Client(awsClientConfig()),
    },
    trustNames(config.admin),
  ),
  quarantine,
  certificates: quarantine,
  clock: { now: () => new Date() },
};

/**
 * The admin API (REST, AWS_IAM): the same @cv/admin use cases as the cv-admin CLI, with the request's IAM principal
 * as the actor on the audit trail. Errors: 400 invalid input, 403 no IAM caller, 404 unknown route or target,
 * 405 wrong method, 409 refused, 413 body over the route's limit, 500/503 without internals.
 */
export const handler = httpHandler<APIGatewayProxyEvent>(
  (req) => dispatch(req, ROUTES, (actor) => ({ ...base, caller: { whoAmI: async () => actor } })),
  // The largest route limit (a manifest); each route then holds the body to its own (src/route.ts).
  { logger, metrics, maxBodyBytes: MAX_MANIFEST_BYTES },
);

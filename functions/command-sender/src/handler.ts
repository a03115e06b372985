import { randomUUID } from 'node:crypto';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { IoTDataPlaneClient } from '@aws-sdk/client-iot-data-plane';
import { KMSClient } from '@aws-sdk/client-kms';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import {
  awsClientConfig,
  createLogger,
  createMetrics,
  forbidden,
  type HttpRequest,
  type HttpResult,
  httpHandler,
  MetricUnit,
  notFound,
} from '@cv/runtime';
import type { APIGatewayProxyEvent } from 'aws-lambda';
import { dynamoVehicleAccess } from './adapters/access.js';
import { dynamoCommandCounter } from './adapters/behaviour-counter.js';
import { dynamoCommandStore, dynamoRegistry } from './adapters/dynamodb.js';
import { iotPublisher } from './adapters/iot.js';
import { kmsEncrypter, kmsSigner } from './adapters/kms.js';
import { loadConfig } from './config.js';
import type { SendCommandDeps } from './ports.js';
import { parsePrincipal } from './principal.js';
import { getCommand, sendCommand } from './send-command.js';

const config = loadConfig(process.env);
const logger = createLogger({
  serviceName: 'command-sender',
  logLevel: config.logLevel,
  persistentKeys: { stage: config.stage },
});
const metrics = createMetrics({ serviceName: 'command-sender', defaultDimensions: { stage: config.stage } });

const kms = new KMSClient(awsClientConfig());
const iotData = new IoTDataPlaneClient({
  ...awsClientConfig(),
  ...(config.iotDataEndpoint ? { endpoint: `https://${config.iotDataEndpoint}` } : {}),
});
const dynamo = new DynamoDBClient(awsClientConfig());
const doc = DynamoDBDocumentClient.from(dynamo, {
  marshallOptions: { removeUndefinedValues: true },
});

const signer = kmsSigner(kms, config.signingKeyId);
const deps: SendCommandDeps = {
  registry: dynamoRegistry(doc, config.registryTable, config.registryVinIndex),
  access: dynamoVehicleAccess(doc, config.accessTable),
  store: dynamoCommandStore(doc, config.commandsTable),
  signer: signer.get,
  encrypt: kmsEncrypter(kms, config.encryptionKeyId),
  encryptionKeyId: config.encryptionKeyId,
  publisher: iotPublisher(iotData),
  ...(config.behaviourTable === undefined
    ? {}
    : {
        counter: dynamoCommandCounter(dynamo, config.behaviourTable, (error) => {
          metrics.addMetric('BehaviourCountsDropped', MetricUnit.Count, 1);
          logger.error('behaviour counter not written', { error });
        }),
      }),
  stage: config.stage,
  ttlSeconds: config.ttlSeconds,
  now: Date.now,
  newId: randomUUID,
};

/** Routes the two REST API resources; the authorizer context is parsed at the edge. */
export async function route(req: HttpRequest<APIGatewayProxyEvent>): Promise<HttpResult> {
  const principal = parsePrincipal(req.event.requestContext.authorizer);
  if (principal === undefined) throw forbidden('no_principal', 'Forbidden');
  const { resource } = req.event;
  if (req.method === 'POST' && resource === '/vehicles/{vin}/commands') {
    const result = await sendCommand(
      {
        principal,
        vin: req.pathParameters.vin,
        body: req.json(),
        idempotencyKey: req.headers['idempotency-key'],
      },
      deps,
    );
    if (!result.replayed) metrics.addMetric('CommandsPublished', MetricUnit.Count, 1);
    logger.info('command accepted', {
      commandId: result.response.commandId,
      replayed: result.replayed,
      sub: principal.sub,
    });
    return {
      statusCode: 202,
      body: result.response,
      headers: result.replayed ? { 'idempotent-replayed': 'true' } : {},
    };
  }
  if (req.method === 'GET' && resource === '/vehicles/{vin}/commands/{commandId}') {
    return {
      statusCode: 200,
      body: await getCommand(
        { principal, vin: req.pathParameters.vin, commandId: req.pathParameters.commandId },
        deps,
      ),
    };
  }
  throw notFound('route_not_found', 'Not found');
}

export const handler = httpHandler<APIGatewayProxyEvent>(route, { logger, metrics, maxBodyBytes: 4 * 1024 });

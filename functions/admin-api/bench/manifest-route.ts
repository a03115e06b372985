/**
 * Measures POST /manifests at the route's row cap: the admin API's handler (as Lambda runs it) against the local
 * cloud (dynalite, in this process), a first import of new rows then the same request again (every row read, none
 * written). The figure to hold against API Gateway's 29 seconds; dynalite is slower than DynamoDB per request.
 *
 * Run: node functions/admin-api/bench/run.mjs [--rows 10000]
 */
import { DynamoDBClient, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { createTables, LocalCloud } from '@cv/local-cloud';
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda';

const rowsArg = process.argv.indexOf('--rows');
const ROWS = rowsArg === -1 ? 10_000 : Number(process.argv[rowsArg + 1]);
const STAGE = 'bench';
const tables = {
  ecuRegistry: `cv-security-${STAGE}-ecu-registry`,
  vehicleAccess: `cv-security-${STAGE}-vehicle-access`,
  commands: `cv-security-${STAGE}-commands`,
  telemetry: `cv-security-${STAGE}-telemetry`,
  adminAudit: `cv-security-${STAGE}-admin-audit`,
  suppliers: `cv-security-${STAGE}-suppliers`,
};

const cloud = await LocalCloud.start({ region: 'eu-west-1', account: '123456789012' });
try {
  const ddb = new DynamoDBClient(cloud.clientConfig());
  await createTables(ddb, tables);
  await ddb.send(
    new PutItemCommand({
      TableName: tables.suppliers,
      Item: { supplierId: { S: 'acme' }, caKeySha256: { S: 'a1'.repeat(32) }, status: { S: 'ACTIVE' } },
    }),
  );
  Object.assign(process.env, cloud.sdkEnv(), {
    STAGE,
    LOG_LEVEL: 'SILENT',
    POWERTOOLS_METRICS_DISABLED: 'true',
  });
  const { handler } = (await import('../src/handler.js')) as unknown as {
    handler: (event: APIGatewayProxyEvent, context: Context) => Promise<APIGatewayProxyResult>;
  };
  let body = '';
  for (let i = 0; i < ROWS; i++) {
    const vin = `WVWZZZ1JZXW${String(i % 1_000_000).padStart(6, '0')}`;
    body += `{"ecuId":"API-${i}","vin":"${vin}","role":"gateway","supplier":"acme"}\n`;
  }
  const event = {
    resource: '/{proxy+}',
    path: '/manifests',
    httpMethod: 'POST',
    headers: { 'Content-Type': 'application/x-ndjson' },
    queryStringParameters: null,
    pathParameters: { proxy: 'manifests' },
    body,
    isBase64Encoded: false,
    requestContext: {
      requestId: '5f0d6c1e-4a7b-4c3d-9e8f-0a1b2c3d4e5f',
      identity: { userArn: 'arn:aws:sts::123456789012:assumed-role/cv-backoffice/bench' },
    },
  } as unknown as APIGatewayProxyEvent;
  const context = {
    functionName: `cv-security-${STAGE}-adminApi`,
    awsRequestId: 'bench',
    getRemainingTimeInMillis: () => 29_000,
  } as unknown as Context;
  console.log(
    `POST /manifests bench: ${ROWS} rows, ${Buffer.byteLength(body)} bytes, node ${process.version}`,
  );
  for (const name of ['first import (new rows)', 're-POST (all unchanged)']) {
    const started = process.hrtime.bigint();
    const res = await handler(event, context);
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    const report = JSON.parse(res.body) as Record<string, unknown>;
    console.log(
      `${name.padEnd(26)} ${res.statusCode}  ${seconds.toFixed(2)} s  ${Math.round(ROWS / seconds)} rows/s  ${JSON.stringify(
        { written: report.written, unchanged: report.unchanged, refused: report.refused },
      )}`,
    );
  }
} finally {
  await cloud.stop();
}

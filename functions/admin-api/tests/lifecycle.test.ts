/**
 * The ECU lifecycle and quarantine routes of the admin API through the handler, against the local cloud (IoT,
 * Private CA, dynalite): block, unblock, release, replace, decommission an ECU and a vehicle, each re-run unchanged.
 */
import { readFileSync } from 'node:fs';
import {
  ACMPCAClient,
  RequestAlreadyProcessedException,
  ResourceNotFoundException,
  RevokeCertificateCommand,
} from '@aws-sdk/client-acm-pca';
import { DynamoDBClient, GetItemCommand, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { createTables, generateKeyPair, issueLeaf, LocalCloud, pemOf } from '@cv/local-cloud';
import { lambdaContext } from '@cv/test-support';
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';

const STAGE = 'adminlc';
const VIN = 'WVWZZZ1JZXW000088';
const REGISTRY = `cv-security-${STAGE}-ecu-registry`;
const GROUP = `cv-security-${STAGE}-quarantine`;
let cloud: LocalCloud;
let ddb: DynamoDBClient;
let handler: (event: APIGatewayProxyEvent, context: unknown) => Promise<APIGatewayProxyResult>;
let serial = 0x2b00;

const template = JSON.parse(
  readFileSync(new URL('../../../events/admin-api/get-vehicle-access.json', import.meta.url), 'utf8'),
) as APIGatewayProxyEvent;

async function call(method: string, path: string, body?: unknown) {
  const event = {
    ...template,
    httpMethod: method,
    path,
    pathParameters: { proxy: path.slice(1) },
    body: body === undefined ? null : JSON.stringify(body),
  } as APIGatewayProxyEvent;
  const res = await handler(event, lambdaContext({ functionName: `cv-security-${STAGE}-adminApi` }));
  return { status: res.statusCode, body: JSON.parse(res.body || '{}') as Record<string, unknown> };
}

async function enrolledEcu(ecuId: string, role: string, enrolled = true) {
  const thingName = `${VIN}_${ecuId}`;
  await ddb.send(
    new PutItemCommand({
      TableName: REGISTRY,
      Item: {
        ecuId: { S: ecuId },
        vin: { S: VIN },
        role: { S: role },
        status: { S: 'ACTIVE' },
        ...(enrolled ? { thingName: { S: thingName } } : {}),
      },
    }),
  );
  if (!enrolled) return { thingName, certificateId: '' };
  cloud.iot.things.set(thingName, {
    thingName,
    thingArn: cloud.iot.arn('thing', thingName),
    thingId: crypto.randomUUID(),
    attributes: { vin: VIN, ecuId, role },
    version: 1,
  });
  const hex = (serial++).toString(16).padStart(16, '0');
  const { keys } = await generateKeyPair();
  const pem = pemOf(
    await issueLeaf(cloud.pca.issuing, {
      subject: `CN=${thingName}`,
      publicKey: keys.publicKey,
      serialNumber: hex,
    }),
  );
  cloud.pca.bySerial.set(hex.replace(/^(00)+/, ''), {
    arn: `${cloud.pca.caArn}/certificate/${hex.padStart(32, '0')}`,
    serial: hex,
    pem,
    notAfter: new Date(Date.now() + 86_400_000),
    fetched: true,
  });
  const cert = cloud.iot.registerCertificate(pem, cloud.operationalCaCertificateId, 'ACTIVE');
  cloud.iot.attachThingPrincipal(thingName, cert.certificateArn, 'EXCLUSIVE_THING');
  return { thingName, certificateId: cert.certificateId };
}
const status = async (ecuId: string) =>
  (await ddb.send(new GetItemCommand({ TableName: REGISTRY, Key: { ecuId: { S: ecuId } } }))).Item?.status?.S;

beforeAll(async () => {
  cloud = await LocalCloud.start({ region: 'eu-west-1', account: '123456789012' });
  ddb = new DynamoDBClient(cloud.clientConfig());
  await createTables(ddb, {
    ecuRegistry: REGISTRY,
    vehicleAccess: `cv-security-${STAGE}-vehicle-access`,
    commands: `cv-security-${STAGE}-commands`,
    telemetry: `cv-security-${STAGE}-telemetry`,
    adminAudit: `cv-security-${STAGE}-admin-audit`,
  });
  cloud.iot.createThingGroup(GROUP);
  // The Private CA client (an SDK version of its own) answers through the local cloud's Private CA, with the SDK's
  // exception classes; going through aws-sdk-client-mock also records the call for the IAM proof.
  // (The casts: @aws-sdk/client-acm-pca is an older SDK release than the one aws-sdk-client-mock is typed against.)
  mockClient(ACMPCAClient as never)
    .on(RevokeCertificateCommand as never)
    .callsFake(async (input: Record<string, unknown>) => {
      try {
        cloud.pca.revoke(input);
      } catch (error) {
        const name = error instanceof Error ? error.name : '';
        const message = error instanceof Error ? error.message : 'failed';
        if (name === 'RequestAlreadyProcessedException')
          throw new RequestAlreadyProcessedException({ message, $metadata: {} });
        if (name === 'ResourceNotFoundException')
          throw new ResourceNotFoundException({ message, $metadata: {} });
        throw error;
      }
      return {};
    });
  for (const [k, v] of Object.entries({
    ...cloud.sdkEnv(),
    STAGE,
    PCA_CA_ARN: cloud.pca.caArn,
    // As the template sets them (serverless/functions/admin-api.yml), so the recorded calls map to the deployed names.
    ECU_REGISTRY_TABLE: REGISTRY,
    VEHICLE_ACCESS_TABLE: `cv-security-${STAGE}-vehicle-access`,
    ADMIN_AUDIT_TABLE: `cv-security-${STAGE}-admin-audit`,
    QUARANTINE_THING_GROUP: GROUP,
    LOG_LEVEL: 'SILENT',
    POWERTOOLS_METRICS_DISABLED: 'true',
  }))
    vi.stubEnv(k, v);
  ({ handler } = (await import('../src/handler.js')) as unknown as { handler: typeof handler });
});
afterAll(async () => {
  vi.unstubAllEnvs();
  await cloud?.stop();
});

describe('admin API: ECU lifecycle routes', () => {
  it('block, unblock, quarantine release: the same use cases and outcomes as cv-admin', async () => {
    const ecu = await enrolledEcu('TCU-A1', 'telematics');
    expect((await call('POST', '/ecus/TCU-A1/block', { reason: 'INC-1' })).body).toMatchObject({
      outcome: 'blocked',
      quarantined: true,
    });
    expect(await status('TCU-A1')).toBe('BLOCKED');
    expect((await call('POST', '/ecus/TCU-A1/block')).body).toMatchObject({ outcome: 'unchanged' });
    expect((await call('POST', '/ecus/TCU-A1/unblock')).body).toMatchObject({
      outcome: 'unblocked',
      quarantined: true,
    });
    const released = await call('POST', `/things/${ecu.thingName}/quarantine-release`, {
      reason: 'INC-1 closed',
    });
    expect(released.status).toBe(200);
    expect(released.body).toMatchObject({ outcome: 'released' });
    expect(cloud.iot.thingGroups.get(GROUP)?.things.has(ecu.thingName)).toBe(false);
  });

  it('replace then decommission the vehicle: certificates REVOKED, things deleted, rows DECOMMISSIONED; re-runs unchanged', async () => {
    const gw = await enrolledEcu('GW-A1', 'gateway');
    await enrolledEcu('GW-A2', 'gateway', false);
    const replaced = await call('POST', `/vehicles/${VIN}/ecus/GW-A1/replace`, { newEcuId: 'GW-A2' });
    expect(replaced.status).toBe(200);
    expect(replaced.body).toMatchObject({ outcome: 'replaced', replacement: 'GW-A2' });
    expect(cloud.iot.things.has(gw.thingName)).toBe(false);
    expect(cloud.iot.certificates.get(gw.certificateId)?.status).toBe('REVOKED');

    const other = await enrolledEcu('TCU-A3', 'telematics');
    expect((await call('POST', '/ecus/TCU-A3/decommission', { reason: 'scrapped' })).body).toMatchObject({
      outcome: 'decommissioned',
    });
    expect(cloud.iot.certificates.get(other.certificateId)?.status).toBe('REVOKED');
    const vehicle = await call('POST', `/vehicles/${VIN}/decommission`, { reason: 'end of life' });
    expect(vehicle.status).toBe(200);
    for (const id of ['TCU-A1', 'GW-A1', 'GW-A2', 'TCU-A3']) expect(await status(id)).toBe('DECOMMISSIONED');
    expect((await call('POST', `/vehicles/${VIN}/decommission`)).body).toMatchObject({
      outcome: 'unchanged',
    });
  });

  it("refusals and unknown ECUs: 409 and 404 with the use case's code", async () => {
    expect(await call('POST', '/ecus/NOPE-1/block')).toMatchObject({
      status: 404,
      body: { error: 'not_found' },
    });
    expect(await call('POST', '/ecus/TCU-A1/unblock')).toMatchObject({
      status: 409,
      body: { error: 'ecu_decommissioned' },
    });
    expect(await call('POST', '/ecus/TCU-A1/block', { reason: 42 })).toMatchObject({
      status: 400,
      body: { error: 'invalid_input' },
    });
  });
});

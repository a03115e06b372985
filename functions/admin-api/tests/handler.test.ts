/**
 * The admin API through its Lambda handler, with API Gateway REST proxy events (the committed samples under
 * events/admin-api, varied per test) against the local cloud's DynamoDB: the same use cases, validation and errors
 * as the cv-admin CLI, the SigV4 principal as the audit trail's actor, errors mapped to HTTP statuses without
 * internals.
 */
import { readFileSync } from 'node:fs';
import { DynamoDBClient, GetItemCommand, ScanCommand } from '@aws-sdk/client-dynamodb';
import { createTables, LocalCloud } from '@cv/local-cloud';
import { lambdaContext } from '@cv/test-support';
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';

const STAGE = 'adminapi';
const VIN = '1HGCM82633A004352';
const CALLER = 'arn:aws:sts::111122223333:assumed-role/cv-backoffice/backoffice';
const ALICE = '11111111-1111-4111-8111-111111111111';
const BOB = '22222222-2222-4222-8222-222222222222';
const CAROL = '33333333-3333-4333-8333-333333333333';
const TABLES = {
  ecuRegistry: `cv-security-${STAGE}-ecu-registry`,
  vehicleAccess: `cv-security-${STAGE}-vehicle-access`,
  commands: `cv-security-${STAGE}-commands`,
  telemetry: `cv-security-${STAGE}-telemetry`,
  adminAudit: `cv-security-${STAGE}-admin-audit`,
};
let cloud: LocalCloud;
let ddb: DynamoDBClient;
let handler: (event: APIGatewayProxyEvent, context: unknown) => Promise<APIGatewayProxyResult>;

const sample = (name: string) =>
  JSON.parse(
    readFileSync(new URL(`../../../events/admin-api/${name}.json`, import.meta.url), 'utf8'),
  ) as APIGatewayProxyEvent;

function request(method: string, path: string, body?: unknown, over: Partial<APIGatewayProxyEvent> = {}) {
  const event = sample('get-vehicle-access');
  return {
    ...event,
    httpMethod: method,
    path,
    pathParameters: { proxy: path.replace(/^\//, '') },
    body: body === undefined ? null : typeof body === 'string' ? body : JSON.stringify(body),
    ...over,
  } as APIGatewayProxyEvent;
}

async function call(event: APIGatewayProxyEvent) {
  const res = await handler(event, lambdaContext({ functionName: `cv-security-${STAGE}-adminApi` }));
  return {
    status: res.statusCode,
    body: JSON.parse(res.body || '{}') as Record<string, unknown>,
    raw: res.body,
  };
}

async function accessRow(userSub: string, vin = VIN) {
  const out = await ddb.send(
    new GetItemCommand({
      TableName: TABLES.vehicleAccess,
      Key: { userSub: { S: userSub }, vin: { S: vin } },
    }),
  );
  return out.Item;
}

async function auditActors(): Promise<string[]> {
  const out = await ddb.send(new ScanCommand({ TableName: TABLES.adminAudit }));
  return (out.Items ?? []).map((i) => i.actor?.S ?? '');
}

beforeAll(async () => {
  cloud = await LocalCloud.start({ region: 'eu-west-1', account: '111122223333' });
  ddb = new DynamoDBClient(cloud.clientConfig());
  await createTables(ddb, TABLES);
  for (const [k, v] of Object.entries({
    ...cloud.sdkEnv(),
    STAGE,
    // As the template sets them (serverless/functions/admin-api.yml), so the recorded calls map to the deployed names.
    ECU_REGISTRY_TABLE: TABLES.ecuRegistry,
    VEHICLE_ACCESS_TABLE: TABLES.vehicleAccess,
    ADMIN_AUDIT_TABLE: TABLES.adminAudit,
    QUARANTINE_THING_GROUP: `cv-security-${STAGE}-quarantine`,
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

describe('admin API handler', () => {
  it("grant (PUT), list (GET), transfer (POST), revoke (DELETE): the CLI's use cases, the SigV4 caller on the audit trail", async () => {
    const grant = await call(request('PUT', `/vehicles/${VIN}/access/${ALICE}`, { role: 'owner' }));
    expect(grant.status).toBe(200);
    expect(grant.body).toMatchObject({
      outcome: 'granted',
      grant: { userSub: ALICE, vin: VIN, role: 'owner' },
    });
    expect((await accessRow(ALICE))?.grantedBy).toEqual({ S: CALLER });

    const list = await call(request('GET', `/vehicles/${VIN}/access`));
    expect(list.body).toMatchObject({ owner: ALICE, grants: [{ userSub: ALICE }] });

    const sold = await call(request('POST', `/vehicles/${VIN}/transfer`, { from: ALICE, to: BOB }));
    expect(sold.status).toBe(200);
    expect(sold.body).toMatchObject({ outcome: 'transferred', owner: BOB, revoked: [ALICE] });
    expect(await accessRow(ALICE)).toBeUndefined();

    const mine = await call(
      request('GET', `/users/${BOB}/access`, undefined, { queryStringParameters: { limit: '10' } }),
    );
    expect(mine.body).toMatchObject({ grants: [{ vin: VIN, role: 'owner' }] });

    const revoke = await call(request('DELETE', `/vehicles/${VIN}/access/${BOB}`));
    expect(revoke.body).toMatchObject({ outcome: 'revoked' });
    expect(await accessRow(BOB)).toBeUndefined();
    expect(new Set(await auditActors())).toEqual(new Set([CALLER]));

    // The trail, read back through the API: by target, by actor, by time window.
    const byTarget = await call(
      request('GET', '/audit', undefined, { queryStringParameters: { target: `vehicle:${VIN}` } }),
    );
    expect(byTarget.status).toBe(200);
    const byActor = await call(
      request('GET', '/audit', undefined, { queryStringParameters: { actor: CALLER } }),
    );
    expect(byActor.status).toBe(200);
    const byDay = await call(request('GET', '/audit'));
    expect(byDay.status).toBe(200);
    for (const res of [byTarget, byActor, byDay])
      expect(JSON.stringify(res.body)).toContain('access.transfer');
  });

  it('GET /audit: the trail by time, by actor and by target, as `cv-admin audit list`; a bad window is 400', async () => {
    await call(
      request('PUT', `/vehicles/${VIN}/access/${CAROL}`, {
        role: 'driver',
        validUntil: new Date(Date.now() + 86_400_000).toISOString(),
      }),
    );

    const byTime = await call(request('GET', '/audit', undefined, { queryStringParameters: { limit: '5' } }));
    const entries = byTime.body.entries as { target: string; actor: string }[];
    const byActor = await call(
      request('GET', '/audit', undefined, { queryStringParameters: { actor: CALLER } }),
    );
    const target = entries[0]?.target ?? '';
    const byTarget = await call(request('GET', '/audit', undefined, { queryStringParameters: { target } }));
    const bad = await call(
      request('GET', '/audit', undefined, { queryStringParameters: { since: 'yesterday' } }),
    );

    expect(byTime.status).toBe(200);
    expect(entries.length).toBeGreaterThan(0);
    expect(entries.every((e) => e.actor === CALLER)).toBe(true);
    expect((byActor.body.entries as unknown[]).length).toBeGreaterThan(0);
    expect((byTarget.body.entries as { target: string }[]).every((e) => e.target === target)).toBe(true);
    expect([bad.status, bad.body.error]).toEqual([400, 'invalid_input']);
  });

  it('the committed samples: a listing (200) and a driver without an expiry (400, nothing written)', async () => {
    expect((await call(sample('get-vehicle-access'))).status).toBe(200);
    const refused = await call(sample('put-driver-without-expiry'));
    expect(refused.status).toBe(400);
    expect(refused.body).toEqual({
      error: 'invalid_input',
      message: 'a driver needs an expiry (validUntil)',
    });
    expect(await accessRow('7d0c3b9e-5f1a-4e2b-8c4d-9a8b7c6d5e4f')).toBeUndefined();
  });

  it("errors map to statuses with the use case's code and no internals: 400, 404, 405, 409", async () => {
    await call(request('PUT', `/vehicles/${VIN}/access/${ALICE}`, { role: 'owner' }));
    const cases: Array<[APIGatewayProxyEvent, number, string]> = [
      [request('PUT', `/vehicles/${VIN}/access/${BOB}`, { role: 'owner' }), 409, 'vehicle_has_owner'],
      [request('POST', `/vehicles/${VIN}/transfer`, { from: BOB, to: CAROL }), 409, 'not_the_owner'],
      [
        request('PUT', `/vehicles/${VIN.toLowerCase()}/access/${BOB}`, { role: 'owner' }),
        400,
        'invalid_input',
      ],
      [request('PUT', `/vehicles/${VIN}/access/${BOB}`, '{not json'), 400, 'invalid_json'],
      [request('PUT', `/vehicles/${VIN}/access/${BOB}`, [1, 2]), 400, 'invalid_input'],
      [request('GET', `/vehicles/${VIN}/access/../../users`), 404, 'route_not_found'],
      [request('GET', `/vehicles/${VIN}%2Faccess`), 404, 'route_not_found'],
      [request('GET', '/suppliers-that-do-not-exist'), 404, 'route_not_found'],
      [request('PATCH', `/vehicles/${VIN}/access/${BOB}`), 405, 'method_not_allowed'],
      [request('POST', '/things/not-a-thing/quarantine-release', {}), 400, 'invalid_input'],
      [request('POST', `/things/${VIN}_TCU-1/quarantine-release`, { reason: 7 }), 400, 'invalid_input'],
    ];
    for (const [event, status, code] of cases) {
      const res = await call(event);
      expect([res.status, res.body.error], `${event.httpMethod} ${event.path}`).toEqual([status, code]);
      expect(res.raw).not.toMatch(/stack|at \/|node_modules|dynamodb|Exception/i);
    }
  });

  it('no SigV4 principal in the request context (not through the IAM-authorised API): 403, nothing run', async () => {
    for (const userArn of [null, '', 'anonymous', 'arn:aws:iam::evil', `${CALLER}\nforged`]) {
      const event = request('PUT', `/vehicles/${VIN}/access/${BOB}`, {
        role: 'driver',
        validUntil: '2099-01-01T00:00:00Z',
      });
      const withoutCaller = {
        ...event,
        requestContext: { ...event.requestContext, identity: { ...event.requestContext.identity, userArn } },
      } as APIGatewayProxyEvent;
      expect((await call(withoutCaller)).status).toBe(403);
    }
    expect(await accessRow(BOB)).toBeUndefined();
  });

  it('a storage failure (DynamoDB unreachable) is a 5xx with a generic body', async () => {
    const broken = { ...request('GET', `/vehicles/${VIN}/access`) };
    await cloud.stop();
    try {
      const res = await call(broken);
      expect(res.status).toBeGreaterThanOrEqual(500);
      expect(res.body).toMatchObject({ error: expect.stringMatching(/^(internal|service_unavailable)$/) });
      expect(res.raw).not.toMatch(/ECONNREFUSED|127\.0\.0\.1|dynamodb/i);
    } finally {
      cloud = await LocalCloud.start({ region: 'eu-west-1', account: '111122223333' });
    }
  });
});

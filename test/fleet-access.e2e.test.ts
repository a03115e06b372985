/**
 * Fleet operators at scale and revocation, end to end through the cached path (issue 15): the real
 * command-authorizer and command-sender handlers against the local cloud, behind a REST API gateway that caches
 * decisions with the identity sources and TTL of serverless/functions/commands.yml (test/support/rest-api-gateway.ts).
 * Access is granted, revoked and transferred with the @cv/admin use cases. Real JWTs (jose), real KMS signing and
 * encryption (the local cloud's keys), publishes counted at the local IoT data plane.
 */
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { BatchWriteItemCommand, DynamoDBClient, PutItemCommand } from '@aws-sdk/client-dynamodb';
import {
  type AccessDeps,
  type AdminAuditEntry,
  DynamoDbVehicleAccess,
  grantAccess,
  revokeAccess,
  transferOwnership,
} from '@cv/admin';
import { functionEnv, startSeededCloud } from '@cv/demo';
import type { LocalCloud } from '@cv/local-cloud';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { commandAuthorizerConfig, type GatewayConfig, RestApiGateway } from './support/rest-api-gateway.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const FLEET = 10_000;
const OPERATOR = 'arn:aws:iam::123456789012:user/fleet-desk';
let cloud: LocalCloud;
let ddb: DynamoDBClient;
let env: Record<string, string>;
let authorizer: { handler: unknown; verifier: { cacheJwks(jwks: unknown): void } };
let sender: { handler: unknown };
let sign: (sub: string) => Promise<string>;
const trail: AdminAuditEntry[] = [];
let admin: AccessDeps;
const templates = {
  authorizer: JSON.parse(
    readFileSync(join(root, 'events/command-authorizer/request.json'), 'utf8'),
  ) as Record<string, unknown>,
  backend: JSON.parse(readFileSync(join(root, 'events/command-sender/post-command.json'), 'utf8')) as Record<
    string,
    unknown
  >,
};
const ctx = {
  functionName: 'local',
  awsRequestId: randomUUID(),
  invokedFunctionArn: 'arn:aws:lambda:eu-west-1:123456789012:function:cv-security-local-e2e',
  getRemainingTimeInMillis: () => 10_000,
} as never;
const invoke = async (fn: unknown, event: unknown) =>
  (fn as (e: unknown, c: unknown) => Promise<unknown>)(event, ctx);

const fleetVin = (i: number) => `WVWZZZ1JZXW${String(300000 + i).padStart(6, '0')}`;
const gatewayFor = (config: GatewayConfig = commandAuthorizerConfig(root)) =>
  new RestApiGateway(config, authorizer.handler, sender.handler, invoke, templates);

async function withGatewayEcu(vin: string): Promise<void> {
  await ddb.send(
    new PutItemCommand({
      TableName: env.ECU_REGISTRY_TABLE,
      Item: {
        ecuId: { S: `GW-${vin.slice(-6)}` },
        vin: { S: vin },
        role: { S: 'gateway' },
        status: { S: 'ACTIVE' },
        thingName: { S: `${vin}_GW-${vin.slice(-6)}` },
      },
    }),
  );
}

function post(gateway: RestApiGateway, token: string, vin: string) {
  return gateway.request({
    method: 'POST',
    path: `/vehicles/${vin}/commands`,
    resource: '/vehicles/{vin}/commands',
    pathParameters: { vin },
    headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' },
    body: JSON.stringify({ command: 'door.lock' }),
  });
}

beforeAll(async () => {
  ({ cloud } = await startSeededCloud());
  env = functionEnv(cloud);
  Object.assign(process.env, env);
  ddb = new DynamoDBClient(cloud.clientConfig());
  authorizer = (await import(
    '../functions/command-authorizer/src/handler.js'
  )) as unknown as typeof authorizer;
  sender = (await import('../functions/command-sender/src/handler.js')) as unknown as typeof sender;
  const { privateKey, publicKey } = await generateKeyPair('RS256');
  authorizer.verifier.cacheJwks({
    keys: [{ ...(await exportJWK(publicKey)), kid: 'e2e-1', alg: 'RS256', use: 'sig' }],
  });
  sign = (sub) =>
    new SignJWT({ token_use: 'access', client_id: env.COGNITO_CLIENT_IDS, scope: env.COMMAND_SCOPE })
      .setProtectedHeader({ alg: 'RS256', kid: 'e2e-1' })
      .setIssuer(`https://cognito-idp.eu-west-1.amazonaws.com/${env.COGNITO_USER_POOL_ID}`)
      .setSubject(sub)
      .setIssuedAt()
      .setExpirationTime('15m')
      .setJti(randomUUID())
      .sign(privateKey);
  admin = {
    access: new DynamoDbVehicleAccess(ddb, String(env.VEHICLE_ACCESS_TABLE)),
    audit: { record: async (entry) => void trail.push(entry) },
    caller: { whoAmI: async () => OPERATOR },
    clock: { now: () => new Date() },
  };
}, 120_000);
afterAll(async () => {
  await cloud?.stop();
});

describe('fleet operator with 10,000 vehicles', () => {
  it('commands vehicle 1, 26 and 10,000 through the gateway; vehicle 10,001 (not theirs) is 403 and nothing is published', async () => {
    const operatorSub = randomUUID();
    const rows = Array.from({ length: FLEET }, (_, i) => ({
      PutRequest: {
        Item: {
          userSub: { S: operatorSub },
          vin: { S: fleetVin(i + 1) },
          kind: { S: 'access' },
          role: { S: 'fleet-operator' },
          commands: { L: [{ S: 'door.lock' }, { S: 'locate' }] },
        },
      },
    }));
    for (let i = 0; i < rows.length; i += 25) {
      await ddb.send(
        new BatchWriteItemCommand({
          RequestItems: { [String(env.VEHICLE_ACCESS_TABLE)]: rows.slice(i, i + 25) },
        }),
      );
    }
    for (const i of [1, 26, FLEET, FLEET + 1]) await withGatewayEcu(fleetVin(i));
    const token = await sign(operatorSub);
    const gateway = gatewayFor();
    const published = cloud.published.length;

    for (const i of [1, 26, FLEET]) {
      const res = await post(gateway, token, fleetVin(i));
      expect(res.statusCode, `vehicle ${i}: ${res.body}`).toBe(202);
    }
    expect(cloud.published.length - published).toBe(3);
    expect(cloud.published.slice(-3).map((m) => m.topic)).toEqual(
      [1, 26, FLEET].map((i) => `ecus/${fleetVin(i)}_GW-${fleetVin(i).slice(-6)}/commands`),
    );
    const denied = await post(gateway, token, fleetVin(FLEET + 1));
    expect(denied.statusCode).toBe(403);
    expect(cloud.published.length - published).toBe(3);
    expect(gateway.authorizerCalls).toBe(4);
  });

  it('one decision reads one vehicle-access item, however many vehicles the user has, and its policy names one vehicle', async () => {
    const operatorSub = randomUUID();
    const rows = Array.from({ length: 500 }, (_, i) => ({
      PutRequest: {
        Item: {
          userSub: { S: operatorSub },
          vin: { S: fleetVin(i + 1) },
          role: { S: 'fleet-operator' },
          commands: { L: [{ S: '*' }] },
        },
      },
    }));
    for (let i = 0; i < rows.length; i += 25) {
      await ddb.send(
        new BatchWriteItemCommand({
          RequestItems: { [String(env.VEHICLE_ACCESS_TABLE)]: rows.slice(i, i + 25) },
        }),
      );
    }
    const token = await sign(operatorSub);
    const reads = () => ({
      get: cloud.requests.get('dynamodb:GetItem') ?? 0,
      query: cloud.requests.get('dynamodb:Query') ?? 0,
    });
    const before = reads();
    const event = {
      ...structuredClone(templates.authorizer),
      methodArn: `arn:aws:execute-api:eu-west-1:123456789012:r1e2s3t4u5/local/POST/vehicles/${fleetVin(500)}/commands`,
      headers: { Authorization: `Bearer ${token}` },
      multiValueHeaders: { Authorization: [`Bearer ${token}`] },
      pathParameters: { vin: fleetVin(500) },
    };
    const decision = (await invoke(authorizer.handler, event)) as {
      policyDocument: { Statement: { Resource: string[] }[] };
    };
    const after = reads();
    expect(after.get - before.get).toBe(1);
    expect(after.query - before.query).toBe(0);
    expect(decision.policyDocument.Statement.flatMap((s) => s.Resource)).toHaveLength(2);
    expect(JSON.stringify(decision).length).toBeLessThan(1_024);
  });
});

describe('revocation and transfer through the cached path', () => {
  it('revoked: the next command, served from the cached Allow without calling the authorizer, is 403 and nothing is published or stored', async () => {
    const vin = fleetVin(20_001);
    const user = randomUUID();
    await withGatewayEcu(vin);
    await grantAccess({ vin, userSub: user, role: 'owner' }, admin);
    const token = await sign(user);
    const gateway = gatewayFor();

    expect((await post(gateway, token, vin)).statusCode).toBe(202);
    expect(gateway.authorizerCalls).toBe(1);
    await revokeAccess({ vin, userSub: user }, admin);
    const published = cloud.published.length;
    const puts = cloud.requests.get('dynamodb:PutItem') ?? 0;

    const after = await post(gateway, token, vin);

    expect(gateway.authorizerCalls).toBe(1); // the cached decision was used
    expect(after.statusCode).toBe(403);
    expect(JSON.parse(after.body)).toMatchObject({ error: 'command_not_allowed' });
    expect(cloud.published.length).toBe(published);
    expect(cloud.requests.get('dynamodb:PutItem') ?? 0).toBe(puts);
  });

  it("sold: the old owner's cached decision no longer sends (403), the buyer's does (202)", async () => {
    const vin = fleetVin(20_002);
    const [seller, buyer] = [randomUUID(), randomUUID()];
    await withGatewayEcu(vin);
    await grantAccess({ vin, userSub: seller, role: 'owner' }, admin);
    const gateway = gatewayFor();
    const sellerToken = await sign(seller);
    expect((await post(gateway, sellerToken, vin)).statusCode).toBe(202);

    await transferOwnership({ vin, from: seller, to: buyer }, admin);

    const calls = gateway.authorizerCalls;
    expect((await post(gateway, sellerToken, vin)).statusCode).toBe(403);
    expect(gateway.authorizerCalls).toBe(calls);
    expect((await post(gateway, await sign(buyer), vin)).statusCode).toBe(202);
  });

  it('a cached decision is never reused for another vehicle or another user; even with a token-only cache key the policy stops it', async () => {
    const [a, b] = [fleetVin(20_003), fleetVin(20_004)];
    const [alice, mallory] = [randomUUID(), randomUUID()];
    for (const vin of [a, b]) await withGatewayEcu(vin);
    await grantAccess({ vin: a, userSub: alice, role: 'owner' }, admin);
    const aliceToken = await sign(alice);
    const published = () => cloud.published.length;

    const deployed = gatewayFor();
    expect((await post(deployed, aliceToken, a)).statusCode).toBe(202);
    const p0 = published();
    expect((await post(deployed, aliceToken, b)).statusCode).toBe(403); // its own decision: Deny
    expect((await post(deployed, await sign(mallory), a)).statusCode).toBe(403);
    expect(deployed.authorizerCalls).toBe(3);
    expect(deployed.cache.size).toBe(3);

    // Had the cache key been the token alone (the old configuration), Alice's cached decision for A is served for B:
    // its policy names only A's routes, so API Gateway refuses B.
    const tokenOnly = gatewayFor({
      identitySource: ['method.request.header.Authorization'],
      ttlSeconds: 300,
    });
    expect((await post(tokenOnly, aliceToken, a)).statusCode).toBe(202);
    expect((await post(tokenOnly, aliceToken, b)).statusCode).toBe(403);
    expect(tokenOnly.authorizerCalls).toBe(1);
    // Case and encoding variants of A's VIN are other cache keys, and the authorizer denies each.
    for (const variant of [a.toLowerCase(), `${a.slice(0, 16)}%${a.slice(16)}`, `${a}%2F..%2F${b}`]) {
      expect((await post(deployed, aliceToken, variant)).statusCode).toBe(403);
    }
    expect(published()).toBe(p0 + 1);
  });
});

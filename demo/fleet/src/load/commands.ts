/**
 * The command campaign of the load harness: an app user with a real access token sends one
 * command per vehicle through command-authorizer and command-sender (KMS Sign, encryption,
 * the IoT data plane); the vehicle's gateway ECU verifies, executes and reports the result
 * (telemetry-ingest). End-to-end latency: from the API request to the ECU executing it.
 */
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { BatchWriteItemCommand, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { EcuSimulator } from '@cv/ecu-sim';
import type { LocalCloud } from '@cv/local-cloud';
import { exportJWK, generateKeyPair as joseKeyPair, SignJWT } from 'jose';
import type { Handler, LambdaModel } from './lambda.js';
import { backoffMs, complete, type FlowMetrics, pool } from './metrics.js';

const REGION = 'eu-west-1';
const USER_POOL = `${REGION}_LocalPool1`;
const CLIENT_ID = 'localappclient0000000000001';
const SCOPE = 'cv-security/commands';

export interface Campaign {
  readonly vins: readonly string[];
  readonly commandIds: string[];
  run(flow: FlowMetrics, vins: readonly string[], concurrency: number): Promise<void>;
  onExecuted(commandId: string): void;
  /** Waits (up to a minute) for every command's result to be stored. */
  settle(): Promise<void>;
}

export async function startCampaign(input: {
  cloud: LocalCloud;
  ddb: DynamoDBClient;
  lambda: LambdaModel;
  vehicles: readonly EcuSimulator[];
  root: string;
  executedAt: ReadonlyMap<string, number>;
}): Promise<Campaign> {
  const { cloud, ddb, lambda, root, executedAt } = input;
  const authorizer = await import('../../../../functions/command-authorizer/src/handler.js');
  const sender = await import('../../../../functions/command-sender/src/handler.js');
  // Vehicles whose gateway ECU is online receive the campaign.
  const vins = [
    ...new Set(
      input.vehicles
        .filter((e) => e.thingName.includes('_GATEWAY-'))
        .map((e) => e.thingName.split('_')[0] ?? ''),
    ),
  ];
  const { privateKey, publicKey } = await joseKeyPair('RS256');
  const jwk = { ...(await exportJWK(publicKey)), kid: 'load-1', alg: 'RS256', use: 'sig' };
  cloud.routes.set(`/${USER_POOL}/.well-known/jwks.json`, (_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys: [jwk] }));
  });
  (authorizer.verifier as { cacheJwks: (j: unknown) => void }).cacheJwks({ keys: [jwk] });
  // Each vehicle has its owner (the authorizer puts at most 25 vehicles into one user's policy).
  const owners = new Map(vins.map((vin) => [vin, randomUUID()]));
  const access = vins.map((vin) => ({
    PutRequest: {
      Item: {
        userSub: { S: owners.get(vin) ?? '' },
        vin: { S: vin },
        role: { S: 'owner' },
        commands: { L: [{ S: '*' }] },
      },
    },
  }));
  for (let i = 0; i < access.length; i += 25) {
    await ddb.send(
      new BatchWriteItemCommand({
        RequestItems: { 'cv-security-local-vehicle-access': access.slice(i, i + 25) },
      }),
    );
  }
  const tokenOf = (vin: string) =>
    new SignJWT({ token_use: 'access', client_id: CLIENT_ID, scope: SCOPE, username: `owner-${vin}` })
      .setProtectedHeader({ alg: 'RS256', kid: 'load-1' })
      .setIssuer(`https://cognito-idp.${REGION}.amazonaws.com/${USER_POOL}`)
      .setSubject(owners.get(vin) ?? '')
      .setIssuedAt()
      .setExpirationTime('2h')
      .setJti(randomUUID())
      .sign(privateKey);
  const read = (p: string) => JSON.parse(readFileSync(join(root, p), 'utf8')) as Record<string, unknown>;
  const senderTemplate = read('events/command-sender/post-command.json');
  const authTemplate = read('events/command-authorizer/request.json');

  const sentAt = new Map<string, number>();
  const commandIds: string[] = [];
  let current: FlowMetrics | undefined;
  const done = new Set<string>();
  const finish = (id: string) => {
    const start = sentAt.get(id);
    if (!current || start === undefined || done.has(id) || !executedAt.has(id)) return;
    done.add(id);
    complete(current, start, executedAt.get(id));
  };

  const sendOne = async (flow: FlowMetrics, vin: string) => {
    const start = performance.now();
    const token = await tokenOf(vin);
    const authEvent = structuredClone(authTemplate) as Record<string, unknown> & {
      headers: Record<string, string>;
      multiValueHeaders: Record<string, string[]>;
    };
    authEvent.headers.Authorization = `Bearer ${token}`;
    authEvent.multiValueHeaders.Authorization = [`Bearer ${token}`];
    authEvent.methodArn = String(authEvent.methodArn).replace(/vehicles\/[^/]+\//, `vehicles/${vin}/`);
    authEvent.path = `/vehicles/${vin}/commands`;
    authEvent.pathParameters = { vin };
    type Decision = {
      principalId?: string;
      policyDocument?: { Statement?: { Effect?: string }[] };
      context?: Record<string, unknown>;
    };
    let decision: Decision = {};
    // An authorizer that fails is API Gateway's 500: the app retries with backoff.
    for (let attempt = 0; ; attempt++) {
      try {
        decision = (await lambda.invoke(
          'command-authorizer',
          authorizer.handler as Handler,
          authEvent,
        )) as Decision;
        break;
      } catch (error) {
        if (attempt >= 8) throw error;
        flow.retries += 1;
        await new Promise((r) => setTimeout(r, backoffMs(attempt, 200, 5_000)));
      }
    }
    if (decision.policyDocument?.Statement?.[0]?.Effect !== 'Allow') throw new Error('authorizer denied');
    const event = structuredClone(senderTemplate) as Record<string, unknown> & {
      headers: Record<string, string>;
      multiValueHeaders: Record<string, string[]>;
      requestContext: Record<string, unknown>;
    };
    event.body = JSON.stringify({ command: 'door.lock', args: {} });
    event.path = `/vehicles/${vin}/commands`;
    event.pathParameters = { vin };
    event.headers.Authorization = `Bearer ${token}`;
    // One idempotency key per command: a retried request after 429/503 is the same command.
    const idempotencyKey = randomUUID();
    event.headers['Idempotency-Key'] = idempotencyKey;
    event.multiValueHeaders['Idempotency-Key'] = [idempotencyKey];
    event.requestContext.authorizer = { principalId: decision.principalId, ...decision.context };
    for (let attempt = 0; ; attempt++) {
      let res: { statusCode: number; body: string; headers?: Record<string, string> };
      try {
        res = (await lambda.invoke('command-sender', sender.handler as Handler, event)) as typeof res;
      } catch {
        // What API Gateway answers when the function fails or times out; the app retries with the same key.
        res = { statusCode: 502, body: '{"message":"Internal server error"}' };
      }
      if (res.statusCode === 202 || res.statusCode === 200) {
        const { commandId } = JSON.parse(res.body) as { commandId: string };
        if (!sentAt.has(commandId)) {
          sentAt.set(commandId, start);
          commandIds.push(commandId);
        }
        finish(commandId);
        return;
      }
      // A 409 `request_in_progress` clears by itself (the app waits for Retry-After); any other 409 does not.
      const inProgress = res.statusCode === 409 && res.body.includes('"request_in_progress"');
      if ((![429, 502, 503, 504].includes(res.statusCode) && !inProgress) || attempt >= 8) {
        throw new Error(`command-sender answered ${res.statusCode}`);
      }
      flow.retries += 1;
      const after = Number(res.headers?.['Retry-After'] ?? res.headers?.['retry-after']);
      await new Promise((r) =>
        setTimeout(r, Number.isFinite(after) ? after * 1000 : backoffMs(attempt, 200, 5_000)),
      );
    }
  };

  return {
    vins,
    commandIds,
    async run(flow, targets, concurrency) {
      current = flow;
      await pool(targets, concurrency, async (vin) => {
        try {
          await sendOne(flow, vin);
        } catch (error) {
          flow.failed += 1;
          if (flow.failed <= 3) console.log(`  command to ${vin} failed: ${String(error)}`);
        }
      });
      const deadline = performance.now() + 60_000;
      while (done.size < commandIds.length && performance.now() < deadline) {
        await new Promise((r) => setTimeout(r, 100));
      }
    },
    onExecuted(commandId) {
      finish(commandId);
    },
    async settle() {
      // Results travel ECU -> rule -> telemetry-ingest (asynchronous, retried by the Lambda model): wait for them.
      const deadline = performance.now() + 120_000;
      const { commandStates } = await import('./invariants.js');
      while (
        performance.now() < deadline &&
        (await commandStates(ddb, commandIds, executedAt)).unsettled > 0
      ) {
        await new Promise((r) => setTimeout(r, 250));
      }
    },
  };
}

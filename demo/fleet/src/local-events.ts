/**
 * Fresh sample events for `serverless invoke local --stage local`, made against the running local
 * cloud's own keys and state (written by `pnpm run local-cloud` at start and again by `pnpm run
 * events`, into .local-cloud/events/, which git ignores). The committed events/ stay as
 * documentation of the wire shapes; these are the ones that work now:
 * - an attestation proof signed now with a seeded ECU's attestation key (and a stale one, an
 *   unregistered ECU: the denials);
 * - access tokens from the local issuer (the owner's, an expired one, one of a user without vehicles);
 * - a command that exists (GET) and the authorizer context the owner's token yields (POST);
 * - telemetry and a command result encrypted under the local TelemetryKey with the right context
 *   (and one delivered under another thing's name: the denial);
 * - a JITR event for a certificate really PENDING_ACTIVATION under the local operational CA;
 * - AWS IoT authorization failures over the threshold for a real certificate, and a Device
 *   Defender finding naming a real thing, really imported into the local Security Hub.
 * Every run makes new identities where a run consumes one (the pending certificate, the thing the
 * remediation quarantines), so the events can be made again after they were used.
 */
import { randomUUID } from 'node:crypto';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DynamoDBClient, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { attestationProof, type EcuSimulator } from '@cv/ecu-sim';
import { generateKeyPair, issueLeaf, pemOf, x509 } from '@cv/local-cloud';
import type { APIGatewayRequestAuthorizerEvent } from 'aws-lambda';
import { SignJWT } from 'jose';
import { authorize } from '../../../functions/command-authorizer/src/authorize.js';
import {
  authzEvent,
  ecuOf,
  type Json,
  jitrEvents,
  type LocalIdentities,
  read,
  remediationEvents,
  stamp,
  telemetryEvents,
} from './local-events-iot.js';

export type { LocalIdentities } from './local-events-iot.js';

/** An access token as the local user pool would issue it (Cognito access-token claims). */
async function accessToken(ids: LocalIdentities, sub: string, expiresIn: string | number): Promise<string> {
  return new SignJWT({
    token_use: 'access',
    client_id: ids.issuer.clientId,
    scope: ids.issuer.scope,
    username: sub === ids.ownerSub ? 'local-owner' : 'local-user',
  })
    .setProtectedHeader({ alg: 'RS256', kid: ids.issuer.kid })
    .setIssuer(ids.issuer.iss)
    .setSubject(sub)
    .setIssuedAt(Math.floor(Date.now() / 1000) - 120)
    .setExpirationTime(expiresIn)
    .setJti(randomUUID())
    .sign(ids.issuer.privateKey);
}

function withBearer<T extends Json>(event: T, token: string): T {
  const e = structuredClone(event) as Json & { headers: Json; multiValueHeaders: Json };
  e.headers.Authorization = `Bearer ${token}`;
  e.multiValueHeaders.Authorization = [`Bearer ${token}`];
  return e as unknown as T;
}

function enrolmentEvent(template: Json, body: string): Json {
  const event = structuredClone(template) as Json & { headers: Json; requestContext: Json };
  event.body = body;
  event.headers['content-length'] = String(Buffer.byteLength(body));
  event.requestContext.timeEpoch = Date.now();
  return event;
}

/** Enrolment over mutual TLS: API Gateway verified the ECU's birth certificate; a fresh CSR. */
async function mtlsEvent(ids: LocalIdentities, sim: EcuSimulator): Promise<Json> {
  const template = read(ids.root, 'cert-broker/post-certificates-mtls.json') as Json & {
    requestContext: { authentication: { clientCert: Json } };
  };
  const birth = new x509.X509Certificate(ids.ecu.certificatePem);
  const event = enrolmentEvent(template, JSON.stringify({ csr: await sim.createCsr() })) as typeof template;
  event.requestContext.authentication.clientCert = {
    ...event.requestContext.authentication.clientCert,
    clientCertPem: ids.ecu.certificatePem,
    subjectDN: birth.subject,
    issuerDN: birth.issuer,
    serialNumber: birth.serialNumber,
    validity: { notBefore: birth.notBefore.toUTCString(), notAfter: birth.notAfter.toUTCString() },
  };
  return event;
}

async function certBrokerEvents(ids: LocalIdentities): Promise<Record<string, Json>> {
  const template = read(ids.root, 'cert-broker/post-certificates-attestation.json');
  const sim = ecuOf(ids, ids.ecu.vin, ids.ecu.ecuId);
  const body = async (at: Date) => {
    const csr = await sim.createCsr();
    return JSON.stringify({
      csr,
      attestation: {
        certificate: ids.ecu.certificatePem,
        ...attestationProof(csr, ids.ecu.privateKeyPem, at),
      },
    });
  };
  // The same manufacturer, an ECU the registry does not know.
  const { keys, privateKeyPem } = await generateKeyPair();
  const birth = pemOf(
    await issueLeaf(ids.manufacturer, { subject: `CN=UNREG-${stamp()}`, publicKey: keys.publicKey }),
  );
  const csr = await sim.createCsr();
  const unregistered = JSON.stringify({
    csr,
    attestation: { certificate: birth, ...attestationProof(csr, privateKeyPem, new Date()) },
  });
  return {
    'post-certificates-attestation.json': enrolmentEvent(template, await body(new Date())),
    // Signed 10 minutes ago: outside the 5-minute window.
    'denied-attestation-stale.json': enrolmentEvent(template, await body(new Date(Date.now() - 600_000))),
    'denied-unregistered-ecu.json': enrolmentEvent(template, unregistered),
    'post-certificates-mtls.json': await mtlsEvent(ids, sim),
  };
}

async function commandEvents(
  ids: LocalIdentities,
): Promise<{ commandId: string; events: Record<string, Record<string, Json>> }> {
  const authTemplate = read(ids.root, 'command-authorizer/request.json') as unknown as Json & {
    methodArn: string;
  };
  const request = (token: string): Json => {
    const e = withBearer(authTemplate, token) as Json & { methodArn: string; pathParameters: Json };
    e.methodArn = e.methodArn.replace(/vehicles\/[^/]+\//, `vehicles/${ids.ecu.vin}/`);
    e.path = `/vehicles/${ids.ecu.vin}/commands`;
    e.pathParameters = { vin: ids.ecu.vin };
    return e;
  };
  const owner = await accessToken(ids, ids.ownerSub, '1h');
  // What API Gateway hands command-sender: the authorizer's context for the owner's token.
  const decision = await authorize(request(owner) as unknown as APIGatewayRequestAuthorizerEvent, {
    verifyAccessToken: async () => ({ sub: ids.ownerSub, exp: Math.floor(Date.now() / 1000) + 3600 }),
    accessRow: async (userSub, vin) =>
      userSub === ids.ownerSub && vin === ids.ecu.vin
        ? { userSub, vin, role: 'owner', commands: ['*'] }
        : undefined,
    now: Date.now,
  });
  if (decision.effect !== 'Allow') throw new Error(`the owner is not allowed: ${decision.effect}`);
  const authorizer = { principalId: decision.result.principalId, ...decision.result.context };

  // A command that exists: stored as command-sender stores one (PENDING, for the owner).
  const commandId = randomUUID();
  const thingName = `${ids.ecu.vin}_gw-01`;
  const now = Date.now();
  await new DynamoDBClient(ids.cloud.clientConfig()).send(
    new PutItemCommand({
      TableName: ids.tables.commands,
      Item: {
        commandId: { S: commandId },
        vin: { S: ids.ecu.vin },
        thingName: { S: thingName },
        command: { S: 'door.lock' },
        args: { M: {} },
        requestedBy: { S: ids.ownerSub },
        status: { S: 'PENDING' },
        createdAt: { S: new Date(now).toISOString() },
        expiresAt: { S: new Date(now + 3_600_000).toISOString() },
        ttl: { N: String(Math.floor(now / 1000) + 86_400) },
      },
    }),
  );

  const http = (path: string, extra: Json = {}): Json => {
    const e = withBearer(read(ids.root, path), owner) as Json & {
      requestContext: Json;
      headers: Json;
      multiValueHeaders: Json;
    };
    e.requestContext.authorizer = authorizer;
    e.requestContext.requestTimeEpoch = now;
    return { ...e, ...extra };
  };
  const post = http('command-sender/post-command.json', {
    path: `/vehicles/${ids.ecu.vin}/commands`,
    pathParameters: { vin: ids.ecu.vin },
  }) as Json & { headers: Json; multiValueHeaders: Json };
  // A fresh idempotency key per run (a repeated key answers the first response).
  const key = `local-${randomUUID()}`;
  post.headers['Idempotency-Key'] = key;
  post.multiValueHeaders['Idempotency-Key'] = [key];
  const other = '5YJ3E1EA7KF317000';
  return {
    commandId,
    events: {
      'command-authorizer': {
        'request.json': request(owner),
        'denied-expired-token.json': request(
          await accessToken(ids, ids.ownerSub, Math.floor(Date.now() / 1000) - 60),
        ),
        'denied-no-vehicles.json': request(await accessToken(ids, ids.strangerSub, '1h')),
      },
      'command-sender': {
        'post-command.json': post,
        'get-command.json': http('command-sender/get-command.json', {
          path: `/vehicles/${ids.ecu.vin}/commands/${commandId}`,
          pathParameters: { vin: ids.ecu.vin, commandId },
        }),
        // A vehicle the owner has no access row for: 403 before anything is stored or published.
        'denied-other-vehicle.json': {
          ...post,
          path: `/vehicles/${other}/commands`,
          pathParameters: { vin: other },
        },
      },
    },
  };
}

/**
 * Writes every event under `outDir/<function dir>/` (the directory is replaced) and returns the
 * paths written, relative to `outDir`.
 */
export async function writeLocalEvents(ids: LocalIdentities, outDir: string): Promise<string[]> {
  const commands = await commandEvents(ids);
  const byDir: Record<string, Record<string, Json>> = {
    'authz-detector': {
      // The deployed threshold (serverless/functions/authz-detector.yml) is 20 in 300 s.
      'authorization-failures-over-threshold.json': authzEvent(ids, 20),
    },
    'cert-broker': await certBrokerEvents(ids),
    ...commands.events,
    'jitr-handler': await jitrEvents(ids),
    'remediation-steps': await remediationEvents(ids),
    // The command result is for the command the GET event names.
    'telemetry-ingest': await telemetryEvents(ids, commands.commandId),
  };
  rmSync(outDir, { recursive: true, force: true });
  const written: string[] = [];
  for (const [dir, files] of Object.entries(byDir)) {
    mkdirSync(join(outDir, dir), { recursive: true });
    for (const [file, event] of Object.entries(files)) {
      writeFileSync(join(outDir, dir, file), `${JSON.stringify(event, null, 2)}\n`);
      written.push(`${dir}/${file}`);
    }
  }
  return written.sort();
}

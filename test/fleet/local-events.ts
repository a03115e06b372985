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
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { DynamoDBClient, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { KMS } from '@aws-sdk/client-kms';
import {
  createTelemetryEncryptor,
  createTelemetryMaterialsManager,
  DEFAULT_ENCRYPT_CACHE_LIMITS,
  telemetryKmsKeyring,
} from '@cv/crypto/telemetry';
import { attestationProof, EcuSimulator } from '@cv/ecu-sim';
import {
  type createCertificateAuthority,
  generateKeyPair,
  issueLeaf,
  type LocalCloud,
  pemOf,
  x509,
} from '@cv/local-cloud';
import type { APIGatewayRequestAuthorizerEvent } from 'aws-lambda';
import { type CryptoKey, SignJWT } from 'jose';
import { authorize } from '../../functions/command-authorizer/src/authorize.js';

/** What the local cloud seeded for the events (see serve.ts). */
export interface LocalIdentities {
  readonly root: string;
  readonly cloud: LocalCloud;
  readonly tables: { ecuRegistry: string; vehicleAccess: string; commands: string };
  readonly telemetryKeyArn: string;
  /** A registered ECU bound to the local manufacturer CA, with its attestation key. */
  readonly ecu: { vin: string; ecuId: string; certificatePem: string; privateKeyPem: string };
  /** The local user pool's issuer: its signing key and the settings command-authorizer checks. */
  readonly issuer: {
    privateKey: CryptoKey;
    kid: string;
    iss: string;
    clientId: string;
    scope: string;
  };
  /** The owner of the sample vehicle (`ecu.vin`) and a user with no vehicle. */
  readonly ownerSub: string;
  readonly strangerSub: string;
  /** A thing with an ACTIVE certificate (its id) that authorization failures are reported for. */
  readonly misbehaving: { thingName: string; certificateId: string };
  /** The local ECU manufacturer's attestation CA (in the trust bundle). */
  readonly manufacturer: Awaited<ReturnType<typeof createCertificateAuthority>>;
}

type Json = Record<string, unknown>;

const read = (root: string, path: string): Json =>
  JSON.parse(readFileSync(join(root, 'events', path), 'utf8')) as Json;
const stamp = () => Date.now().toString(36).toUpperCase();
const hex = (bytes: number) => randomBytes(bytes).toString('hex');

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

/** An ECU of `vin` (the seeded ECU's attestation identity), for its CSRs. */
function ecuOf(ids: LocalIdentities, vin: string, ecuId: string): EcuSimulator {
  return new EcuSimulator({
    vin,
    ecuId,
    attestation: { certificatePem: ids.ecu.certificatePem, privateKeyPem: ids.ecu.privateKeyPem },
    kms: new KMS(ids.cloud.clientConfig()),
    telemetryKeyId: ids.telemetryKeyArn,
    commandKeys: [],
    commandIssuer: 'cv-security:local',
  });
}

/** An operational certificate from the local Private CA, as cert-broker requests one (PEM). */
async function issueOperational(cloud: LocalCloud, vin: string, ecuId: string, csr: string): Promise<string> {
  const arn = await cloud.pca.issue({
    CertificateAuthorityArn: cloud.pca.caArn,
    Csr: Buffer.from(csr).toString('base64'),
    SigningAlgorithm: 'SHA256WITHECDSA',
    TemplateArn: 'arn:aws:acm-pca:::template/EndEntityClientAuthCertificate_APIPassthrough/V1',
    Validity: { Type: 'DAYS', Value: 365 },
    ApiPassthrough: {
      Subject: { CommonName: `${vin}_${ecuId}` },
      Extensions: {
        SubjectAlternativeNames: [{ UniformResourceIdentifier: `urn:cv:vin:${vin}:ecu:${ecuId}` }],
      },
    },
  });
  return cloud.pca.issued.get(arn)?.pem ?? '';
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
    accessRows: async () => [{ userSub: ids.ownerSub, vin: ids.ecu.vin, role: 'owner', commands: ['*'] }],
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

async function telemetryEvents(ids: LocalIdentities, commandId: string): Promise<Record<string, Json>> {
  const thingName = `${ids.ecu.vin}_gw-01`;
  const keyring = telemetryKmsKeyring({
    keyId: ids.telemetryKeyArn,
    client: new KMS(ids.cloud.clientConfig()),
  });
  const encryptor = createTelemetryEncryptor({
    materials: createTelemetryMaterialsManager(keyring, DEFAULT_ENCRYPT_CACHE_LIMITS),
  });
  // As the IoT rule delivers it: the device's envelope plus topic(2) AS thingName and the kind.
  const delivered = async (kind: 'telemetry' | 'command-result', data: unknown, as = thingName) => {
    const { payload } = await encryptor.encrypt({ thingName, kind, data });
    return {
      ...(JSON.parse(Buffer.from(payload).toString('utf8')) as Json),
      thingName: as,
      // topic(3): the topic's last segment.
      topicKind: kind === 'telemetry' ? 'telemetry' : 'command-results',
    };
  };
  const reading = () => ({
    status: { speedKmh: 42, odometerKm: 12_345, batteryVoltage: 12.6, doorsLocked: true, ignition: 'ON' },
    location: { lat: 52.52, lon: 13.405 },
  });
  const sqs = read(ids.root, 'telemetry-ingest/sqs-batch.json') as { Records: Json[] };
  const records = await Promise.all([delivered('telemetry', reading()), delivered('telemetry', reading())]);
  return {
    'iot-telemetry.json': await delivered('telemetry', reading()),
    'iot-command-result.json': await delivered('command-result', {
      commandId,
      status: 'SUCCEEDED',
      detail: 'door.lock executed',
    }),
    'sqs-batch.json': {
      Records: records.map((body, i) => ({
        ...(sqs.Records[0] ?? {}),
        messageId: randomUUID(),
        body: JSON.stringify(body),
        attributes: {
          ...((sqs.Records[0]?.attributes as Json) ?? {}),
          SentTimestamp: String(Date.now() + i),
        },
      })),
    },
    // Encrypted for gw-01, delivered as another thing's message: the encryption context does not match.
    'denied-other-thing.json': await delivered('telemetry', reading(), `${ids.ecu.vin}_adas-01`),
  };
}

/** A certificate issued by the local Private CA for a registered ECU, registered PENDING_ACTIVATION (as JITR does). */
async function jitrEvents(ids: LocalIdentities): Promise<Record<string, Json>> {
  const { cloud } = ids;
  const ecuId = `ADAS-J${stamp()}`;
  await new DynamoDBClient(cloud.clientConfig()).send(
    new PutItemCommand({
      TableName: ids.tables.ecuRegistry,
      Item: {
        ecuId: { S: ecuId },
        vin: { S: ids.ecu.vin },
        role: { S: 'adas' },
        status: { S: 'ACTIVE' },
        updatedAt: { S: new Date().toISOString() },
      },
    }),
  );
  const csr = await ecuOf(ids, ids.ecu.vin, ecuId).createCsr();
  const pem = await issueOperational(cloud, ids.ecu.vin, ecuId, csr);
  const cert = cloud.iot.registerCertificate(pem, cloud.operationalCaCertificateId, 'PENDING_ACTIVATION');
  const now = Date.now();
  return {
    'certificate-registered.json': {
      certificateId: cert.certificateId,
      caCertificateId: cloud.operationalCaCertificateId,
      timestamp: now,
      certificateStatus: 'PENDING_ACTIVATION',
      awsAccountId: cloud.account,
      certificateRegistrationTimestamp: String(now),
    },
  };
}

/** AWS IoT v2 log records (CloudWatch Logs subscription) of `count` authorization failures, now. */
function authzEvent(ids: LocalIdentities, count: number): Json {
  const now = Date.now();
  const types = ['Connect', 'Publish-In', 'Subscribe'];
  const logEvents = Array.from({ length: count }, (_, i) => ({
    id: `${now}${String(i).padStart(6, '0')}${hex(4)}`,
    timestamp: now - (count - i) * 1000,
    message: JSON.stringify({
      timestamp: new Date(now - (count - i) * 1000).toISOString().replace('T', ' ').replace('Z', ''),
      logLevel: 'ERROR',
      traceId: randomUUID(),
      accountId: ids.cloud.account,
      status: 'Failure',
      eventType: types[i % types.length],
      protocol: 'MQTT',
      clientId: ids.misbehaving.thingName,
      principalId: ids.misbehaving.certificateId,
      sourceIp: '127.0.0.1',
      sourcePort: 50_000 + i,
      reason: 'AUTHORIZATION_FAILURE',
      details: 'Authorization Failure',
    }),
  }));
  const data = {
    messageType: 'DATA_MESSAGE',
    owner: ids.cloud.account,
    logGroup: 'AWSIotLogsV2',
    logStream: randomUUID(),
    subscriptionFilters: ['cv-security-local-authz-failures'],
    logEvents,
  };
  return { awslogs: { data: gzipSync(Buffer.from(JSON.stringify(data))).toString('base64') } };
}

/** A thing with an ACTIVE certificate from the local Private CA, and a Device Defender finding on it, imported. */
async function remediationEvents(ids: LocalIdentities): Promise<Record<string, Json>> {
  const { cloud } = ids;
  const vin = 'WVWZZZ1JZXW000009';
  const ecuId = `TCU-R${stamp()}`;
  const thingName = `${vin}_${ecuId}`;
  const csr = await ecuOf(ids, vin, ecuId).createCsr();
  const cert = cloud.iot.registerCertificate(
    await issueOperational(cloud, vin, ecuId, csr),
    cloud.operationalCaCertificateId,
    'ACTIVE',
  );
  cloud.iot.things.set(thingName, {
    thingName,
    thingArn: cloud.iot.arn('thing', thingName),
    thingId: randomUUID(),
    attributes: { vin, ecuId, role: 'telematics' },
    version: 1,
  });
  cloud.iot.attachThingPrincipal(thingName, cert.certificateArn, 'EXCLUSIVE_THING');

  const violation = hex(16);
  const now = new Date();
  const template = JSON.stringify(read(ids.root, 'remediation-steps/detect-authorization-failures.json'))
    .replaceAll('WVWZZZ1JZXW000001_TCU-00042', thingName)
    .replaceAll('e92a782593c6f5b1fc7cb6a443dc1a12', violation)
    .replaceAll('2026-11-25T08:45:00Z', now.toISOString())
    .replaceAll('1764060300000', String(now.getTime()));
  const event = JSON.parse(template) as Json & { detail: { findings: Json[] } };
  event.id = randomUUID();
  event.time = now.toISOString();
  const result = cloud.securityHub.importFindings(event.detail.findings);
  if (result.success !== 1) throw new Error(`finding not imported: ${JSON.stringify(result.failed)}`);
  return { 'finding-imported.json': event };
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

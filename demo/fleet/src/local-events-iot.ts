/**
 * The device-side fresh events of demo/fleet/src/local-events.ts: telemetry and a command result sealed
 * under the local TelemetryKey, a certificate pending JITR, AWS IoT authorization failures, and a
 * Device Defender finding imported into the local Security Hub; and the helpers both files use.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
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
import { EcuSimulator } from '@cv/ecu-sim';
import type { createCertificateAuthority, LocalCloud } from '@cv/local-cloud';
import type { CryptoKey } from 'jose';

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

export type Json = Record<string, unknown>;

export const read = (root: string, path: string): Json =>
  JSON.parse(readFileSync(join(root, 'events', path), 'utf8')) as Json;
export const stamp = () => Date.now().toString(36).toUpperCase();
const hex = (bytes: number) => randomBytes(bytes).toString('hex');

/** An ECU of `vin` (the seeded ECU's attestation identity), for its CSRs. */
export function ecuOf(ids: LocalIdentities, vin: string, ecuId: string): EcuSimulator {
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
export async function issueOperational(
  cloud: LocalCloud,
  vin: string,
  ecuId: string,
  csr: string,
): Promise<string> {
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

export async function telemetryEvents(
  ids: LocalIdentities,
  commandId: string,
): Promise<Record<string, Json>> {
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
export async function jitrEvents(ids: LocalIdentities): Promise<Record<string, Json>> {
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
export function authzEvent(ids: LocalIdentities, count: number): Json {
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
export async function remediationEvents(ids: LocalIdentities): Promise<Record<string, Json>> {
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

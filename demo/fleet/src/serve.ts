/**
 * `pnpm run local-cloud`: the local cloud for `serverless invoke local --stage local`, on
 * 127.0.0.1:4566 (--port N), seeded with what the sample events under events/ reference
 * (registry rows, the trust bundle, things, a certificate, a policy, the quarantine group), and
 * the MQTT gateway with the project's rules on 127.0.0.1:8883 (--mqtt-port N; ephemeral when --port
 * is 0) and one enrolled ECU whose key and certificate it writes under .local-cloud/mqtt/
 * (local-gateway.ts). Writes .local-cloud/state.json, which the serverless plugin reads to
 * resolve the functions' CloudFormation references for stage local; its `mqtt` entry names the
 * gateway's port, server CA and the ECU's files.
 */
import { randomUUID } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { parseArgs } from 'node:util';
import { BatchWriteItemCommand, DynamoDBClient, PutItemCommand } from '@aws-sdk/client-dynamodb';
import {
  attestationIssuerKeySha256,
  DEFAULT_GATEWAY_PORT,
  generateKeyPair,
  issueLeaf,
  pemOf,
  x509,
} from '@cv/local-cloud';
import { exportJWK, generateKeyPair as joseKeyPair } from 'jose';
import { provenanceItem } from '../../../packages/runtime/src/provenance.js';
import { functionEnv, LOCAL_KEYS, startSeededCloud } from './fleet.js';
import { localEnforcer } from './iam.js';
import { type LocalIdentities, writeLocalEvents } from './local-events.js';
import { startLocalGateway } from './local-gateway.js';
import { TRUSTSTORE } from './provision.js';

const root = process.env.CV_ROOT ?? join(import.meta.dirname, '..', '..', '..');
const { values } = parseArgs({
  options: {
    port: { type: 'string', default: '4566' },
    // The MQTT gateway's port: AWS IoT Core's 8883 by default; ephemeral with an ephemeral --port.
    'mqtt-port': { type: 'string' },
    // Where to write the state (test/invoke-local.test.ts keeps its own; the plugin reads
    // CV_LOCAL_CLOUD_STATE when set).
    state: { type: 'string', default: join(root, '.local-cloud/state.json') },
  },
});
const { cloud, manufacturer } = await startSeededCloud(Number(values.port));
const mqttPort = Number(values['mqtt-port'] ?? (values.port === '0' ? 0 : DEFAULT_GATEWAY_PORT));
const events = (fn: string) =>
  readdirSync(join(root, 'events', fn))
    .filter((f) => f.endsWith('.json'))
    .map((f) => JSON.parse(readFileSync(join(root, 'events', fn, f), 'utf8')) as Record<string, unknown>);

// The sample events' trust anchors and identities.
const sampleTrustBundle = readFileSync(join(root, 'events/cert-broker/trust-bundle.pem'), 'utf8');
// The local manufacturer's CA too: its key signs the fresh attestations (local-events.ts) and it
// attests the ECU enrolled for the MQTT gateway (local-gateway.ts).
cloud.ssm.putParameter(
  '/cv-security/local/attestation-trust-bundle',
  `${sampleTrustBundle.trimEnd()}\n${manufacturer.certificatePem.trimEnd()}\n`,
);
// Supplier binding of the sample ECUs: the sample bundle's CA, which issued their attestation certificates.
const sampleIssuerKey = attestationIssuerKeySha256(sampleTrustBundle);
const registry: Record<string, { S: string }>[] = [];
for (const event of events('cert-broker')) {
  const body = JSON.parse(String(event.body ?? '{}')) as { attestation?: { certificate?: string } };
  const pem = body.attestation?.certificate;
  if (!pem) continue;
  const cn = new x509.X509Certificate(pem).subjectName.getField('CN')[0];
  if (cn)
    registry.push({
      ecuId: { S: cn },
      vin: { S: '1HGCM82633A004352' },
      role: { S: 'telematics' },
      status: { S: 'ACTIVE' },
      attestationIssuerKeySha256: { S: sampleIssuerKey },
    });
}
registry.push({
  ecuId: { S: 'gw-01' },
  vin: { S: '1HGCM82633A004352' },
  role: { S: 'gateway' },
  status: { S: 'ACTIVE' },
  attestationIssuerKeySha256: { S: sampleIssuerKey },
  thingName: { S: '1HGCM82633A004352_gw-01' },
});
// The ECU the fresh attestation events are signed for: born at the local manufacturer.
const localEcu = await (async () => {
  const { keys, privateKeyPem } = await generateKeyPair();
  const birth = await issueLeaf(manufacturer, { subject: 'CN=TCU-LOCAL-01', publicKey: keys.publicKey });
  return { vin: '1HGCM82633A004352', ecuId: 'TCU-LOCAL-01', certificatePem: pemOf(birth), privateKeyPem };
})();
registry.push({
  ecuId: { S: localEcu.ecuId },
  vin: { S: localEcu.vin },
  role: { S: 'telematics' },
  status: { S: 'ACTIVE' },
  attestationIssuerKeySha256: { S: attestationIssuerKeySha256(manufacturer.certificatePem) },
});
const ddb = new DynamoDBClient(cloud.clientConfig());
await ddb.send(
  new BatchWriteItemCommand({
    RequestItems: { 'cv-security-local-ecu-registry': registry.map((Item) => ({ PutRequest: { Item } })) },
  }),
);
// The sample events' app user (events/command-sender) may command the sample vehicle: the sender re-reads this row.
await ddb.send(
  new PutItemCommand({
    TableName: 'cv-security-local-vehicle-access',
    Item: {
      userSub: { S: '3f9a1c52-7d4e-4b8a-9c1e-2b5d6f7a8e90' },
      vin: { S: '1HGCM82633A004352' },
      role: { S: 'owner' },
      commands: { L: [{ S: '*' }] },
    },
  }),
);

// Remediation samples: their thing, certificate (seeded under the sample's id) and policy.
const { keys } = await generateKeyPair();
const sampleCert = pemOf(
  await issueLeaf(cloud.pca.issuing, {
    subject: 'CN=WVWZZZ1JZXW000001_TCU-00042',
    publicKey: keys.publicKey,
  }),
);
const certificateId = '3f9c2b7e8a1d4c6f0b5e9a2d7c4f1e8b6a3d0c9f2e5b8a1d4c7f0e3b6a9d2c5f';
const cert = cloud.iot.registerCertificate(sampleCert, cloud.operationalCaCertificateId, 'ACTIVE');
cloud.iot.certificates.delete(cert.certificateId);
const seeded = { ...cert, certificateId, certificateArn: cloud.iot.arn('cert', certificateId) };
cloud.iot.certificates.set(certificateId, seeded);
cloud.iot.things.set('WVWZZZ1JZXW000001_TCU-00042', {
  thingName: 'WVWZZZ1JZXW000001_TCU-00042',
  thingArn: cloud.iot.arn('thing', 'WVWZZZ1JZXW000001_TCU-00042'),
  thingId: '00000000-0000-4000-8000-000000000042',
  attributes: { vin: 'WVWZZZ1JZXW000001', ecuId: 'TCU-00042', role: 'telematics' },
  version: 1,
});
cloud.iot.attachThingPrincipal('WVWZZZ1JZXW000001_TCU-00042', seeded.certificateArn, 'EXCLUSIVE_THING');
cloud.iot.createPolicy(
  'cv-security-dev-ecu-telematics',
  JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 'iot:*', Resource: '*' }] }),
);

// The provenance record authz-detector would have written for the own-detector sample finding, so
// that classify proves it genuine (a finding claiming to be ours without one is refused).
const own = events('remediation-steps').find((e) =>
  JSON.stringify(e).includes('cv-security/authz-detector/'),
);
const ownFinding = (own?.detail as { findings?: Array<Record<string, string>> } | undefined)?.findings?.[0];
if (ownFinding?.Id !== undefined) {
  await ddb.send(
    new PutItemCommand({
      TableName: 'cv-security-local-finding-provenance',
      Item: provenanceItem(
        {
          findingId: ownFinding.Id,
          generatorId: ownFinding.GeneratorId ?? '',
          productArn: ownFinding.ProductArn ?? '',
          accountId: ownFinding.AwsAccountId ?? '',
          targets: { certificateId },
          raisedAt: ownFinding.CreatedAt ?? '',
        },
        Math.floor(Date.now() / 1000) + 86_400,
      ),
    }),
  );
}

// IAM enforced as in the demo: each function signs with the access key of its role (the plugin sets it per function).
const iam = localEnforcer(root, {
  OperationalCaCertificate: cloud.operationalCaCertificateId,
  // The admin API's truststore grants name the seeded bucket (its supplier routes, invoked locally).
  TruststoreBucket: TRUSTSTORE.bucket,
});
cloud.enforce(iam);
iam.onDenial = (d) => console.error(`IAM denied ${d.action} on ${d.resource} to ${d.principal}: ${d.reason}`);
const functionAccessKeys = Object.fromEntries(
  iam.template
    .functions()
    .map((f) => [f.name.replace(/^cv-security-local-/, ''), iam.functionCredentials(f.name).accessKeyId]),
);

const { gateway, files } = await startLocalGateway(cloud, manufacturer, iam, {
  port: mqttPort,
  root,
  dir: join(dirname(values.state), 'mqtt'),
});
const env = functionEnv(cloud);

// The local user pool: command-authorizer fetches its JWKS from here (COGNITO_JWKS_URI below).
const { privateKey, publicKey } = await joseKeyPair('RS256');
const kid = `local-${randomUUID().slice(0, 8)}`;
const jwksPath = `/${env.COGNITO_USER_POOL_ID}/.well-known/jwks.json`;
const jwk = { ...(await exportJWK(publicKey)), kid, alg: 'RS256', use: 'sig' };
cloud.routes.set(jwksPath, (_req, res) => {
  res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys: [jwk] }));
});
// The owner of the sample vehicle (every command) and a user without vehicles.
const ownerSub = '0c0ffee0-0000-4000-8000-00000000a11c';
await ddb.send(
  new PutItemCommand({
    TableName: env.VEHICLE_ACCESS_TABLE,
    Item: {
      userSub: { S: ownerSub },
      vin: { S: localEcu.vin },
      role: { S: 'owner' },
      commands: { L: [{ S: '*' }] },
    },
  }),
);
const identities: LocalIdentities = {
  root,
  cloud,
  tables: {
    ecuRegistry: env.ECU_REGISTRY_TABLE ?? '',
    vehicleAccess: env.VEHICLE_ACCESS_TABLE ?? '',
    commands: env.COMMANDS_TABLE ?? '',
  },
  telemetryKeyArn: env.TELEMETRY_KEY_ID ?? '',
  ecu: localEcu,
  issuer: {
    privateKey,
    kid,
    iss: `https://cognito-idp.${cloud.region}.amazonaws.com/${env.COGNITO_USER_POOL_ID}`,
    clientId: env.COGNITO_CLIENT_IDS ?? '',
    scope: env.COMMAND_SCOPE ?? '',
  },
  ownerSub,
  strangerSub: '0c0ffee0-0000-4000-8000-0000005a7e00',
  misbehaving: { thingName: 'WVWZZZ1JZXW000001_TCU-00042', certificateId },
  manufacturer,
};
// Fresh events for every function, next to the state file; again on `pnpm run events`.
const eventsDir = join(dirname(values.state), 'events');
await writeLocalEvents(identities, eventsDir);
cloud.routes.set('/__local/events', async (req, res) => {
  if (req.method !== 'POST') return void res.writeHead(405).end();
  try {
    const written = await writeLocalEvents(identities, eventsDir);
    res
      .writeHead(200, { 'content-type': 'application/json' })
      .end(JSON.stringify({ dir: eventsDir, files: written }));
  } catch (error) {
    res
      .writeHead(500, { 'content-type': 'application/json' })
      .end(JSON.stringify({ error: error instanceof Error ? error.message : String(error) }));
  }
});
// What the functions did, for checking outcomes (test/invoke-local.test.ts): counts only, no payloads.
cloud.routes.set('/__local/observed', (_req, res) => {
  const certificates: Record<string, number> = {};
  for (const c of cloud.iot.certificates.values()) certificates[c.status] = (certificates[c.status] ?? 0) + 1;
  res.writeHead(200, { 'content-type': 'application/json' }).end(
    JSON.stringify({
      published: cloud.published.map((p) => p.topic),
      pcaIssued: cloud.pca.issued.size,
      certificates,
      findings: cloud.securityHub.findings.size,
      snsMessages: cloud.sns.messages.length,
      opsItems: cloud.ssm.opsItems.size,
      kms: Object.fromEntries(cloud.kms.calls),
    }),
  );
});

const state = {
  endpoint: cloud.endpoint,
  // The device gateway (AWS IoT Core's data endpoint, locally): MQTT 3.1.1 and 5 over TLS with
  // client certificates; README.md shows mosquitto connecting with these files.
  mqtt: {
    host: 'localhost',
    port: gateway.port,
    url: gateway.url,
    serverCaFile: files.serverCaFile,
    serverCaPem: gateway.serverCaPem,
    ecu: {
      thingName: files.ecu.thingName,
      certificateFile: files.ecu.certificateFile,
      keyFile: files.ecu.keyFile,
    },
  },
  // The account a deployed function reads from its invoked ARN (authz-detector and the
  // remediation steps); `invoke local`'s context carries no ARN, so they read ACCOUNT_ID.
  // COGNITO_JWKS_URI: command-authorizer verifies the local issuer's tokens (loopback only).
  env: { ...cloud.sdkEnv(), ACCOUNT_ID: cloud.account, COGNITO_JWKS_URI: `${cloud.endpoint}${jwksPath}` },
  functionAccessKeys,
  events: eventsDir,
  resolve: {
    'Ref:AWS::AccountId': cloud.account,
    'Ref:EcuRegistryTable': env.ECU_REGISTRY_TABLE,
    'Ref:EnrolmentProofsTable': env.REPLAY_LEDGER_TABLE,
    'Ref:IssuedCertificatesTable': env.ISSUED_CERTIFICATES_TABLE,
    'Ref:VehicleAccessTable': env.VEHICLE_ACCESS_TABLE,
    'Ref:CommandsTable': env.COMMANDS_TABLE,
    'Ref:TelemetryTable': env.TELEMETRY_TABLE,
    'Ref:AlertTopic': env.ALERT_TOPIC_ARN,
    // The admin API's TRUSTSTORE_BUCKET: the bucket the seeded domain's truststore lives in.
    'Ref:TruststoreBucket': TRUSTSTORE.bucket,
    'GetAtt:CommandSigningKey.Arn': env.COMMAND_SIGNING_KEY_ID,
    'GetAtt:CommandEncryptionKey.Arn': env.COMMAND_ENCRYPTION_KEY_ID,
    'GetAtt:TelemetryKey.Arn': env.TELEMETRY_KEY_ID,
    'GetAtt:DataAtRestKey.Arn': `arn:aws:kms:${cloud.region}:${cloud.account}:key/${LOCAL_KEYS.dataAtRest}`,
    'GetAtt:OperationalCaCertificate.Id': cloud.operationalCaCertificateId,
    // The name serverless/resources/ecu-credentials.yml gives the role alias.
    'Ref:EcuRoleAlias': 'cv-security-local-ecu',
  },
};
mkdirSync(dirname(values.state), { recursive: true });
writeFileSync(values.state, `${JSON.stringify(state, null, 2)}\n`);
console.log(
  `local cloud on ${cloud.endpoint}, MQTT gateway on ${gateway.url} (state in ${relative(root, values.state)}); Ctrl-C to stop`,
);
console.log(`fresh events in ${relative(root, eventsDir)}/ (again: pnpm run events)`);
const stop = async () => {
  // A stopped cloud leaves no state behind for `invoke local` to find.
  rmSync(values.state, { force: true });
  await gateway.stop();
  await cloud.stop();
  process.exit(0);
};
process.on('SIGINT', () => void stop());
process.on('SIGTERM', () => void stop());

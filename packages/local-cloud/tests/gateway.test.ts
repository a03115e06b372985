/** The MQTT gateway: JITR on first connection, policy enforcement, rules with topic(n). */
import { ACMPCAClient, GetCertificateCommand, IssueCertificateCommand } from '@aws-sdk/client-acm-pca';
import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  generateKeyPair,
  isAllowed,
  LocalCloud,
  MqttGateway,
  parseRuleSql,
  topicMatches,
  x509,
} from '../src/index.js';

let cloud: LocalCloud;
let gateway: MqttGateway;
const jitrEvents: Record<string, unknown>[] = [];
const telemetryEvents: Record<string, unknown>[] = [];
const presenceEvents: Record<string, unknown>[] = [];

// The IoT policy variable, written once (not a JS template placeholder).
// biome-ignore lint/suspicious/noTemplateCurlyInString: AWS IoT policy variable
const THING = '${iot:Connection.Thing.ThingName}';

const POLICY = JSON.stringify({
  Version: '2012-10-17',
  Statement: [
    {
      Effect: 'Allow',
      Action: 'iot:Connect',
      Resource: `arn:aws:iot:eu-west-1:123456789012:client/${THING}`,
      Condition: { Bool: { 'iot:Connection.Thing.IsAttached': 'true' } },
    },
    {
      Effect: 'Allow',
      Action: 'iot:Publish',
      Resource: `arn:aws:iot:eu-west-1:123456789012:topic/ecus/${THING}/telemetry`,
    },
  ],
});

beforeAll(async () => {
  cloud = await LocalCloud.start();
  gateway = await MqttGateway.start(cloud, [
    {
      name: 'jitr',
      sql: `SELECT * FROM '$aws/events/certificates/registered/${cloud.operationalCaCertificateId}'`,
      invoke: async (event) => {
        jitrEvents.push(event);
      },
    },
    {
      name: 'presence',
      sql: "SELECT * FROM '$aws/events/presence/+/+'",
      invoke: async (event) => {
        presenceEvents.push(event);
      },
    },
    {
      name: 'telemetry',
      sql: "SELECT *, topic(2) AS thingName FROM 'ecus/+/telemetry'",
      invoke: async (event) => {
        telemetryEvents.push(event);
      },
    },
  ]);
});

afterAll(async () => {
  await gateway?.stop();
  await cloud?.stop();
});

async function device(cn: string) {
  const { keys, privateKeyPem } = await generateKeyPair();
  const csr = await x509.Pkcs10CertificateRequestGenerator.create({
    name: `CN=${cn}`,
    keys,
    signingAlgorithm: { name: 'ECDSA', hash: 'SHA-256' },
  } as never);
  const pca = new ACMPCAClient(cloud.clientConfig());
  const issued = await pca.send(
    new IssueCertificateCommand({
      CertificateAuthorityArn: cloud.pca.caArn,
      Csr: Buffer.from(csr.toString('pem')),
      SigningAlgorithm: 'SHA256WITHECDSA',
      Validity: { Type: 'DAYS', Value: 1 },
    }),
  );
  const input = { CertificateAuthorityArn: cloud.pca.caArn, CertificateArn: issued.CertificateArn };
  await pca.send(new GetCertificateCommand(input)).catch(() => undefined);
  const got = await pca.send(new GetCertificateCommand(input));
  return { key: privateKeyPem, cert: `${got.Certificate}\n${cloud.pca.issuing.certificatePem}` };
}

function connect(clientId: string, creds: { key: string; cert: string }): Promise<mqtt.MqttClient> {
  const client = mqtt.connect(gateway.url, {
    clientId,
    key: creds.key,
    cert: creds.cert,
    ca: gateway.serverCaPem,
    protocolVersion: 4,
    reconnectPeriod: 0,
    connectTimeout: 3000,
  });
  return new Promise((resolve, reject) => {
    client.once('connect', () => resolve(client));
    const fail = (error?: Error) => {
      client.end(true);
      reject(error ?? new Error('connection closed before CONNACK'));
    };
    client.once('error', fail);
    client.once('close', () => fail());
  });
}

describe('MQTT gateway', () => {
  it('registers an unknown certificate PENDING_ACTIVATION, emits the JITR event and refuses the connection', async () => {
    const creds = await device('VIN_ecu-a');
    await expect(connect('VIN_ecu-a', creds)).rejects.toBeDefined();
    await gateway.settle();
    expect(jitrEvents).toHaveLength(1);
    const event = jitrEvents[0] ?? {};
    expect(event).toMatchObject({
      caCertificateId: cloud.operationalCaCertificateId,
      certificateStatus: 'PENDING_ACTIVATION',
      awsAccountId: '123456789012',
    });
    expect(cloud.iot.certificates.get(String(event.certificateId))?.status).toBe('PENDING_ACTIVATION');
    // A retry while still pending: refused again, no second registration.
    await expect(connect('VIN_ecu-a', creds)).rejects.toBeDefined();
    expect(jitrEvents).toHaveLength(1);
  });

  it('after activation, enforces the attached policy and runs rules with topic(n)', async () => {
    const creds = await device('VIN_ecu-b');
    await expect(connect('VIN_ecu-b', creds)).rejects.toBeDefined();
    await gateway.settle();
    const certificateId = String(jitrEvents.at(-1)?.certificateId);
    const cert = cloud.iot.certificates.get(certificateId);
    if (!cert) throw new Error('not registered');
    cloud.iot.createPolicy('gw-test', POLICY);
    cloud.iot.attachPolicy('gw-test', cert.certificateArn);
    cloud.iot.things.set('VIN_ecu-b', {
      thingName: 'VIN_ecu-b',
      thingArn: cloud.iot.arn('thing', 'VIN_ecu-b'),
      thingId: 'x',
      attributes: {},
      version: 1,
    });
    cert.status = 'ACTIVE';
    // Not attached to the thing yet: the IsAttached condition fails.
    await expect(connect('VIN_ecu-b', creds)).rejects.toBeDefined();
    cloud.iot.attachThingPrincipal('VIN_ecu-b', cert.certificateArn, 'EXCLUSIVE_THING');
    // Another client id is refused (the policy pins the client id to the thing).
    await expect(connect('VIN_other', creds)).rejects.toBeDefined();
    const client = await connect('VIN_ecu-b', creds);
    await client.publishAsync('ecus/VIN_ecu-b/telemetry', JSON.stringify({ v: 1, messageId: 'm1' }), {
      qos: 1,
    });
    await new Promise((r) => setTimeout(r, 50));
    await gateway.settle();
    expect(telemetryEvents).toEqual([{ v: 1, messageId: 'm1', thingName: 'VIN_ecu-b' }]);
    const failuresBefore = gateway.stats.authorizationFailures;
    // Publishing as another thing is denied and the client disconnected, as AWS IoT does.
    await client.publishAsync('ecus/VIN_other/telemetry', '{}', { qos: 1 }).catch(() => undefined);
    await new Promise((r) => setTimeout(r, 100));
    expect(gateway.stats.authorizationFailures).toBe(failuresBefore + 1);
    expect(telemetryEvents).toHaveLength(1);
    await client.endAsync(true);
  });
});

describe('AWS IoT lifecycle events', () => {
  it('publishes connected and disconnected events to the presence rules: a second connection with the same client id takes the session over (DUPLICATE_CLIENTID); refused connections publish nothing', async () => {
    const creds = await device('VIN_ecu-c');
    await expect(connect('VIN_ecu-c', creds)).rejects.toBeDefined();
    await gateway.settle();
    const cert = cloud.iot.certificates.get(String(jitrEvents.at(-1)?.certificateId));
    if (!cert) throw new Error('not registered');
    cloud.iot.createPolicy('gw-test-c', POLICY);
    cloud.iot.attachPolicy('gw-test-c', cert.certificateArn);
    cloud.iot.things.set('VIN_ecu-c', {
      thingName: 'VIN_ecu-c',
      thingArn: cloud.iot.arn('thing', 'VIN_ecu-c'),
      thingId: 'c',
      attributes: {},
      version: 1,
    });
    cert.status = 'ACTIVE';
    cloud.iot.attachThingPrincipal('VIN_ecu-c', cert.certificateArn, 'EXCLUSIVE_THING');
    presenceEvents.length = 0;
    await expect(connect('VIN_other', creds)).rejects.toBeDefined();

    const first = await connect('VIN_ecu-c', creds);
    const second = await connect('VIN_ecu-c', creds);
    await new Promise((r) => setTimeout(r, 100));
    await second.endAsync();
    await new Promise((r) => setTimeout(r, 100));
    await gateway.settle();
    first.end(true);

    const seen = presenceEvents.map((e) => [e.eventType, e.clientId, e.disconnectReason]);
    expect(seen.filter((e) => e[0] === 'connected')).toHaveLength(2);
    expect(seen.filter((e) => e[2] === 'DUPLICATE_CLIENTID')).toHaveLength(1);
    expect(seen.filter((e) => e[2] === 'CLIENT_INITIATED_DISCONNECT')).toHaveLength(1);
    for (const e of presenceEvents) {
      expect(e).toMatchObject({ principalIdentifier: cert.certificateId, timestamp: expect.any(Number) });
      if (e.eventType === 'connected') expect(e.ipAddress).toBe('127.0.0.1');
    }
  });
});

describe('policy evaluator and rule SQL', () => {
  const ctx = { clientId: 'T', thingName: 'T', isAttached: true };
  it('Deny wins over Allow; variables resolve; unknown conditions fail closed', () => {
    const allow = JSON.stringify({ Statement: [{ Effect: 'Allow', Action: 'iot:*', Resource: '*' }] });
    const deny = JSON.stringify({ Statement: [{ Effect: 'Deny', Action: 'iot:Publish', Resource: '*' }] });
    expect(isAllowed([allow], 'iot:Publish', 'arn:x:topic/a', ctx)).toBe(true);
    expect(isAllowed([allow, deny], 'iot:Publish', 'arn:x:topic/a', ctx)).toBe(false);
    expect(
      isAllowed([POLICY], 'iot:Connect', 'arn:aws:iot:eu-west-1:123456789012:client/T', {
        ...ctx,
        isAttached: false,
      }),
    ).toBe(false);
    const odd = JSON.stringify({
      Statement: [
        { Effect: 'Allow', Action: 'iot:Connect', Resource: '*', Condition: { StringEquals: { x: 'y' } } },
      ],
    });
    expect(isAllowed([odd], 'iot:Connect', 'arn:x', ctx)).toBe(false);
    expect(
      isAllowed([POLICY], 'iot:Publish', 'arn:aws:iot:eu-west-1:123456789012:topic/ecus/T/telemetry', {
        ...ctx,
        thingName: undefined,
      }),
    ).toBe(false);
  });

  it('parses SELECT *, topic(n) AS x and matches MQTT filters', () => {
    expect(
      parseRuleSql("SELECT *, topic(2) AS thingName, topic(3) AS topicKind FROM 'ecus/+/telemetry'"),
    ).toEqual({
      fields: [
        { kind: 'all' },
        { kind: 'topic', index: 2, as: 'thingName' },
        { kind: 'topic', index: 3, as: 'topicKind' },
      ],
      filter: 'ecus/+/telemetry',
    });
    expect(topicMatches('ecus/+/telemetry', 'ecus/a/telemetry')).toBe(true);
    expect(topicMatches('ecus/+/telemetry', 'ecus/a/b/telemetry')).toBe(false);
    expect(topicMatches('ecus/#', 'ecus/a/b')).toBe(true);
    expect(() => parseRuleSql('SELECT a FROM x')).toThrow();
  });
});

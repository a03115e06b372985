/**
 * The gateway as AWS IoT Core's message broker for real MQTT clients (the mqtt npm client, both
 * protocol versions): MQTT 5 connections and properties passed through, and IoT Core's refusals
 * (QoS 2, payloads over 128 KB, retained publishes without iot:RetainPublish). Every refusal is
 * checked to have delivered nothing and invoked no rule: a sentinel message sent after the
 * refused client is gone must be the first thing the subscriber and the rule see.
 */
import { IoTDataPlaneClient, PublishCommand } from '@aws-sdk/client-iot-data-plane';
import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  generateKeyPair,
  issueLeaf,
  LocalCloud,
  MAX_PAYLOAD_BYTES,
  MqttGateway,
  pemOf,
  topicMatches,
  validTopicFilter,
} from '../src/index.js';

let cloud: LocalCloud;
let gateway: MqttGateway;
const ruleEvents: Record<string, unknown>[] = [];
const ARN = 'arn:aws:iot:eu-west-1:123456789012';
// biome-ignore lint/suspicious/noTemplateCurlyInString: AWS IoT policy variable
const CLIENT = '${iot:ClientId}';

// Devices may use t/*; retained publishes only on t/retained-ok.
const POLICY = JSON.stringify({
  Version: '2012-10-17',
  Statement: [
    { Effect: 'Allow', Action: 'iot:Connect', Resource: `${ARN}:client/${CLIENT}` },
    { Effect: 'Allow', Action: ['iot:Publish', 'iot:Receive'], Resource: `${ARN}:topic/t/*` },
    { Effect: 'Allow', Action: 'iot:Subscribe', Resource: `${ARN}:topicfilter/t/*` },
    { Effect: 'Allow', Action: 'iot:RetainPublish', Resource: `${ARN}:topic/t/retained-ok` },
  ],
});

interface Device {
  readonly key: string;
  readonly cert: string;
}
const devices = new Map<string, Device>();

async function device(clientId: string, policy = true): Promise<Device> {
  const known = devices.get(clientId);
  if (known) return known;
  const { keys, privateKeyPem } = await generateKeyPair();
  const pem = pemOf(
    await issueLeaf(cloud.pca.issuing, { subject: `CN=${clientId}`, publicKey: keys.publicKey }),
  );
  const cert = cloud.iot.registerCertificate(pem, cloud.operationalCaCertificateId, 'ACTIVE');
  if (policy) cloud.iot.attachPolicy('gw5', cert.certificateArn);
  const d = { key: privateKeyPem, cert: `${pem}${cloud.pca.issuing.certificatePem}` };
  devices.set(clientId, d);
  return d;
}

interface Conn {
  readonly client: mqtt.MqttClient;
  readonly connack: mqtt.IConnackPacket;
  readonly messages: { topic: string; payload: string; packet: mqtt.IPublishPacket }[];
  /** Resolves with the server's DISCONNECT reason code (MQTT 5), or undefined, when the connection closes. */
  readonly closed: Promise<number | undefined>;
}

async function connect(clientId: string, protocolVersion: 4 | 5): Promise<Conn> {
  const creds = await device(clientId);
  const client = mqtt.connect(gateway.url, {
    clientId,
    key: creds.key,
    cert: creds.cert,
    ca: gateway.serverCaPem,
    protocolVersion,
    reconnectPeriod: 0,
    connectTimeout: 3000,
  });
  const messages: Conn['messages'] = [];
  client.on('message', (topic, payload, packet) =>
    messages.push({ topic, payload: payload.toString(), packet }),
  );
  let reason: number | undefined;
  client.on('disconnect', (packet) => {
    reason = packet.reasonCode;
  });
  const closed = new Promise<number | undefined>((resolve) => client.once('close', () => resolve(reason)));
  const connack = await new Promise<mqtt.IConnackPacket>((resolve, reject) => {
    client.once('connect', resolve);
    client.once('error', reject);
    client.once('close', () => reject(new Error('closed before CONNACK')));
  });
  return { client, connack, messages, closed };
}

/** Publishes a sentinel from a fresh client and waits until `to` has it: everything before it has been routed. */
async function sentinel(to: Conn, topic: string): Promise<void> {
  const from = await connect(`sentinel-${Math.random().toString(36).slice(2)}`, 4);
  await from.client.publishAsync(topic, 'sentinel', { qos: 1 });
  await from.client.endAsync();
  await new Promise<void>((resolve) => {
    const seen = () => to.messages.some((m) => m.payload === 'sentinel');
    if (seen()) return resolve();
    to.client.on('message', () => seen() && resolve());
  });
  await gateway.settle();
}

beforeAll(async () => {
  cloud = await LocalCloud.start();
  cloud.iot.createPolicy('gw5', POLICY);
  gateway = await MqttGateway.start(cloud, [
    {
      name: 'capture',
      sql: "SELECT *, topic(2) AS kind FROM 't/#'",
      invoke: async (event) => {
        ruleEvents.push(event);
      },
    },
  ]);
});

afterAll(async () => {
  await gateway?.stop();
  await cloud?.stop();
});

describe('MQTT 5 at the local gateway', () => {
  it('accepts an MQTT 5 CONNECT and tells the client what IoT Core offers (QoS 1 at most)', async () => {
    const c = await connect('v5-connect', 5);
    expect(c.connack.reasonCode).toBe(0);
    expect(c.connack.properties).toMatchObject({ maximumQoS: 1, retainAvailable: true });
    await c.client.endAsync();
  });

  it('refuses an MQTT 5 client whose certificate has no policy allowing iot:Connect with reason code 0x87', async () => {
    const creds = await device('no-policy', false);
    const failures = gateway.stats.authorizationFailures;
    const client = mqtt.connect(gateway.url, {
      clientId: 'no-policy',
      key: creds.key,
      cert: creds.cert,
      ca: gateway.serverCaPem,
      protocolVersion: 5,
      reconnectPeriod: 0,
    });
    const connected = await new Promise<boolean | number | undefined>((resolve) => {
      client.once('connect', () => resolve(true));
      client.once('error', (e) => resolve((e as { code?: number }).code));
    });
    client.end(true);
    expect(connected).toBe(0x87);
    expect(gateway.stats.authorizationFailures).toBe(failures + 1);
  });

  it('passes the data plane publish’s MQTT 5 properties (expiry, response topic, correlation data, content type, user properties) to an MQTT 5 subscriber, and the payload alone to an MQTT 3.1.1 one', async () => {
    const v5 = await connect('sub-v5', 5);
    const v3 = await connect('sub-v3', 4);
    await v5.client.subscribeAsync('t/cmd', { qos: 1 });
    await v3.client.subscribeAsync('t/cmd', { qos: 1 });
    const data = new IoTDataPlaneClient(cloud.clientConfig());
    await data.send(
      new PublishCommand({
        topic: 't/cmd',
        qos: 1,
        payload: Buffer.from('command'),
        messageExpiry: 120,
        responseTopic: 't/cmd-results',
        correlationData: Buffer.from('cmd-42').toString('base64'),
        contentType: 'application/jose',
        userProperties: JSON.stringify([{ issuer: 'cv-security' }]),
      }),
    );
    await sentinel(v5, 't/cmd');
    await sentinel(v3, 't/cmd');
    const got = v5.messages.find((m) => m.payload === 'command')?.packet;
    expect(got?.qos).toBe(1);
    expect(got?.properties).toMatchObject({
      responseTopic: 't/cmd-results',
      contentType: 'application/jose',
      userProperties: { issuer: 'cv-security' },
    });
    expect(Buffer.from(got?.properties?.correlationData ?? []).toString()).toBe('cmd-42');
    // Counted down from 120 by the (sub-second) time it waited in the broker.
    expect(got?.properties?.messageExpiryInterval).toBeGreaterThan(118);
    expect(got?.properties?.messageExpiryInterval).toBeLessThanOrEqual(120);
    const old = v3.messages.find((m) => m.payload === 'command')?.packet;
    expect(old?.properties).toBeUndefined();
    await Promise.all([v5.client.endAsync(), v3.client.endAsync()]);
  });

  it('passes an MQTT 5 publisher’s properties through to an MQTT 5 subscriber (request/response between clients)', async () => {
    const sub = await connect('rr-sub', 5);
    const pub = await connect('rr-pub', 5);
    await sub.client.subscribeAsync('t/request', { qos: 1 });
    await pub.client.publishAsync('t/request', 'ping', {
      qos: 1,
      properties: {
        responseTopic: 't/response',
        correlationData: Buffer.from([1, 2, 3]),
        userProperties: { a: ['1', '2'] },
      },
    });
    await sentinel(sub, 't/request');
    const got = sub.messages.find((m) => m.payload === 'ping')?.packet;
    expect(got?.properties?.responseTopic).toBe('t/response');
    expect([...(got?.properties?.correlationData ?? [])]).toEqual([1, 2, 3]);
    expect(got?.properties?.userProperties).toEqual({ a: ['1', '2'] });
    await Promise.all([sub.client.endAsync(), pub.client.endAsync()]);
  });
});

describe("IoT Core's refusals at the local gateway", () => {
  it('disconnects a client that publishes with QoS 2; nothing is delivered, no rule runs', async () => {
    const sub = await connect('q2-sub', 4);
    await sub.client.subscribeAsync('t/q2', { qos: 1 });
    for (const version of [4, 5] as const) {
      const pub = await connect(`q2-pub-${version}`, version);
      const rulesBefore = ruleEvents.length;
      pub.client.publish('t/q2', `qos2-v${version}`, { qos: 2 });
      // MQTT 3.1.1 has no reason codes: the connection is closed. MQTT 5: DISCONNECT 0x9B, QoS not supported.
      expect(await pub.closed).toBe(version === 5 ? 0x9b : undefined);
      await sentinel(sub, 't/q2');
      expect(sub.messages.map((m) => m.payload).filter((p) => p.startsWith('qos2'))).toEqual([]);
      expect(ruleEvents.length - rulesBefore).toBe(1); // the sentinel only
      sub.messages.length = 0;
      pub.client.end(true);
    }
    expect(gateway.stats.refused).toBeGreaterThanOrEqual(1);
    await sub.client.endAsync();
  });

  it('refuses a QoS 2 subscription (SUBACK failure) and makes none', async () => {
    for (const version of [4, 5] as const) {
      const sub = await connect(`q2-subscriber-${version}`, version);
      const granted = await sub.client.subscribeAsync('t/q2s', { qos: 2 }).catch(() => [{ qos: 128 }]);
      expect(granted[0]?.qos).toBe(128);
      // No subscription was made: a message on the topic does not reach it.
      const other = await connect(`q2s-watch-${version}`, 4);
      await other.client.subscribeAsync('t/q2s', { qos: 1 });
      await sentinel(other, 't/q2s');
      expect(sub.messages).toEqual([]);
      await Promise.all([sub.client.endAsync(), other.client.endAsync()]);
    }
  });

  it('disconnects a publisher of a payload over 128 KB (MQTT 5: reason 0x95); exactly 128 KB passes', async () => {
    const sub = await connect('size-sub', 5);
    await sub.client.subscribeAsync('t/size', { qos: 1 });
    for (const version of [5, 4] as const) {
      const pub = await connect(`size-pub-${version}`, version);
      const rulesBefore = ruleEvents.length;
      pub.client.publish('t/size', Buffer.alloc(MAX_PAYLOAD_BYTES + 1, 0x61), { qos: 1 });
      const reason = await pub.closed;
      expect(reason).toBe(version === 5 ? 0x95 : undefined);
      await sentinel(sub, 't/size');
      expect(sub.messages.filter((m) => m.payload.length > MAX_PAYLOAD_BYTES)).toEqual([]);
      expect(ruleEvents.length - rulesBefore).toBe(1); // the sentinel only
    }
    // The data plane's Publish: 413 RequestEntityTooLargeException, nothing published.
    const published = cloud.published.length;
    const data = new IoTDataPlaneClient(cloud.clientConfig());
    await expect(
      data.send(
        new PublishCommand({ topic: 't/size', qos: 1, payload: Buffer.alloc(MAX_PAYLOAD_BYTES + 1) }),
      ),
    ).rejects.toMatchObject({ name: 'RequestEntityTooLargeException', $metadata: { httpStatusCode: 413 } });
    expect(cloud.published.length).toBe(published);
    const ok = await connect('size-ok', 5);
    await ok.client.publishAsync('t/size', Buffer.alloc(MAX_PAYLOAD_BYTES, 0x62), { qos: 1 });
    await sentinel(sub, 't/size');
    expect(sub.messages.filter((m) => m.payload.length === MAX_PAYLOAD_BYTES)).toHaveLength(1);
    expect(sub.messages.filter((m) => m.payload.length > MAX_PAYLOAD_BYTES)).toEqual([]);
    await Promise.all([sub.client.endAsync(), ok.client.endAsync()]);
  });

  it('disconnects a retained publish without iot:RetainPublish (0x87): not stored, not delivered', async () => {
    const sub = await connect('retain-sub', 5);
    await sub.client.subscribeAsync('t/retained-no', { qos: 1 });
    const pub = await connect('retain-pub', 5);
    const failures = gateway.stats.authorizationFailures;
    pub.client.publish('t/retained-no', 'kept?', { qos: 1, retain: true });
    expect(await pub.closed).toBe(0x87);
    expect(gateway.stats.authorizationFailures).toBe(failures + 1);
    expect(gateway.retained('t/retained-no')).toBeUndefined();
    await sentinel(sub, 't/retained-no');
    expect(sub.messages.map((m) => m.payload)).toEqual(['sentinel']);
    await sub.client.endAsync();
  });

  it('with iot:RetainPublish, keeps the message for a later subscriber to that exact topic, not for a wildcard one', async () => {
    const pub = await connect('retain-ok-pub', 4);
    await pub.client.publishAsync('t/retained-ok', 'config-v1', { qos: 1, retain: true });
    await pub.client.endAsync();
    expect(gateway.retained('t/retained-ok')?.payload.toString()).toBe('config-v1');
    const exact = await connect('retain-exact', 5);
    const wild = await connect('retain-wild', 5);
    await wild.client.subscribeAsync('t/+', { qos: 1 });
    await exact.client.subscribeAsync('t/retained-ok', { qos: 1 });
    await sentinel(exact, 't/retained-ok');
    expect(exact.messages.map((m) => [m.payload, m.packet.retain])).toEqual([
      ['config-v1', true],
      ['sentinel', false],
    ]);
    await sentinel(wild, 't/retained-ok');
    expect(wild.messages.filter((m) => m.payload !== 'sentinel' || m.packet.retain)).toEqual([]);
    await Promise.all([exact.client.endAsync(), wild.client.endAsync()]);
  });
});

describe('topic filters', () => {
  it('match as AWS IoT Core matches them (a/# not the parent a) and malformed filters are rejected', () => {
    expect(topicMatches('sensor/#', 'sensor/temperature/room1')).toBe(true);
    expect(topicMatches('sensor/#', 'sensor/')).toBe(true);
    expect(topicMatches('sensor/#', 'sensor')).toBe(false);
    expect(topicMatches('#', 'anything/at/all')).toBe(true);
    expect(topicMatches('+/b', 'a/b')).toBe(true);
    expect(topicMatches('+/b', 'a/b/c')).toBe(false);
    for (const bad of ['', 'a/#/b', 'a/b#', 'a+/b', 'a/++']) expect(validTopicFilter(bad), bad).toBe(false);
    for (const good of ['#', '+', 'a/+/c', 'a/#', '$aws/things/+/shadow/#'])
      expect(validTopicFilter(good), good).toBe(true);
  });
});

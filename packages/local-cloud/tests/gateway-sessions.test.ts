/**
 * The gateway's MQTT sessions, as a hostile or sloppy client would exercise them: traffic before
 * CONNECT, a second connection with the same client id, a topic alias nobody offered, malformed
 * filters, and Will messages (published only when the client's policy allows them).
 */
import { connect as tlsConnect } from 'node:tls';
import mqtt from 'mqtt';
import mqttPacket from 'mqtt-packet';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateKeyPair, issueLeaf, LocalCloud, MqttGateway, pemOf } from '../src/index.js';

let cloud: LocalCloud;
let gateway: MqttGateway;
const ARN = 'arn:aws:iot:eu-west-1:123456789012';
// biome-ignore lint/suspicious/noTemplateCurlyInString: AWS IoT policy variable
const CLIENT = '${iot:ClientId}';
const POLICY = JSON.stringify({
  Version: '2012-10-17',
  Statement: [
    { Effect: 'Allow', Action: 'iot:Connect', Resource: `${ARN}:client/${CLIENT}` },
    { Effect: 'Allow', Action: ['iot:Publish', 'iot:Receive'], Resource: `${ARN}:topic/s/*` },
    { Effect: 'Allow', Action: 'iot:Subscribe', Resource: `${ARN}:topicfilter/s/*` },
  ],
});
let creds: { key: string; cert: string };

async function open(clientId: string, protocolVersion: 4 | 5, will?: mqtt.IClientOptions['will']) {
  const client = mqtt.connect(gateway.url, {
    clientId,
    ...creds,
    ca: gateway.serverCaPem,
    protocolVersion,
    reconnectPeriod: 0,
    ...(will ? { will } : {}),
  });
  let reason: number | undefined;
  client.on('disconnect', (p) => {
    reason = p.reasonCode;
  });
  const closed = new Promise<number | undefined>((resolve) => client.once('close', () => resolve(reason)));
  const messages: string[] = [];
  client.on('message', (_t, payload) => messages.push(payload.toString()));
  await new Promise((resolve, reject) => {
    client.once('connect', resolve);
    client.once('error', reject);
  });
  return { client, closed, messages };
}

/** Publishes a marker and waits for `to` to receive it: what was routed before it has arrived. */
async function marker(to: { messages: string[]; client: mqtt.MqttClient }, topic: string) {
  const from = await open(`marker-${Math.random().toString(36).slice(2)}`, 4);
  await from.client.publishAsync(topic, 'marker', { qos: 1 });
  await from.client.endAsync();
  await new Promise<void>((resolve) => {
    if (to.messages.includes('marker')) return resolve();
    to.client.on('message', (_t, p) => p.toString() === 'marker' && resolve());
  });
}

beforeAll(async () => {
  cloud = await LocalCloud.start();
  cloud.iot.createPolicy('sessions', POLICY);
  const { keys, privateKeyPem } = await generateKeyPair();
  const pem = pemOf(await issueLeaf(cloud.pca.issuing, { subject: 'CN=any', publicKey: keys.publicKey }));
  const cert = cloud.iot.registerCertificate(pem, cloud.operationalCaCertificateId, 'ACTIVE');
  cloud.iot.attachPolicy('sessions', cert.certificateArn);
  creds = { key: privateKeyPem, cert: `${pem}${cloud.pca.issuing.certificatePem}` };
  gateway = await MqttGateway.start(cloud);
});

afterAll(async () => {
  await gateway?.stop();
  await cloud?.stop();
});

describe('MQTT sessions at the local gateway', () => {
  it('closes a connection whose first packet is not CONNECT, without an answer', async () => {
    const socket = tlsConnect({
      host: '127.0.0.1',
      port: gateway.port,
      key: creds.key,
      cert: creds.cert,
      ca: gateway.serverCaPem,
      servername: 'localhost',
    });
    const received: Buffer[] = [];
    socket.on('data', (d: Buffer) => received.push(d));
    await new Promise((resolve) => socket.once('secureConnect', resolve));
    const connected = gateway.stats.connected;
    socket.write(
      mqttPacket.generate({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic: 's/#', qos: 1 }] }),
    );
    await new Promise((resolve) => socket.once('close', resolve));
    expect(Buffer.concat(received)).toHaveLength(0);
    expect(gateway.stats.connected).toBe(connected);
  });

  it('a second connection with the same client id takes over: the first is disconnected (MQTT 5: 0x8E) and gets nothing more', async () => {
    const first = await open('same-id', 5);
    await first.client.subscribeAsync('s/takeover', { qos: 1 });
    const second = await open('same-id', 5);
    expect(await first.closed).toBe(0x8e);
    await second.client.subscribeAsync('s/takeover', { qos: 1 });
    await marker(second, 's/takeover');
    expect(first.messages).toEqual([]);
    await second.client.endAsync();
  });

  it('disconnects a publish that uses a topic alias it was never offered (0x94); nothing is delivered', async () => {
    const sub = await open('alias-sub', 5);
    await sub.client.subscribeAsync('s/alias', { qos: 1 });
    const pub = await open('alias-pub', 5);
    // mqtt.js would refuse to send it (CONNACK offered no aliases): write the packet ourselves.
    (pub.client as unknown as { stream: NodeJS.WritableStream }).stream.write(
      mqttPacket.generate(
        {
          cmd: 'publish',
          topic: 's/alias',
          payload: Buffer.from('aliased'),
          qos: 0,
          dup: false,
          retain: false,
          properties: { topicAlias: 1 },
        },
        { protocolVersion: 5 },
      ),
    );
    expect(await pub.closed).toBe(0x94);
    await marker(sub, 's/alias');
    expect(sub.messages).toEqual(['marker']);
    await sub.client.endAsync();
  });

  it('refuses malformed topic filters and shared subscriptions (MQTT 5: 0x8F, 0x9E) and subscribes the rest', async () => {
    const c = await open('filters', 5);
    // Written raw: mqtt.js validates filters itself and would not send these.
    const suback = new Promise<number[]>((resolve) =>
      c.client.on('packetreceive', (p) => {
        if (p.cmd === 'suback' && p.messageId === 4242) resolve(p.granted as number[]);
      }),
    );
    (c.client as unknown as { stream: NodeJS.WritableStream }).stream.write(
      mqttPacket.generate(
        {
          cmd: 'subscribe',
          messageId: 4242,
          subscriptions: [
            { topic: 's/ok', qos: 1 },
            { topic: 's/#/x', qos: 1 },
            { topic: '$share/g/s/ok', qos: 1 },
          ],
        },
        { protocolVersion: 5 },
      ),
    );
    const granted = (await suback).map((qos) => ({ qos }));
    expect(granted.map((g) => g.qos)).toEqual([1, 0x8f, 0x9e]);
    await c.client.endAsync();
  });

  it("publishes a client's Will when it vanishes, if its policy allows the topic; never a Will it may not publish", async () => {
    const sub = await open('will-sub', 4);
    await sub.client.subscribeAsync('s/wills', { qos: 1 });
    const allowed = await open('will-ok', 4, {
      topic: 's/wills',
      payload: Buffer.from('gone'),
      qos: 1,
      retain: false,
    });
    const denied = await open('will-denied', 4, {
      topic: 'elsewhere/wills',
      payload: Buffer.from('not allowed'),
      qos: 1,
      retain: false,
    });
    const failures = gateway.stats.authorizationFailures;
    allowed.client.stream.destroy();
    denied.client.stream.destroy();
    await Promise.all([allowed.closed, denied.closed]);
    await marker(sub, 's/wills');
    expect(sub.messages).toEqual(['gone', 'marker']);
    expect(gateway.stats.authorizationFailures).toBe(failures + 1);
    // A clean DISCONNECT discards the Will.
    const polite = await open('will-polite', 4, {
      topic: 's/wills',
      payload: Buffer.from('bye'),
      qos: 1,
      retain: false,
    });
    await polite.client.endAsync();
    await marker(sub, 's/wills');
    expect(sub.messages).toEqual(['gone', 'marker', 'marker']);
    await sub.client.endAsync();
  });
});

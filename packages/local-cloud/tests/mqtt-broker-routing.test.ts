/**
 * The broker's routing through its subscription index, with real MQTT clients on loopback TCP
 * (no TLS: the broker is the transport half; the gateway's policies are stubbed as hooks that
 * record each delivery decision). What a scan of every client used to give, the index must give.
 */

import type { AddressInfo } from 'node:net';
import { createServer, type Server } from 'node:net';
import mqtt from 'mqtt';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type BrokerMessage, type Connection, MqttBroker } from '../src/index.js';

const forwarded: string[] = [];
const refuseTo = new Set<string>();
let onForward: ((conn: Connection) => void) | undefined;
const connections = new Map<string, Connection>();
let broker: MqttBroker;
let server: Server;
let url: string;
const open: mqtt.MqttClient[] = [];

beforeAll(async () => {
  broker = new MqttBroker({
    connect: (conn) => {
      connections.set(conn.clientId, conn);
      return 0;
    },
    publish: () => 0,
    subscribe: (_conn, _filter, qos) => (qos === 1 ? 1 : 0),
    forward: (conn) => {
      forwarded.push(conn.clientId);
      onForward?.(conn);
      return !refuseTo.has(conn.clientId);
    },
    published: () => {},
    will: () => true,
  });
  server = createServer((socket) => broker.handle(socket, undefined));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `mqtt://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterEach(async () => {
  await Promise.all(open.splice(0).map((c) => c.endAsync(true)));
  forwarded.length = 0;
  refuseTo.clear();
  onForward = undefined;
  // Every subscription of a gone client leaves the index (clean sessions only).
  await until(() => broker.subscriptionCount === 0);
});

afterAll(async () => {
  broker.close();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

async function until(condition: () => boolean): Promise<void> {
  for (let i = 0; i < 300 && !condition(); i++) await new Promise((r) => setTimeout(r, 10));
  expect(condition()).toBe(true);
}

interface Received {
  topic: string;
  payload: string;
  qos: number;
}

async function client(clientId: string, filters: Record<string, 0 | 1> = {}) {
  const c = mqtt.connect(url, { clientId, protocolVersion: 5, reconnectPeriod: 0 });
  open.push(c);
  const received: Received[] = [];
  c.on('message', (topic, payload, p) => received.push({ topic, payload: payload.toString(), qos: p.qos }));
  await new Promise((resolve, reject) => {
    c.once('connect', resolve);
    c.once('error', reject);
  });
  c.subscribe(`marker/${clientId}`, { qos: 1 });
  for (const [filter, qos] of Object.entries(filters)) await c.subscribeAsync(filter, { qos });
  return { c, received };
}

function publish(topic: string, payload = 'x', qos: 0 | 1 = 1): void {
  const message: BrokerMessage = {
    topic,
    payload: Buffer.from(payload),
    qos,
    retain: false,
    receivedAt: Date.now(),
  };
  broker.accept(message, undefined);
}

/** Waits until `to` has received a marker sent after everything published so far (per-client order). */
async function settled(to: { received: Received[] }, clientId: string): Promise<Received[]> {
  const marker = `m-${Math.random()}`;
  publish(`marker/${clientId}`, marker);
  await until(() => to.received.some((r) => r.payload === marker));
  return to.received.filter((r) => !r.topic.startsWith('marker/'));
}

describe('MqttBroker routing', () => {
  it('delivers once, at the highest QoS of overlapping exact and wildcard filters', async () => {
    const a = await client('a', { 'ecus/x/commands': 0, 'ecus/+/commands': 1, 'ecus/#': 0 });
    publish('ecus/x/commands', 'c1');
    expect(forwarded).toEqual(['a']);
    expect(await settled(a, 'a')).toEqual([{ topic: 'ecus/x/commands', payload: 'c1', qos: 1 }]);
  });

  it('caps the delivery QoS at the message QoS', async () => {
    const a = await client('a', { 'ecus/x/commands': 1 });
    publish('ecus/x/commands', 'q0', 0);
    expect(await settled(a, 'a')).toEqual([{ topic: 'ecus/x/commands', payload: 'q0', qos: 0 }]);
  });

  it('after unsubscribing one of two overlapping filters, the other still delivers at its own QoS', async () => {
    const a = await client('a', { 'ecus/x/commands': 1, 'ecus/+/commands': 0 });
    await a.c.unsubscribeAsync('ecus/x/commands');
    publish('ecus/x/commands', 'c1');
    expect(await settled(a, 'a')).toEqual([{ topic: 'ecus/x/commands', payload: 'c1', qos: 0 }]);
    await a.c.unsubscribeAsync('ecus/+/commands');
    forwarded.length = 0;
    publish('ecus/x/commands', 'c2');
    expect(forwarded).toEqual([]);
    expect(await settled(a, 'a')).toHaveLength(1);
  });

  it('a takeover by the same client id drops the old session’s subscriptions: only the new one’s route', async () => {
    const old = await client('same', { 'old/topic': 1, 'shared/#': 1 });
    const closed = new Promise<void>((resolve) => old.c.once('close', () => resolve()));
    const fresh = await client('same', { 'new/topic': 1 });
    await closed;
    publish('old/topic', 'o');
    publish('shared/a', 's');
    expect(forwarded).toEqual([]);
    publish('new/topic', 'n');
    expect(forwarded).toEqual(['same']);
    expect(await settled(fresh, 'same')).toEqual([{ topic: 'new/topic', payload: 'n', qos: 1 }]);
    expect(old.received.filter((r) => !r.topic.startsWith('marker/'))).toEqual([]);
    expect(broker.subscriptionCount).toBe(2);
  });

  it('a takeover keeps the client id’s place in the delivery order; clients are visited in connection order', async () => {
    await client('first', { 't/#': 0 });
    await client('second', { 't/1': 0 });
    await client('third', { '+/1': 0 });
    publish('t/1');
    expect(forwarded).toEqual(['first', 'second', 'third']);
    const old = open[0] as mqtt.MqttClient;
    const closed = new Promise<void>((resolve) => old.once('close', () => resolve()));
    await client('first', { 't/1': 1 });
    await closed;
    forwarded.length = 0;
    publish('t/1');
    expect(forwarded).toEqual(['first', 'second', 'third']);
  });

  it('a client closed in the middle of a fan-out gets nothing more, and the others still get the message', async () => {
    const a = await client('a', { 'fleet/all': 1 });
    const b = await client('b', { 'fleet/+': 1 });
    const c = await client('c', { 'fleet/#': 1 });
    const bClosed = new Promise<void>((resolve) => b.c.once('close', () => resolve()));
    onForward = (conn) => {
      if (conn.clientId === 'a') {
        // b's connection ends while the message is being routed (its close handler runs now,
        // not on the next tick as a socket's would): b is past the index lookup already.
        const victim = connections.get('b') as Connection;
        victim.socket.destroy();
        victim.socket.emit('close', false);
      }
    };
    expect(() => publish('fleet/all', 'p1')).not.toThrow();
    onForward = undefined;
    expect(forwarded).toEqual(['a', 'c']);
    await bClosed;
    await until(() => broker.subscriptionCount === 4);
    forwarded.length = 0;
    publish('fleet/all', 'p2');
    expect(forwarded).toEqual(['a', 'c']);
    expect((await settled(a, 'a')).map((r) => r.payload)).toEqual(['p1', 'p2']);
    expect((await settled(c, 'c')).map((r) => r.payload)).toEqual(['p1', 'p2']);
  });

  it('a delivery the forward hook refuses reaches that client only: the others still get it', async () => {
    const a = await client('a', { 'ecus/#': 1 });
    const b = await client('b', { 'ecus/#': 1 });
    refuseTo.add('a');
    publish('ecus/x', 'secret');
    expect(forwarded).toEqual(['a', 'b']);
    refuseTo.clear();
    expect(await settled(a, 'a')).toEqual([]);
    expect((await settled(b, 'b')).map((r) => r.payload)).toEqual(['secret']);
  });

  it('routes $aws/... only to filters naming $aws, never through a leading # or + (MQTT 4.7.2)', async () => {
    const all = await client('all', { '#': 1, '+/things/#': 1 });
    const named = await client('named', { '$aws/things/#': 1 });
    publish('$aws/things/t1/shadow/update', 'shadow');
    expect(forwarded).toEqual(['named']);
    publish('aws/things/t1', 'plain');
    expect((await settled(named, 'named')).map((r) => r.payload)).toEqual(['shadow']);
    expect((await settled(all, 'all')).map((r) => r.payload)).toEqual(['plain']);
  });

  it('routes an expired message to nobody', async () => {
    await client('a', { 'ecus/#': 1 });
    broker.accept(
      {
        topic: 'ecus/x',
        payload: Buffer.from('late'),
        qos: 1,
        retain: false,
        properties: { messageExpiryInterval: 1 },
        receivedAt: Date.now() - 5000,
      },
      undefined,
    );
    expect(forwarded).toEqual([]);
  });
});

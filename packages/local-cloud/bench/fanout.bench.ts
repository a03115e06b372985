// Routing one publish with 20,000 connected ECUs, each subscribed to its own command topic as the
// ECU simulator does (`pnpm bench --project @cv/local-cloud`). Before: the scan the broker did
// until issue 17 (every client, every filter, topicMatches). After: MqttBroker.accept through its
// subscription index. The gateway's per-delivery policy check is the same in both and stubbed here.
import { bench, describe } from 'vitest';
import { type BrokerMessage, type Connection, MqttBroker, topicMatches } from '../src/index.js';
import { expired } from '../src/mqtt-topics.js';

const ECUS = 20_000;

function fakeConnection(clientId: string, filters: Record<string, 0 | 1>): Connection {
  return {
    clientId,
    connected: true,
    subscriptions: new Map(Object.entries(filters)),
    deliver: () => {},
    close: () => {},
    socket: { destroy: () => {} },
  } as unknown as Connection;
}

const clients: Connection[] = [];
for (let i = 0; i < ECUS; i++)
  clients.push(fakeConnection(`VIN${i}_ecu`, { [`ecus/VIN${i}_ecu/commands`]: 1 }));
// A few wildcard subscribers, as an operator console or a test might add.
clients.push(fakeConnection('console', { 'fleet/#': 0, 'ecus/+/alerts': 1 }));

const broker = new MqttBroker({
  connect: () => 0,
  publish: () => 0,
  subscribe: (_c, _f, qos) => qos,
  forward: () => true,
  published: () => {},
  will: () => true,
});
for (const conn of clients) {
  broker.register(conn);
  for (const [filter, qos] of conn.subscriptions) broker.subscribed(conn, filter, qos);
}

/** The broker's `accept` before the index: every connected client's every filter tested. */
function scanAccept(message: BrokerMessage): void {
  const now = Date.now();
  for (const conn of clients) {
    if (!conn.connected || expired(message, now)) continue;
    let qos: 0 | 1 | undefined;
    for (const [filter, granted] of conn.subscriptions) {
      if (topicMatches(filter, message.topic)) qos = Math.max(qos ?? 0, granted) as 0 | 1;
    }
    if (qos === undefined) continue;
    conn.deliver(message, Math.min(qos, message.qos) as 0 | 1, false);
  }
}

const message = (topic: string): BrokerMessage => ({
  topic,
  payload: Buffer.from('x'),
  qos: 1,
  retain: false,
  receivedAt: Date.now(),
});
const command = message(`ecus/VIN${ECUS / 2}_ecu/commands`);
const telemetry = message(`ecus/VIN${ECUS / 2}_ecu/telemetry`);

describe(`a command to one ECU, ${ECUS} connected`, () => {
  bench('before: scan every client and filter', () => scanAccept(command));
  bench('after: subscription index', () => broker.accept(command, undefined));
});

describe(`a telemetry message nobody subscribes to, ${ECUS} connected`, () => {
  bench('before: scan every client and filter', () => scanAccept(telemetry));
  bench('after: subscription index', () => broker.accept(telemetry, undefined));
});

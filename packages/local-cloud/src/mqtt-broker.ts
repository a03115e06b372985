/**
 * A small MQTT 3.1.1 and MQTT 5 broker on mqtt-packet: the transport half of the local device
 * gateway (gateway.ts holds what AWS IoT decides: identities, policies, limits, rules).
 *
 * Scope, deliberately: clean sessions only (CONNACK sessionPresent is always 0; nothing is queued
 * for an offline client), QoS 0 and 1, retained messages, Will messages, keep-alive, session
 * takeover by client id, MQTT 5 properties passed through from publisher to subscriber. Every
 * decision to accept or refuse is the hooks' (the gateway's).
 */
import type { Socket } from 'node:net';
import { type BrokerHooks, Connection, type ConnectionHost } from './mqtt-connection.js';
import { type BrokerMessage, expired, Reason, topicMatches } from './mqtt-topics.js';

export { type BrokerHooks, Connection } from './mqtt-connection.js';
export {
  type BrokerMessage,
  type MessageProperties,
  Reason,
  topicMatches,
  validTopicFilter,
} from './mqtt-topics.js';

export class MqttBroker implements ConnectionHost {
  private readonly clients = new Map<string, Connection>();
  private readonly retained = new Map<string, BrokerMessage>();

  constructor(readonly hooks: BrokerHooks) {}

  /** Serves MQTT on an established (authenticated) socket. */
  handle(socket: Socket, session: unknown): Connection {
    return new Connection(socket, this, session);
  }

  register(conn: Connection): void {
    const previous = this.clients.get(conn.clientId);
    this.clients.set(conn.clientId, conn);
    // One connection per client id: the newer one wins (AWS IoT, and MQTT 3.1.4-2).
    if (previous && previous !== conn) previous.close(Reason.sessionTakenOver);
  }

  unregister(conn: Connection): void {
    if (this.clients.get(conn.clientId) === conn) this.clients.delete(conn.clientId);
  }

  /** An accepted message: kept if retained, routed to matching subscriptions, then announced. */
  accept(message: BrokerMessage, from: Connection | undefined): void {
    if (message.retain) {
      if (message.payload.length === 0) this.retained.delete(message.topic);
      else this.retained.set(message.topic, message);
    }
    const now = Date.now();
    for (const conn of this.clients.values()) {
      if (!conn.connected || expired(message, now)) continue;
      let qos: 0 | 1 | undefined;
      for (const [filter, granted] of conn.subscriptions) {
        if (topicMatches(filter, message.topic)) qos = Math.max(qos ?? 0, granted) as 0 | 1;
      }
      if (qos === undefined || !this.hooks.forward(conn, message)) continue;
      conn.deliver(message, Math.min(qos, message.qos) as 0 | 1, false);
    }
    this.hooks.published(message, from);
  }

  /**
   * Retained message on subscription. AWS IoT Core delivers it only to a filter naming the topic
   * exactly, never through wildcards (developerguide/mqtt.html, "Using MQTT retained messages").
   */
  sendRetained(conn: Connection, filter: string): void {
    const message = this.retained.get(filter);
    if (!message) return;
    if (expired(message, Date.now())) {
      this.retained.delete(filter);
      return;
    }
    if (!this.hooks.forward(conn, message)) return;
    conn.deliver(message, Math.min(conn.subscriptions.get(filter) ?? 0, message.qos) as 0 | 1, true);
  }

  retainedMessage(topic: string): BrokerMessage | undefined {
    return this.retained.get(topic);
  }

  close(): void {
    for (const conn of this.clients.values()) conn.socket.destroy();
    this.clients.clear();
  }
}

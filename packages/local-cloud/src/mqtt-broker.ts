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
import { SubscriptionIndex } from './mqtt-subscriptions.js';
import { type BrokerMessage, expired, Reason } from './mqtt-topics.js';

export { type BrokerHooks, Connection } from './mqtt-connection.js';
export { SubscriptionIndex } from './mqtt-subscriptions.js';
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
  /** Every registered connection's subscriptions, for routing without visiting every client. */
  private readonly subscriptions = new SubscriptionIndex<Connection>();
  /**
   * Delivery order across subscribers: when the client id was first registered (a takeover keeps
   * its predecessor's place), the order a scan of `clients` would visit them in.
   */
  private readonly order = new WeakMap<Connection, number>();
  private nextOrder = 0;

  constructor(readonly hooks: BrokerHooks) {}

  /** Serves MQTT on an established (authenticated) socket. */
  handle(socket: Socket, session: unknown): Connection {
    return new Connection(socket, this, session);
  }

  register(conn: Connection): void {
    const previous = this.clients.get(conn.clientId);
    this.clients.set(conn.clientId, conn);
    this.order.set(conn, previous ? (this.order.get(previous) ?? 0) : this.nextOrder++);
    // One connection per client id: the newer one wins (AWS IoT, and MQTT 3.1.4-2). Clean
    // sessions only: the newer one starts with no subscriptions, the older one's go now.
    if (previous && previous !== conn) {
      this.forget(previous);
      previous.close(Reason.sessionTakenOver);
    }
  }

  unregister(conn: Connection): void {
    if (this.clients.get(conn.clientId) === conn) this.clients.delete(conn.clientId);
    this.forget(conn);
  }

  subscribed(conn: Connection, filter: string, qos: 0 | 1): void {
    if (this.clients.get(conn.clientId) === conn) this.subscriptions.add(conn, filter, qos);
  }

  unsubscribed(conn: Connection, filter: string): void {
    this.subscriptions.remove(conn, filter);
  }

  /** Number of (client, filter) subscriptions routed to. */
  get subscriptionCount(): number {
    return this.subscriptions.size;
  }

  /** An accepted message: kept if retained, routed to matching subscriptions, then announced. */
  accept(message: BrokerMessage, from: Connection | undefined): void {
    if (message.retain) {
      if (message.payload.length === 0) this.retained.delete(message.topic);
      else this.retained.set(message.topic, message);
    }
    if (!expired(message, Date.now())) this.route(message);
    this.hooks.published(message, from);
  }

  /** Each client with a matching subscription gets the message once, at the highest QoS granted (capped at the message's). */
  private route(message: BrokerMessage): void {
    const matched = this.subscriptions.match(message.topic);
    const recipients =
      matched.size > 1
        ? [...matched].sort(([a], [b]) => (this.order.get(a) ?? 0) - (this.order.get(b) ?? 0))
        : matched;
    for (const [conn, qos] of recipients) {
      // A client taken over or gone while this message was being routed gets nothing.
      if (!conn.connected || this.clients.get(conn.clientId) !== conn) continue;
      if (!this.hooks.forward(conn, message)) continue;
      conn.deliver(message, Math.min(qos, message.qos) as 0 | 1, false);
    }
  }

  private forget(conn: Connection): void {
    for (const filter of conn.subscriptions.keys()) this.subscriptions.remove(conn, filter);
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

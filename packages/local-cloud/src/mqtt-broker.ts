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
import mqttPacket, {
  type IConnectPacket,
  type IPublishPacket,
  type ISubscribePacket,
  type IUnsubscribePacket,
  type Packet,
} from 'mqtt-packet';

/** The MQTT 5 properties a PUBLISH carries through the broker (MQTT 5 section 3.3.2.3). */
export type MessageProperties = NonNullable<IPublishPacket['properties']>;

export interface BrokerMessage {
  readonly topic: string;
  readonly payload: Buffer;
  readonly qos: 0 | 1;
  readonly retain: boolean;
  readonly properties?: MessageProperties;
  /** When the broker received it (message expiry counts from here). */
  readonly receivedAt: number;
}

/** MQTT 5 reason codes the gateway uses (MQTT 5 section 2.4). */
export const Reason = {
  success: 0x00,
  unspecified: 0x80,
  malformed: 0x81,
  protocolError: 0x82,
  clientIdNotValid: 0x85,
  notAuthorized: 0x87,
  sessionTakenOver: 0x8e,
  topicFilterInvalid: 0x8f,
  topicNameInvalid: 0x90,
  packetTooLarge: 0x95,
  topicAliasInvalid: 0x94,
  qosNotSupported: 0x9b,
  sharedSubscriptionsNotSupported: 0x9e,
} as const;

export interface BrokerHooks {
  /** CONNECT: 0 accepts; otherwise the MQTT 5 reason code of the refusal. */
  connect(conn: Connection, packet: IConnectPacket): number;
  /** A client's PUBLISH (`qos` as requested): 0 accepts; otherwise the reason code the client is disconnected with. */
  publish(conn: Connection, message: BrokerMessage, qos: number): number;
  /** One SUBSCRIBE entry: the granted QoS, or a failure reason code (>= 0x80). */
  subscribe(conn: Connection, filter: string, qos: number): number;
  /** Whether a matching message may be sent to this client. */
  forward(conn: Connection, message: BrokerMessage): boolean;
  /** A message the broker accepted (from a client, a Will, or the cloud side). */
  published(message: BrokerMessage, from: Connection | undefined): void;
  /** A Will message about to be published: whether the client may publish it. */
  will(conn: Connection, message: BrokerMessage): boolean;
}

/**
 * MQTT topic filter match (`+` one level, `#` the rest). As in AWS IoT Core, `a/#` does not match
 * the parent `a` ("a subscription to the topic sensor/# receives messages published to the topics
 * sensor/, sensor/temperature, ... but not messages published to sensor",
 * https://docs.aws.amazon.com/iot/latest/developerguide/mqtt.html#mqtt-differences).
 */
export function topicMatches(filter: string, topic: string): boolean {
  const f = filter.split('/');
  const t = topic.split('/');
  for (let i = 0; i < f.length; i++) {
    if (i >= t.length) return false;
    if (f[i] === '#') return true;
    if (f[i] !== '+' && f[i] !== t[i]) return false;
  }
  return f.length === t.length;
}

/** A topic filter is well formed (MQTT 4.7.1): `#` only last and alone in its level, `+` alone in its level. */
export function validTopicFilter(filter: string): boolean {
  if (filter === '') return false;
  const levels = filter.split('/');
  return levels.every(
    (level, i) =>
      (level === '#' ? i === levels.length - 1 : !level.includes('#')) &&
      (level === '+' || !level.includes('+')),
  );
}

const FORWARDED: readonly (keyof MessageProperties)[] = [
  'payloadFormatIndicator',
  'contentType',
  'responseTopic',
  'correlationData',
  'userProperties',
];

/** The properties a subscriber receives: the publisher's, with the expiry interval counted down (MQTT 5 3.3.2.3.3). */
function deliveredProperties(message: BrokerMessage, now: number): MessageProperties | undefined {
  const from = message.properties;
  if (!from) return undefined;
  const out: Record<string, unknown> = {};
  for (const key of FORWARDED) if (from[key] !== undefined) out[key] = from[key];
  if (from.messageExpiryInterval !== undefined) {
    const elapsed = Math.floor((now - message.receivedAt) / 1000);
    out.messageExpiryInterval = Math.max(0, from.messageExpiryInterval - elapsed);
  }
  return Object.keys(out).length > 0 ? (out as MessageProperties) : undefined;
}

function expired(message: BrokerMessage, now: number): boolean {
  const interval = message.properties?.messageExpiryInterval;
  return interval !== undefined && now - message.receivedAt >= interval * 1000;
}

export class Connection {
  clientId = '';
  version = 4;
  connected = false;
  private closing = false;
  readonly subscriptions = new Map<string, 0 | 1>();
  private will: BrokerMessage | undefined;
  private nextId = 1;
  private timer: NodeJS.Timeout | undefined;
  private readonly parserOptions: { protocolVersion?: number } = {};

  constructor(
    readonly socket: Socket,
    private readonly broker: MqttBroker,
    /** What the transport established about the client (the gateway's certificate session). */
    readonly session: unknown,
  ) {
    const parser = mqttPacket.parser(this.parserOptions);
    parser.on('packet', (packet: Packet) => this.onPacket(packet));
    parser.on('error', () => this.close(Reason.malformed));
    socket.on('data', (chunk: Buffer) => parser.parse(chunk));
    socket.on('error', () => socket.destroy());
    socket.on('close', () => this.closed());
  }

  send(packet: Packet): void {
    if (!this.socket.destroyed)
      this.socket.write(mqttPacket.generate(packet, { protocolVersion: this.version }));
  }

  /** Ends the connection; MQTT 5 clients are told why (DISCONNECT with the reason code). */
  close(reason: number = Reason.success): void {
    if (this.closing) return;
    this.closing = true;
    if (this.connected && this.version === 5 && !this.socket.destroyed) {
      this.send({ cmd: 'disconnect', reasonCode: reason });
    }
    this.socket.end();
    setTimeout(() => this.socket.destroy(), 1000).unref();
  }

  deliver(message: BrokerMessage, qos: 0 | 1, retain: boolean): void {
    const properties = this.version === 5 ? deliveredProperties(message, Date.now()) : undefined;
    const packet: IPublishPacket = {
      cmd: 'publish',
      topic: message.topic,
      payload: message.payload,
      qos,
      retain,
      dup: false,
      ...(qos > 0 ? { messageId: this.packetId() } : {}),
      ...(properties ? { properties } : {}),
    };
    this.send(packet);
  }

  private packetId(): number {
    const id = this.nextId;
    this.nextId = id >= 65535 ? 1 : id + 1;
    return id;
  }

  private keepAlive(seconds: number): void {
    if (seconds <= 0) return;
    // MQTT 3.1.2.10 / 5 3.1.2.10: one and a half keep-alive periods without a packet end the connection.
    const arm = () => {
      clearTimeout(this.timer);
      this.timer = setTimeout(() => this.socket.destroy(), seconds * 1500);
    };
    arm();
    this.socket.on('data', arm);
  }

  private onPacket(packet: Packet): void {
    if (this.closing) return;
    if (!this.connected) {
      if (packet.cmd !== 'connect' || this.clientId !== '') {
        this.socket.destroy();
        return;
      }
      this.onConnect(packet);
      return;
    }
    switch (packet.cmd) {
      case 'publish':
        this.onPublish(packet);
        return;
      case 'subscribe':
        this.onSubscribe(packet);
        return;
      case 'unsubscribe':
        this.onUnsubscribe(packet);
        return;
      case 'pingreq':
        this.send({ cmd: 'pingresp' });
        return;
      case 'puback':
        return;
      case 'disconnect':
        this.will = undefined;
        this.socket.end();
        return;
      default:
        // A second CONNECT, QoS 2 flow packets (never granted) or AUTH: a protocol error.
        this.close(Reason.protocolError);
    }
  }

  private onConnect(packet: IConnectPacket): void {
    this.version = packet.protocolVersion ?? 4;
    this.parserOptions.protocolVersion = this.version;
    this.clientId = packet.clientId;
    const refuse = (reason: number, v3: number) => {
      this.send(
        this.version === 5
          ? { cmd: 'connack', reasonCode: reason, sessionPresent: false }
          : { cmd: 'connack', returnCode: v3, sessionPresent: false },
      );
      this.socket.end();
    };
    if (packet.clientId === '') {
      refuse(Reason.clientIdNotValid, 2);
      return;
    }
    const reason = this.broker.hooks.connect(this, packet);
    if (reason !== 0) {
      refuse(reason, reason === Reason.notAuthorized ? 5 : 2);
      return;
    }
    if (packet.will) {
      this.will = {
        topic: packet.will.topic,
        payload: Buffer.from(packet.will.payload),
        qos: packet.will.qos === 1 ? 1 : 0,
        retain: packet.will.retain === true,
        ...(packet.will.properties ? { properties: packet.will.properties as MessageProperties } : {}),
        receivedAt: Date.now(),
      };
    }
    this.broker.register(this);
    this.connected = true;
    this.send(
      this.version === 5
        ? {
            cmd: 'connack',
            reasonCode: 0,
            sessionPresent: false,
            // What this broker offers (MQTT 5 3.2.2.3): QoS 0/1 only, like AWS IoT Core; no topic
            // aliases, subscription identifiers or shared subscriptions here.
            properties: {
              maximumQoS: 1,
              retainAvailable: true,
              wildcardSubscriptionAvailable: true,
              subscriptionIdentifiersAvailable: false,
              sharedSubscriptionAvailable: false,
            },
          }
        : { cmd: 'connack', returnCode: 0, sessionPresent: false },
    );
    this.keepAlive(packet.keepalive ?? 0);
  }

  private onPublish(packet: IPublishPacket): void {
    if (packet.properties?.topicAlias !== undefined) {
      // CONNACK offered no Topic Alias Maximum, so any alias is invalid (MQTT 5 3.3.2.3.4).
      this.close(Reason.topicAliasInvalid);
      return;
    }
    const message = this.message(packet);
    // This broker has no QoS 2 flow: whatever the hook says, a QoS 2 PUBLISH is refused.
    const reason =
      this.broker.hooks.publish(this, message, packet.qos) || (packet.qos === 2 ? Reason.qosNotSupported : 0);
    if (reason !== 0) {
      this.close(reason);
      return;
    }
    if (packet.qos === 1) {
      this.send(
        this.version === 5
          ? { cmd: 'puback', messageId: packet.messageId, reasonCode: 0 }
          : { cmd: 'puback', messageId: packet.messageId },
      );
    }
    this.broker.accept(message, this);
  }

  private message(packet: IPublishPacket): BrokerMessage {
    const { topicAlias: _alias, subscriptionIdentifier: _sid, ...properties } = packet.properties ?? {};
    return {
      topic: packet.topic,
      payload: Buffer.isBuffer(packet.payload) ? packet.payload : Buffer.from(packet.payload),
      qos: packet.qos === 1 ? 1 : 0,
      retain: packet.retain,
      ...(Object.keys(properties).length > 0 ? { properties } : {}),
      receivedAt: Date.now(),
    };
  }

  private onSubscribe(packet: ISubscribePacket): void {
    const granted: number[] = [];
    const added: string[] = [];
    for (const { topic, qos } of packet.subscriptions) {
      let code: number;
      if (topic.startsWith('$share/')) {
        code = this.version === 5 ? Reason.sharedSubscriptionsNotSupported : Reason.unspecified;
      } else if (!validTopicFilter(topic)) {
        code = this.version === 5 ? Reason.topicFilterInvalid : Reason.unspecified;
      } else {
        code = this.broker.hooks.subscribe(this, topic, qos);
        if (code === 2) code = Reason.unspecified;
        if (code >= 0x80 && this.version !== 5) code = Reason.unspecified;
      }
      granted.push(code);
      if (code < 0x80) {
        this.subscriptions.set(topic, code === 1 ? 1 : 0);
        added.push(topic);
      }
    }
    this.send({ cmd: 'suback', messageId: packet.messageId, granted });
    for (const filter of added) this.broker.sendRetained(this, filter);
  }

  private onUnsubscribe(packet: IUnsubscribePacket): void {
    for (const topic of packet.unsubscriptions) this.subscriptions.delete(topic);
    this.send({
      cmd: 'unsuback',
      messageId: packet.messageId,
      granted: this.version === 5 ? packet.unsubscriptions.map(() => 0) : [],
    });
  }

  private closed(): void {
    clearTimeout(this.timer);
    const wasConnected = this.connected;
    this.connected = false;
    this.broker.unregister(this);
    const will = this.will;
    this.will = undefined;
    if (wasConnected && will && this.broker.hooks.will(this, will)) this.broker.accept(will, undefined);
  }
}

export class MqttBroker {
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

/** One MQTT client connection of the local broker (mqtt-broker.ts): the protocol, both versions. */
import type { Socket } from 'node:net';
import mqttPacket, {
  type IConnectPacket,
  type IPublishPacket,
  type ISubscribePacket,
  type IUnsubscribePacket,
  type Packet,
} from 'mqtt-packet';
import {
  type BrokerMessage,
  deliveredProperties,
  type MessageProperties,
  Reason,
  validTopicFilter,
} from './mqtt-topics.js';

/** What a connection needs of its broker (MqttBroker). */
export interface ConnectionHost {
  readonly hooks: BrokerHooks;
  register(conn: Connection): void;
  unregister(conn: Connection): void;
  accept(message: BrokerMessage, from: Connection | undefined): void;
  sendRetained(conn: Connection, filter: string): void;
  /** A granted subscription (or a new QoS for an existing one): the broker indexes it. */
  subscribed(conn: Connection, filter: string, qos: 0 | 1): void;
  unsubscribed(conn: Connection, filter: string): void;
}

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
  /** After CONNACK: the client is connected (AWS IoT's `connected` lifecycle event). */
  connected?(conn: Connection): void;
  /** A connected client is gone, with AWS IoT's `disconnectReason` (`disconnected` lifecycle event). */
  disconnected?(conn: Connection, reason: string): void;
}

/** AWS IoT's `disconnectReason` for a disconnection the broker decided, by MQTT 5 reason code. */
function disconnectReasonOf(reason: number): string {
  if (reason === Reason.sessionTakenOver) return 'DUPLICATE_CLIENTID';
  if (reason === Reason.notAuthorized) return 'FORBIDDEN_ACCESS';
  if (reason === Reason.quotaExceeded) return 'THROTTLED';
  if (reason === Reason.success) return 'SERVER_INITIATED_DISCONNECT';
  return 'CLIENT_ERROR';
}

export class Connection {
  clientId = '';
  version = 4;
  connected = false;
  /** Why the connection ended, as AWS IoT's lifecycle events name it (unset: the connection was lost). */
  disconnectReason: string | undefined;
  private closing = false;
  readonly subscriptions = new Map<string, 0 | 1>();
  private will: BrokerMessage | undefined;
  private nextId = 1;
  private timer: NodeJS.Timeout | undefined;
  private readonly parserOptions: { protocolVersion?: number } = {};

  constructor(
    readonly socket: Socket,
    private readonly broker: ConnectionHost,
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
    this.disconnectReason ??= disconnectReasonOf(reason);
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
      this.timer = setTimeout(() => {
        this.disconnectReason ??= 'MQTT_KEEP_ALIVE_TIMEOUT';
        this.socket.destroy();
      }, seconds * 1500);
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
        this.disconnectReason ??= 'CLIENT_INITIATED_DISCONNECT';
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
    this.broker.hooks.connected?.(this);
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
        const qos = code === 1 ? 1 : 0;
        this.subscriptions.set(topic, qos);
        this.broker.subscribed(this, topic, qos);
        added.push(topic);
      }
    }
    this.send({ cmd: 'suback', messageId: packet.messageId, granted });
    for (const filter of added) this.broker.sendRetained(this, filter);
  }

  private onUnsubscribe(packet: IUnsubscribePacket): void {
    for (const topic of packet.unsubscriptions) {
      this.subscriptions.delete(topic);
      this.broker.unsubscribed(this, topic);
    }
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
    if (wasConnected) this.broker.hooks.disconnected?.(this, this.disconnectReason ?? 'CONNECTION_LOST');
    if (wasConnected && will && this.broker.hooks.will(this, will)) this.broker.accept(will, undefined);
  }
}

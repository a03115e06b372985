/**
 * The MQTT device gateway, acting as AWS IoT Core's message broker: MQTT 3.1.1 and MQTT 5
 * (mqtt-broker.ts) behind TLS with client certificates. A certificate issued by a registered CA
 * with auto-registration but unknown to IoT is registered PENDING_ACTIVATION, the JITR event goes
 * to the rules and the client is disconnected; only ACTIVE certificates connect. The attached IoT
 * policies (certificate and thing groups) are enforced on connect, publish, retained publish,
 * subscribe and receive, and the gateway refuses what AWS IoT Core refuses (QoS 2, payloads over
 * 128 KB). IoT rules (`SELECT *, topic(n) AS x FROM '<filter>'`) invoke their actions in-process.
 */
import { randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';
import type { AddressInfo } from 'node:net';
import { createServer as createTlsServer, type Server, type TLSSocket } from 'node:tls';
import { MAX_PAYLOAD_BYTES } from './iot-limits.js';
import { type IotRequestContext, isAllowed } from './iot-policy.js';
import {
  type BrokerMessage,
  type Connection,
  type MessageProperties,
  MqttBroker,
  Reason,
  topicMatches,
} from './mqtt-broker.js';
import { generateKeyPair, iotCertificateId, issueLeaf, pemOf, x509 } from './pki.js';
import type { LocalCloud } from './server.js';
import type { PublishProperties } from './services/iot.js';

export { MAX_PAYLOAD_BYTES } from './iot-limits.js';
export { topicMatches } from './mqtt-broker.js';

/** The port `pnpm run local-cloud` serves MQTT on: AWS IoT Core's MQTT-over-TLS port (8883) moved to loopback's unprivileged range. */
export const DEFAULT_GATEWAY_PORT = 8883;

export interface GatewayOptions {
  /** TCP port on 127.0.0.1 (default: an ephemeral port). */
  readonly port?: number;
}

export interface IotRule {
  readonly name: string;
  readonly sql: string;
  /** The rule action: invoked with the SELECT result (a Lambda action, in-process). */
  readonly invoke: (event: Record<string, unknown>) => Promise<unknown>;
}

export interface ParsedRule {
  readonly fields: readonly ({ kind: 'all' } | { kind: 'topic'; index: number; as: string })[];
  readonly filter: string;
}

/** Parses the subset of the IoT SQL the project's rules use. */
export function parseRuleSql(sql: string): ParsedRule {
  const m = /^\s*SELECT\s+(.+?)\s+FROM\s+'([^']+)'\s*$/i.exec(sql);
  if (!m) throw new Error(`unsupported IoT rule SQL: ${sql}`);
  const fields = (m[1] ?? '').split(',').map((f) => {
    const field = f.trim();
    if (field === '*') return { kind: 'all' as const };
    const t = /^topic\((\d+)\)\s+AS\s+(\w+)$/i.exec(field);
    if (!t) throw new Error(`unsupported SELECT field: ${field}`);
    return { kind: 'topic' as const, index: Number(t[1]), as: t[2] ?? '' };
  });
  return { fields, filter: m[2] ?? '' };
}

export interface AuthorizationFailure {
  readonly clientId: string;
  readonly thingName: string | undefined;
  readonly certificateId: string;
  readonly action: string;
  readonly resource: string;
}

interface Session {
  readonly certificateId: string;
  readonly certificateArn: string;
}

export class MqttGateway extends EventEmitter<{
  authorizationFailure: [failure: AuthorizationFailure];
  jitr: [certificateId: string];
  ruleError: [rule: string, error: unknown];
}> {
  readonly stats = {
    connected: 0,
    rejected: 0,
    jitrEvents: 0,
    authorizationFailures: 0,
    ruleInvocations: 0,
    delivered: 0,
    /** Connections and publishes refused by the account's message-broker quotas (quotas.ts). */
    throttled: 0,
    /** Publishes and subscriptions refused for what AWS IoT Core does not support (QoS 2, size). */
    refused: 0,
  };
  readonly failuresByThing = new Map<string, number>();
  private readonly rules: { rule: IotRule; parsed: ParsedRule }[] = [];
  private readonly pending = new Set<Promise<unknown>>();
  private readonly broker: MqttBroker;
  port = 0;
  url = '';

  private constructor(
    private readonly cloud: LocalCloud,
    private readonly server: Server,
    /** PEM the devices trust for the gateway's server certificate. */
    readonly serverCaPem: string,
  ) {
    super();
    this.broker = new MqttBroker({
      connect: (conn) => this.onConnect(conn),
      publish: (conn, message, qos) => this.onPublish(conn, message, qos),
      subscribe: (conn, filter, qos) => this.onSubscribe(conn, filter, qos),
      forward: (conn, message) => this.onForward(conn, message),
      published: (message) => this.runRules(message.topic, message.payload),
      will: (conn, message) => this.onPublish(conn, message, message.qos) === 0,
      connected: (conn) => this.onConnected(conn),
      disconnected: (conn, reason) => this.onDisconnected(conn, reason),
    });
  }

  /**
   * Starts the gateway on 127.0.0.1 (an ephemeral port unless `options.port`) in front of the cloud's IoT state.
   * @example const gateway = await MqttGateway.start(cloud, rules);
   */
  static async start(
    cloud: LocalCloud,
    rules: readonly IotRule[] = [],
    options: GatewayOptions = {},
  ): Promise<MqttGateway> {
    const { keys, privateKeyPem } = await generateKeyPair();
    const serverCert = await issueLeaf(cloud.pca.issuing, {
      subject: 'CN=localhost',
      publicKey: keys.publicKey,
      dnsNames: ['localhost'],
      ipAddresses: ['127.0.0.1'],
      extendedKeyUsages: ['1.3.6.1.5.5.7.3.1'],
    });
    const trusted = [
      cloud.pca.root.certificatePem,
      ...[...cloud.iot.caCertificates.values()].map((c) => c.certificatePem),
    ];
    const server = createTlsServer(
      {
        key: privateKeyPem,
        cert: `${pemOf(serverCert)}${cloud.pca.issuing.certificatePem}`,
        ca: trusted,
        requestCert: true,
        rejectUnauthorized: true,
        minVersion: 'TLSv1.2',
      },
      (socket) => {
        void gateway.accept(socket);
      },
    );
    const gateway = new MqttGateway(cloud, server, cloud.pca.root.certificatePem);
    for (const rule of rules) gateway.addRule(rule);
    cloud.iot.on('publish', (topic, payload, props) => {
      gateway.publish(topic, payload, props);
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(options.port ?? 0, '127.0.0.1', () => resolve());
    });
    gateway.port = (server.address() as AddressInfo).port;
    gateway.url = `mqtts://127.0.0.1:${gateway.port}`;
    return gateway;
  }

  addRule(rule: IotRule): void {
    this.rules.push({ rule, parsed: parseRuleSql(rule.sql) });
  }

  /** Waits for every rule invocation started so far. */
  async settle(): Promise<void> {
    while (this.pending.size > 0) await Promise.allSettled([...this.pending]);
  }

  async stop(): Promise<void> {
    await this.settle();
    this.broker.close();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  /**
   * Publishes from the cloud side (the IoT data plane's Publish), with its MQTT 5 properties,
   * to the subscribers, then runs the matching rules.
   */
  publish(topic: string, payload: Buffer, props: Partial<PublishProperties> = {}): void {
    const properties: MessageProperties = {
      ...(props.contentType !== undefined ? { contentType: props.contentType } : {}),
      ...(props.responseTopic !== undefined ? { responseTopic: props.responseTopic } : {}),
      ...(props.messageExpiry !== undefined ? { messageExpiryInterval: props.messageExpiry } : {}),
      ...(props.correlationData !== undefined ? { correlationData: props.correlationData } : {}),
      ...(props.userProperties !== undefined ? { userProperties: props.userProperties } : {}),
    };
    const message: BrokerMessage = {
      topic,
      payload,
      qos: props.qos === 1 ? 1 : 0,
      retain: props.retain === true,
      ...(Object.keys(properties).length > 0 ? { properties } : {}),
      receivedAt: Date.now(),
    };
    this.broker.accept(message, undefined);
  }

  /** The retained message stored for a topic, if any. */
  retained(topic: string): BrokerMessage | undefined {
    return this.broker.retainedMessage(topic);
  }

  private async accept(socket: TLSSocket): Promise<void> {
    if (this.cloud.quotas?.admit('iot-broker', 'Connect') === false) {
      // Over the account's connect rate: the connection is closed before CONNACK (the client retries).
      this.stats.throttled += 1;
      socket.destroy();
      return;
    }
    const peer = socket.getPeerX509Certificate();
    if (!peer) {
      this.stats.rejected += 1;
      socket.destroy();
      return;
    }
    const pem = peer.toString();
    const certificateId = iotCertificateId(pem);
    const iot = this.cloud.iot;
    let cert = iot.certificates.get(certificateId);
    if (!cert) {
      const ca = await iot.findIssuingCa(new x509.X509Certificate(pem));
      if (ca && ca.status === 'ACTIVE' && ca.autoRegistrationStatus === 'ENABLE') {
        // Just-in-time registration: register PENDING_ACTIVATION, publish the event, disconnect.
        cert = iot.registerCertificate(pem, ca.certificateId, 'PENDING_ACTIVATION');
        this.stats.jitrEvents += 1;
        this.emit('jitr', certificateId);
        const topic = `$aws/events/certificates/registered/${ca.certificateId}`;
        this.runRules(topic, Buffer.from(JSON.stringify(iot.jitrEvent(cert))));
      }
      this.stats.rejected += 1;
      socket.destroy();
      return;
    }
    if (cert.status !== 'ACTIVE') {
      this.stats.rejected += 1;
      socket.destroy();
      return;
    }
    const session: Session = { certificateId, certificateArn: cert.certificateArn };
    this.broker.handle(socket, session);
  }

  private context(conn: Connection, session: Session): IotRequestContext {
    const thing = this.cloud.iot.things.get(conn.clientId);
    return {
      clientId: conn.clientId,
      thingName: thing?.thingName,
      isAttached: thing
        ? (this.cloud.iot.thingPrincipals.get(thing.thingName)?.has(session.certificateArn) ?? false)
        : false,
    };
  }

  private check(conn: Connection, action: string, resource: string): boolean {
    const session = conn.session as Session;
    const ctx = this.context(conn, session);
    const cert = this.cloud.iot.certificates.get(session.certificateId);
    const docs = this.cloud.iot.effectivePolicies(session.certificateArn, ctx.thingName);
    const ok = cert?.status === 'ACTIVE' && isAllowed(docs, action, resource, ctx);
    if (!ok) {
      this.stats.authorizationFailures += 1;
      const key = ctx.thingName ?? conn.clientId;
      this.failuresByThing.set(key, (this.failuresByThing.get(key) ?? 0) + 1);
      this.emit('authorizationFailure', {
        clientId: conn.clientId,
        thingName: ctx.thingName,
        certificateId: session.certificateId,
        action,
        resource,
      });
    }
    return ok;
  }

  private arn(kind: string, name: string): string {
    return this.cloud.iot.arn(kind, name);
  }

  private onConnect(conn: Connection): number {
    if (!this.check(conn, 'iot:Connect', this.arn('client', conn.clientId))) return Reason.notAuthorized;
    this.stats.connected += 1;
    return 0;
  }

  /** A client's PUBLISH (or its Will): what AWS IoT Core refuses, with the page that says so. */
  private onPublish(conn: Connection, message: BrokerMessage, qos: number): number {
    if (this.cloud.quotas?.admit('iot-broker', 'PublishIn') === false) {
      // Over the account's inbound publish rate: no PUBACK, the client is disconnected and resends.
      this.stats.throttled += 1;
      return Reason.quotaExceeded;
    }
    // "AWS IoT Core doesn't support publishing or subscribing with QoS level 2."
    // https://docs.aws.amazon.com/iot/latest/developerguide/mqtt.html#mqtt-qos and #mqtt-differences
    if (qos === 2) {
      this.stats.refused += 1;
      return Reason.qosNotSupported;
    }
    if (message.payload.length > MAX_PAYLOAD_BYTES) {
      this.stats.refused += 1;
      return Reason.packetTooLarge;
    }
    if (message.topic === '' || message.topic.includes('+') || message.topic.includes('#')) {
      return Reason.topicNameInvalid;
    }
    // AWS IoT disconnects a client that publishes where its policy does not allow.
    if (!this.check(conn, 'iot:Publish', this.arn('topic', message.topic))) return Reason.notAuthorized;
    // "For a device to publish retained messages, the device must be able to connect, publish
    // (any MQTT message), and publish MQTT retained messages": iot:Publish and iot:RetainPublish
    // on the topic. https://docs.aws.amazon.com/iot/latest/developerguide/retained-message-policy-examples.html
    if (message.retain && !this.check(conn, 'iot:RetainPublish', this.arn('topic', message.topic))) {
      return Reason.notAuthorized;
    }
    return 0;
  }

  private onSubscribe(conn: Connection, filter: string, qos: number): number {
    // QoS 2 subscriptions: not supported by AWS IoT Core (mqtt.html#mqtt-differences). AWS sends
    // no SUBACK then; this gateway answers with the failure code so that a client does not hang,
    // and no subscription is made either way.
    if (qos === 2) {
      this.stats.refused += 1;
      return Reason.unspecified;
    }
    if (!this.check(conn, 'iot:Subscribe', this.arn('topicfilter', filter))) return Reason.notAuthorized;
    return qos === 1 ? 1 : 0;
  }

  private onForward(conn: Connection, message: BrokerMessage): boolean {
    if (!this.check(conn, 'iot:Receive', this.arn('topic', message.topic))) return false;
    this.stats.delivered += 1;
    return true;
  }

  /** AWS IoT lifecycle events ($aws/events/presence/connected|disconnected/<clientId>) to the rules. */
  private readonly sessionIds = new WeakMap<Connection, string>();

  private onConnected(conn: Connection): void {
    this.sessionIds.set(conn, randomUUID());
    this.lifecycle('connected', conn);
  }

  private onDisconnected(conn: Connection, reason: string): void {
    this.lifecycle('disconnected', conn, reason);
  }

  /** Publishes an AWS IoT lifecycle event (the documented fields) to the rules on the presence topics. */
  private lifecycle(
    eventType: 'connected' | 'disconnected',
    conn: Connection,
    disconnectReason?: string,
  ): void {
    const session = conn.session as Session | undefined;
    if (session === undefined) return;
    const clientId = conn.clientId;
    this.versions.set(clientId, (this.versions.get(clientId) ?? -1) + 1);
    const remote = conn.socket.remoteAddress;
    const event = {
      clientId,
      timestamp: Date.now(),
      eventType,
      sessionIdentifier: this.sessionIds.get(conn) ?? '',
      principalIdentifier: session.certificateId,
      versionNumber: this.versions.get(clientId) ?? 0,
      ...(eventType === 'connected'
        ? { ipAddress: remote?.replace(/^::ffff:/, '') ?? '127.0.0.1' }
        : {
            clientInitiatedDisconnect: disconnectReason === 'CLIENT_INITIATED_DISCONNECT',
            disconnectReason,
          }),
    };
    this.runRules(`$aws/events/presence/${eventType}/${clientId}`, Buffer.from(JSON.stringify(event)));
  }

  private readonly versions = new Map<string, number>();

  private runRules(topic: string, payload: Buffer): void {
    for (const { rule, parsed } of this.rules) {
      if (!topicMatches(parsed.filter, topic)) continue;
      let body: Record<string, unknown> = {};
      try {
        const json = JSON.parse(payload.toString('utf8')) as unknown;
        if (json && typeof json === 'object' && !Array.isArray(json)) body = json as Record<string, unknown>;
      } catch {
        // a non-JSON payload: SELECT * yields nothing we can pass on
      }
      const event: Record<string, unknown> = {};
      for (const field of parsed.fields) {
        if (field.kind === 'all') Object.assign(event, body);
        else event[field.as] = topic.split('/')[field.index - 1];
      }
      this.stats.ruleInvocations += 1;
      const run = rule
        .invoke(event)
        .catch((error: unknown) => {
          this.emit('ruleError', rule.name, error);
        })
        .finally(() => this.pending.delete(run));
      this.pending.add(run);
    }
  }
}

/**
 * The MQTT device gateway, acting as AWS IoT's: an aedes broker behind TLS with client
 * certificates. A certificate issued by a registered CA with auto-registration but unknown to
 * IoT is registered PENDING_ACTIVATION, the JITR event goes to the rules and the client is
 * disconnected; only ACTIVE certificates connect. The attached IoT policies (certificate and
 * thing groups) are enforced on connect, publish, subscribe and receive. IoT rules
 * (`SELECT *, topic(n) AS x FROM '<filter>'`) invoke their actions in-process.
 */
import { randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';
import type { AddressInfo } from 'node:net';
import { createServer as createTlsServer, type Server, type TLSSocket } from 'node:tls';
import { Aedes, type Client, type PublishPacket } from 'aedes';
import { type IotRequestContext, isAllowed } from './iot-policy.js';
import { generateKeyPair, iotCertificateId, issueLeaf, pemOf, x509 } from './pki.js';
import type { LocalCloud } from './server.js';

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

/** MQTT topic filter match (`+` one level, `#` the rest). */
export function topicMatches(filter: string, topic: string): boolean {
  const f = filter.split('/');
  const t = topic.split('/');
  for (let i = 0; i < f.length; i++) {
    if (f[i] === '#') return true;
    if (i >= t.length) return false;
    if (f[i] !== '+' && f[i] !== t[i]) return false;
  }
  return f.length === t.length;
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
  };
  readonly failuresByThing = new Map<string, number>();
  private readonly sessions = new WeakMap<Client, Session>();
  private readonly rules: { rule: IotRule; parsed: ParsedRule }[] = [];
  private readonly pending = new Set<Promise<unknown>>();
  port = 0;
  url = '';

  private constructor(
    private readonly cloud: LocalCloud,
    private readonly broker: Aedes,
    private readonly server: Server,
    /** PEM the devices trust for the gateway's server certificate. */
    readonly serverCaPem: string,
  ) {
    super();
  }

  /**
   * Starts the gateway on 127.0.0.1 (ephemeral port) in front of the cloud's IoT state.
   * @example const gateway = await MqttGateway.start(cloud, rules);
   */
  static async start(cloud: LocalCloud, rules: readonly IotRule[] = []): Promise<MqttGateway> {
    const { keys, privateKeyPem } = await generateKeyPair();
    const serverCert = await issueLeaf(cloud.pca.issuing, {
      subject: 'CN=localhost',
      publicKey: keys.publicKey,
      dnsNames: ['localhost'],
      ipAddresses: ['127.0.0.1'],
      extendedKeyUsages: ['1.3.6.1.5.5.7.3.1'],
    });
    const broker = await Aedes.createBroker();
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
    const gateway = new MqttGateway(cloud, broker, server, cloud.pca.root.certificatePem);
    for (const rule of rules) gateway.addRule(rule);
    gateway.installHooks();
    cloud.iot.on('publish', (topic, payload, props) => {
      gateway.publish(topic, payload, props.qos);
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve());
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
    await new Promise<void>((resolve) => this.broker.close(() => resolve()));
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  /** Publishes from the cloud side (IoT data plane), then runs the matching rules. */
  publish(topic: string, payload: Buffer, qos: number): void {
    this.broker.publish(
      { cmd: 'publish', topic, payload, qos: (qos === 1 ? 1 : 0) as 0 | 1, retain: false, dup: false },
      () => undefined,
    );
    this.runRules(topic, payload);
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
    this.pendingSessions.set(socket, { certificateId, certificateArn: cert.certificateArn });
    this.broker.handle(socket);
  }

  private readonly pendingSessions = new WeakMap<object, Session>();

  private context(client: Client, session: Session): IotRequestContext {
    const thing = this.cloud.iot.things.get(client.id);
    return {
      clientId: client.id,
      thingName: thing?.thingName,
      isAttached: thing
        ? (this.cloud.iot.thingPrincipals.get(thing.thingName)?.has(session.certificateArn) ?? false)
        : false,
    };
  }

  private check(client: Client, session: Session, action: string, resource: string): boolean {
    const ctx = this.context(client, session);
    const cert = this.cloud.iot.certificates.get(session.certificateId);
    const docs = this.cloud.iot.effectivePolicies(session.certificateArn, ctx.thingName);
    const ok = cert?.status === 'ACTIVE' && isAllowed(docs, action, resource, ctx);
    if (!ok) {
      this.stats.authorizationFailures += 1;
      const key = ctx.thingName ?? client.id;
      this.failuresByThing.set(key, (this.failuresByThing.get(key) ?? 0) + 1);
      this.emit('authorizationFailure', {
        clientId: client.id,
        thingName: ctx.thingName,
        certificateId: session.certificateId,
        action,
        resource,
      });
    }
    return ok;
  }

  private installHooks(): void {
    const arn = (kind: string, name: string) => this.cloud.iot.arn(kind, name);
    const sessionOf = (client: Client): Session | undefined => {
      let s = this.sessions.get(client);
      if (!s) {
        s = this.pendingSessions.get(client.conn);
        if (s) this.sessions.set(client, s);
      }
      return s;
    };
    // The connected client per client id, and why a client was disconnected (for the lifecycle events).
    const live = new Map<string, Client>();
    const reasons = new WeakMap<Client, string>();
    this.broker.authenticate = (client, _u, _p, done) => {
      const session = sessionOf(client);
      if (!session || !this.check(client, session, 'iot:Connect', arn('client', client.id))) {
        const error = Object.assign(new Error('Not authorized'), { returnCode: 5 });
        done(error as never, false);
        return;
      }
      // A new connection with a connected client id takes the session over (AWS IoT: DUPLICATE_CLIENTID).
      const previous = live.get(client.id);
      if (previous !== undefined && previous !== client) reasons.set(previous, 'DUPLICATE_CLIENTID');
      this.stats.connected += 1;
      done(null, true);
    };
    this.broker.authorizePublish = (client, packet, done) => {
      if (!client) return done(null);
      if (this.cloud.quotas?.admit('iot-broker', 'PublishIn') === false) {
        // Over the account's inbound publish rate: no PUBACK, the client is disconnected and resends.
        this.stats.throttled += 1;
        done(new Error('Throttled'));
        return;
      }
      const session = sessionOf(client);
      if (!session || !this.check(client, session, 'iot:Publish', arn('topic', packet.topic))) {
        // AWS IoT disconnects a client that publishes where it may not.
        done(new Error('Not authorized'));
        return;
      }
      done(null);
    };
    this.broker.authorizeSubscribe = (client, sub, done) => {
      const session = sessionOf(client);
      if (!session || !this.check(client, session, 'iot:Subscribe', arn('topicfilter', sub.topic))) {
        done(null, null);
        return;
      }
      done(null, sub);
    };
    this.broker.authorizeForward = (client, packet) => {
      const session = sessionOf(client);
      if (!session || !this.check(client, session, 'iot:Receive', arn('topic', packet.topic))) return null;
      this.stats.delivered += 1;
      return packet;
    };
    // AWS IoT lifecycle events ($aws/events/presence/connected|disconnected/<clientId>) to the rules.
    const sessionIds = new WeakMap<Client, string>();
    this.broker.on('client', (client: Client) => {
      live.set(client.id, client);
      sessionIds.set(client, randomUUID());
      this.lifecycle('connected', client, sessionOf(client), sessionIds.get(client) ?? '');
    });
    this.broker.on('clientError', (client: Client) => {
      if (!reasons.has(client)) reasons.set(client, 'CONNECTION_LOST');
    });
    this.broker.on('keepaliveTimeout', (client: Client) => reasons.set(client, 'MQTT_KEEP_ALIVE_TIMEOUT'));
    this.broker.on('clientDisconnect', (client: Client) => {
      if (live.get(client.id) === client) live.delete(client.id);
      const reason = reasons.get(client) ?? 'CLIENT_INITIATED_DISCONNECT';
      this.lifecycle('disconnected', client, sessionOf(client), sessionIds.get(client) ?? '', reason);
    });
    this.broker.on('publish', (packet: PublishPacket, client: Client | null) => {
      if (!client || packet.topic.startsWith('$SYS')) return;
      this.runRules(packet.topic, Buffer.from(packet.payload as Buffer));
    });
  }

  /** Publishes an AWS IoT lifecycle event (the documented fields) to the rules on the presence topics. */
  private lifecycle(
    eventType: 'connected' | 'disconnected',
    client: Client,
    session: Session | undefined,
    sessionIdentifier: string,
    disconnectReason?: string,
  ): void {
    if (session === undefined) return;
    this.versions.set(client.id, (this.versions.get(client.id) ?? -1) + 1);
    const remote = (client.conn as { remoteAddress?: string } | undefined)?.remoteAddress;
    const event = {
      clientId: client.id,
      timestamp: Date.now(),
      eventType,
      sessionIdentifier,
      principalIdentifier: session.certificateId,
      versionNumber: this.versions.get(client.id) ?? 0,
      ...(eventType === 'connected'
        ? { ipAddress: remote?.replace(/^::ffff:/, '') ?? '127.0.0.1' }
        : {
            clientInitiatedDisconnect: disconnectReason === 'CLIENT_INITIATED_DISCONNECT',
            disconnectReason,
          }),
    };
    this.runRules(`$aws/events/presence/${eventType}/${client.id}`, Buffer.from(JSON.stringify(event)));
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

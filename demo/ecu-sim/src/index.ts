/**
 * @cv/ecu-sim: a reference ECU. It holds an attestation key and birth certificate from its
 * manufacturer, makes a fresh operational key and CSR, proves possession of the attestation key
 * to the cert broker (docs/architecture.md §4), connects to the MQTT gateway with its operational certificate,
 * decrypts and verifies commands with @cv/crypto/command, and sends telemetry and command
 * results encrypted with @cv/crypto/telemetry. Takes its collaborators as arguments.
 */
import 'reflect-metadata';
import { createHash, createPrivateKey, sign, webcrypto } from 'node:crypto';
import { DecryptCommand, type KMS } from '@aws-sdk/client-kms';
import {
  createCommandDecoder,
  InMemoryReplayCache,
  type PinnedKey,
  type VerifiedCommand,
} from '@cv/crypto/command';
import {
  createTelemetryEncryptor,
  createTelemetryMaterialsManager,
  DEFAULT_ENCRYPT_CACHE_LIMITS,
  type TelemetryEncryptor,
  telemetryKmsKeyring,
} from '@cv/crypto/telemetry';
import * as x509 from '@peculiar/x509';
import mqtt from 'mqtt';
import { EcuSimError, EnrolmentError } from './errors.js';
import {
  afterRefusal,
  type ConnectOutcome,
  DEFAULT_REENROL_POLICY,
  type ReenrolPolicy,
} from './reenrol-policy.js';
import {
  DEFAULT_CONNECT_RETRY,
  DEFAULT_ENROL_RETRY,
  RETRY_LATER,
  type RetryPolicy,
  realSleep,
  retryAfterSeconds,
} from './retry.js';

export { EcuSimError, EnrolmentError } from './errors.js';
export {
  afterRefusal,
  type ConnectionState,
  type ConnectOutcome,
  DEFAULT_REENROL_POLICY,
  type ReenrolPolicy,
} from './reenrol-policy.js';
export { DEFAULT_CONNECT_RETRY, DEFAULT_ENROL_RETRY, type RetryPolicy, retryAfterSeconds } from './retry.js';

x509.cryptoProvider.set(webcrypto as never);

type CryptoKeyPair = webcrypto.CryptoKeyPair;
const EC = { name: 'ECDSA', namedCurve: 'P-256' } as const;

export interface AttestationIdentity {
  /** PEM of the birth certificate (CN = ecuId), issued by the manufacturer CA. */
  readonly certificatePem: string;
  /** PKCS#8 PEM of the attestation key (in a real ECU it never leaves the secure element). */
  readonly privateKeyPem: string;
}

/**
 * What the ECU sends to the broker; the transport is the caller's (HTTP, or an in-process handler). `headers` (lower- or
 * mixed-case names) carry the broker's `Retry-After` on 429/503/409.
 */
export type EnrolTransport = (
  body: string,
) => Promise<{ statusCode: number; body: string; headers?: Readonly<Record<string, string>> }>;

export interface EcuOptions {
  readonly vin: string;
  readonly ecuId: string;
  readonly attestation: AttestationIdentity;
  /** KMS client, the aggregated `KMS` the Encryption SDK keyring needs (credential-provider credentials in production). */
  readonly kms: KMS;
  /** Telemetry key id (ARN) for the Encryption SDK keyring. */
  readonly telemetryKeyId: string;
  /** Pinned command-signing public keys (SPKI DER by key ARN). */
  readonly commandKeys: readonly PinnedKey[];
  /** Expected `iss` of commands, e.g. `cv-security:local`. */
  readonly commandIssuer: string;
  /** Executes a verified command; returns the result detail. */
  readonly execute?: (command: VerifiedCommand) => Promise<string> | string;
}

async function pkcs8Pem(key: webcrypto.CryptoKey): Promise<string> {
  const der = Buffer.from(await webcrypto.subtle.exportKey('pkcs8', key));
  return `-----BEGIN PRIVATE KEY-----\n${der
    .toString('base64')
    .replace(/(.{64})/g, '$1\n')
    .trim()}\n-----END PRIVATE KEY-----\n`;
}

const b64url = (b: Buffer) => b.toString('base64url');

/**
 * The attestation proof of docs/architecture.md §4: ECDSA P-256 / SHA-256 (DER) over
 * `cv-cert-broker/v1\n<signedAt>\n<base64url(SHA-256(CSR DER))>`.
 * @example const proof = attestationProof(csrPem, attestationKeyPem, new Date());
 */
export function attestationProof(
  csrPem: string,
  attestationKeyPem: string,
  at: Date,
): { signedAt: string; signature: string } {
  const der = Buffer.from(csrPem.replace(/-----[^-]+-----/g, '').replace(/\s/g, ''), 'base64');
  const signedAt = `${at.toISOString().slice(0, 19)}Z`;
  const message = `cv-cert-broker/v1\n${signedAt}\n${b64url(createHash('sha256').update(der).digest())}`;
  const signature = sign('sha256', Buffer.from(message, 'utf8'), {
    key: createPrivateKey(attestationKeyPem),
    dsaEncoding: 'der',
  });
  return { signedAt, signature: signature.toString('base64') };
}

export interface Enrolment {
  readonly thingName: string;
  readonly certificatePem: string;
  readonly certificateChainPem: string;
  readonly serialNumber: string;
  readonly notAfter: string;
}

export class EcuSimulator {
  readonly thingName: string;
  readonly executed: VerifiedCommand[] = [];
  readonly rejectedCommands: string[] = [];
  readonly resultErrors: string[] = [];
  telemetrySent = 0;
  private keys: CryptoKeyPair | undefined;
  private operationalKeyPem = '';
  /** The key of the CSR in flight: it becomes the operational key only when the broker issues a certificate. */
  private pendingKeyPem = '';
  enrolment: Enrolment | undefined;
  /** The current certificate was accepted by the gateway at least once (reset by every enrolment). */
  certificateAccepted = false;
  /** Re-enrolments made because the certificate was refused. */
  reenrolments = 0;
  /** Why the last connection attempt failed (an error code such as `EMFILE`, or `closed before CONNACK`). */
  lastConnectFailure: string | undefined;
  private client: mqtt.MqttClient | undefined;
  private readonly encryptor: TelemetryEncryptor;
  private readonly decode: (payload: string | Uint8Array) => Promise<VerifiedCommand>;

  constructor(private readonly options: EcuOptions) {
    this.thingName = `${options.vin}_${options.ecuId}`;
    const keyring = telemetryKmsKeyring({ keyId: options.telemetryKeyId, client: options.kms });
    this.encryptor = createTelemetryEncryptor({
      materials: createTelemetryMaterialsManager(keyring, DEFAULT_ENCRYPT_CACHE_LIMITS),
    });
    this.decode = createCommandDecoder({
      thingName: this.thingName,
      keys: options.commandKeys,
      replayCache: new InMemoryReplayCache(),
      issuer: options.commandIssuer,
      decrypt: async (ciphertext, context, keyId) => {
        const out = await options.kms.send(
          new DecryptCommand({ CiphertextBlob: ciphertext, EncryptionContext: { ...context }, KeyId: keyId }),
        );
        if (!out.Plaintext) throw new EcuSimError('KMS returned no plaintext');
        return out.Plaintext;
      },
    });
  }

  /** A fresh operational key pair and a CSR (its subject is not trusted by the broker anyway). */
  async createCsr(): Promise<string> {
    this.keys = (await webcrypto.subtle.generateKey(EC, true, ['sign', 'verify'])) as CryptoKeyPair;
    this.pendingKeyPem = await pkcs8Pem(this.keys.privateKey);
    const csr = await x509.Pkcs10CertificateRequestGenerator.create({
      name: `CN=${this.thingName}`,
      keys: this.keys as never,
      signingAlgorithm: { name: 'ECDSA', hash: 'SHA-256' },
    });
    return csr.toString('pem');
  }

  /** Enrols at the cert broker with an attestation signature; keeps the operational certificate. */
  async enrol(transport: EnrolTransport, now = new Date()): Promise<Enrolment> {
    const csr = await this.createCsr();
    return this.submit(transport, this.enrolmentBody(csr, now));
  }

  private enrolmentBody(csr: string, at: Date): string {
    const proof = attestationProof(csr, this.options.attestation.privateKeyPem, at);
    return JSON.stringify({
      csr,
      attestation: { certificate: this.options.attestation.certificatePem, ...proof },
    });
  }

  private async submit(
    transport: EnrolTransport,
    body: string,
    onResponse?: (headers: Readonly<Record<string, string>> | undefined) => void,
  ): Promise<Enrolment> {
    const response = await transport(body);
    onResponse?.(response.headers);
    if (response.statusCode !== 201) {
      let code = 'unknown';
      try {
        code = String((JSON.parse(response.body) as { error?: string }).error ?? 'unknown');
      } catch {
        // keep unknown
      }
      throw new EnrolmentError(response.statusCode, code);
    }
    this.enrolment = JSON.parse(response.body) as Enrolment;
    this.operationalKeyPem = this.pendingKeyPem;
    this.certificateAccepted = false;
    return this.enrolment;
  }

  /**
   * Enrols, coming back later when the broker says so (docs/protocol.md, "Retrying and idempotency"): on 429/503/409
   * (and API Gateway's 502/504) it waits the `Retry-After` seconds (or the backoff when absent) stretched by a random
   * 0-50 % so a throttled wave does not return in step, then resends the same body, so a certificate already issued
   * for this proof is returned instead of a second one; once `signedAt` is 4 minutes old it signs the same CSR again.
   * Other refusals throw at once ({@link EnrolmentError}).
   */
  async enrolWithRetry(
    transport: EnrolTransport,
    policy: RetryPolicy = DEFAULT_ENROL_RETRY,
  ): Promise<Enrolment> {
    const sleep = policy.sleep ?? realSleep;
    const random = policy.random ?? Math.random;
    const csr = await this.createCsr();
    let signedAt = new Date();
    let body = this.enrolmentBody(csr, signedAt);
    for (let attempt = 0; ; attempt++) {
      let headers: Readonly<Record<string, string>> | undefined;
      try {
        return await this.submit(transport, body, (h) => {
          headers = h;
        });
      } catch (error) {
        const reason = error instanceof EnrolmentError ? RETRY_LATER[error.statusCode] : undefined;
        if (!reason || attempt + 1 >= policy.attempts) throw error;
        const after = retryAfterSeconds(headers);
        const wait =
          after !== undefined
            ? Math.floor(after * 1000 * (1 + random() / 2))
            : Math.floor(random() * Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** attempt));
        policy.onRetry?.(reason, wait);
        await sleep(wait);
        if (Date.now() - signedAt.getTime() > 4 * 60_000) {
          signedAt = new Date();
          body = this.enrolmentBody(csr, signedAt);
        }
      }
    }
  }

  /** The operational key and certificate (PEM): what a clone copies out of a compromised ECU. */
  operationalIdentity(): { privateKeyPem: string; enrolment: Enrolment } {
    if (!this.enrolment) throw new EcuSimError('not enrolled');
    return { privateKeyPem: this.operationalKeyPem, enrolment: { ...this.enrolment } };
  }

  /** Takes over a copied operational key and certificate (models a clone; its attestation key stays its own). */
  adoptOperationalIdentity(identity: { privateKeyPem: string; enrolment: Enrolment }): void {
    this.operationalKeyPem = identity.privateKeyPem;
    this.enrolment = { ...identity.enrolment };
    this.certificateAccepted = true;
  }

  /** One MQTT connection attempt; resolves true when the gateway accepted it. */
  async connect(url: string, serverCaPem: string): Promise<boolean> {
    return (await this.tryConnect(url, serverCaPem)) === 'connected';
  }

  /**
   * Keeps trying to connect; when the certificate is refused (docs/protocol.md: closed before CONNACK, after it had
   * been accepted, or never activated) re-enrols with the attestation key and connects with the new certificate.
   * Resolves `not-authorized` when the gateway accepts the certificate but its policy refuses the connection (e.g.
   * quarantine): the ECU keeps its certificate. Throws {@link EnrolmentError} when the broker refuses the re-enrolment.
   */
  async connectOrReenrol(
    url: string,
    serverCaPem: string,
    transport: EnrolTransport,
    policy: ReenrolPolicy = DEFAULT_REENROL_POLICY,
    delayMs = 100,
  ): Promise<ConnectOutcome> {
    let refusals = 0;
    let reenrolments = 0;
    for (;;) {
      const outcome = await this.tryConnect(url, serverCaPem);
      if (outcome !== 'refused') return outcome;
      refusals += 1;
      const next = afterRefusal(
        { certificateAccepted: this.certificateAccepted, consecutiveRefusals: refusals, reenrolments },
        policy,
      );
      if (next === 'give-up') return 'refused';
      if (next === 'reenrol') {
        await this.enrol(transport);
        reenrolments += 1;
        this.reenrolments += 1;
        refusals = 0;
        continue;
      }
      await new Promise((r) => setTimeout(r, delayMs * Math.min(refusals, 5)));
    }
  }

  /**
   * One MQTT connection attempt. `refused`: the connection closed or failed before a CONNACK (certificate unknown,
   * pending, inactive or revoked); `not-authorized`: CONNACK return code 5 (the policy denies iot:Connect).
   */
  async tryConnect(url: string, serverCaPem: string): Promise<ConnectOutcome> {
    const enrolment = this.enrolment;
    if (!enrolment) throw new EcuSimError('not enrolled');
    this.lastConnectFailure = undefined;
    const client = mqtt.connect(url, {
      clientId: this.thingName,
      key: this.operationalKeyPem,
      cert: `${enrolment.certificatePem.trim()}\n${enrolment.certificateChainPem.trim()}\n`,
      ca: serverCaPem,
      protocolVersion: 4,
      reconnectPeriod: 0,
      connectTimeout: 5000,
    });
    const outcome = await new Promise<ConnectOutcome>((resolve) => {
      client.once('connect', () => resolve('connected'));
      client.once('error', (error) => {
        const code = (error as { code?: unknown }).code;
        this.lastConnectFailure ??=
          typeof code === 'string' || typeof code === 'number' ? String(code) : error.message;
        resolve(code === 5 ? 'not-authorized' : 'refused');
      });
      client.once('close', () => {
        this.lastConnectFailure ??= 'closed before CONNACK';
        resolve('refused');
      });
    });
    if (outcome !== 'refused') this.certificateAccepted = true;
    if (outcome === 'connected') this.lastConnectFailure = undefined;
    if (outcome !== 'connected') {
      client.end(true);
      return outcome;
    }
    this.client = client;
    client.on('message', (_topic, payload) => {
      void this.onCommand(payload);
    });
    await client.subscribeAsync(`ecus/${this.thingName}/commands`, { qos: 1 });
    return 'connected';
  }

  /**
   * Connects, retrying while just-in-time registration activates the certificate (or while the broker refuses
   * connections over the account's connect rate): exponential backoff with full jitter, no fixed wait.
   */
  async connectWithRetry(
    url: string,
    serverCaPem: string,
    policy: RetryPolicy = DEFAULT_CONNECT_RETRY,
  ): Promise<boolean> {
    const sleep = policy.sleep ?? realSleep;
    const random = policy.random ?? Math.random;
    for (let i = 0; i < policy.attempts; i++) {
      if (await this.connect(url, serverCaPem)) return true;
      if (i + 1 >= policy.attempts) break;
      const wait = Math.floor(random() * Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** i));
      policy.onRetry?.('refused', wait);
      await sleep(wait);
    }
    return false;
  }

  private async onCommand(payload: Buffer): Promise<void> {
    let command: VerifiedCommand;
    try {
      command = await this.decode(payload);
    } catch (error) {
      this.rejectedCommands.push(error instanceof Error ? error.name : 'Error');
      return;
    }
    this.executed.push(command);
    try {
      const detail = (await this.options.execute?.(command)) ?? 'done';
      await this.sendEncrypted('command-result', {
        commandId: command.claims.jti,
        status: 'SUCCEEDED',
        detail,
      });
    } catch (error) {
      this.resultErrors.push(error instanceof Error ? error.message : String(error));
    }
  }

  /** Sends one encrypted telemetry reading. */
  async sendTelemetry(data: Record<string, unknown>): Promise<void> {
    await this.sendEncrypted('telemetry', data);
    this.telemetrySent += 1;
  }

  /**
   * Sends one encrypted reading and makes sure the gateway acknowledged it: when the publish fails (the gateway
   * closed the connection, e.g. over the account's inbound publish rate, or no PUBACK in time) it reconnects with
   * backoff and publishes the same envelope again (same message id, so the platform stores it once).
   */
  async sendTelemetryReliably(
    data: Record<string, unknown>,
    gateway: { url: string; serverCaPem: string },
    policy: RetryPolicy = DEFAULT_CONNECT_RETRY,
  ): Promise<void> {
    const sleep = policy.sleep ?? realSleep;
    const random = policy.random ?? Math.random;
    const { payload } = await this.encryptor.encrypt({ thingName: this.thingName, kind: 'telemetry', data });
    const topic = `ecus/${this.thingName}/telemetry`;
    for (let attempt = 0; ; attempt++) {
      try {
        const client = this.client?.connected ? this.client : undefined;
        if (!client) throw new EcuSimError('not connected');
        await withTimeout(client.publishAsync(topic, payload, { qos: 1 }), 5000, `publish to ${topic}`);
        this.telemetrySent += 1;
        return;
      } catch (error) {
        if (attempt + 1 >= policy.attempts) throw error;
        const wait = Math.floor(random() * Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** attempt));
        policy.onRetry?.('publish', wait);
        await sleep(wait);
        await this.client?.endAsync(true).catch(() => undefined);
        this.client = undefined;
        // A failed reconnect is one more failed attempt, not the end: the next round backs off
        // further and connects again (the same envelope is resent, so nothing is stored twice).
        await this.connect(gateway.url, gateway.serverCaPem).catch(() => undefined);
      }
    }
  }

  private async sendEncrypted(kind: 'telemetry' | 'command-result', data: unknown): Promise<void> {
    const client = this.client;
    if (!client) throw new EcuSimError('not connected');
    const { payload } = await this.encryptor.encrypt({ thingName: this.thingName, kind, data });
    const topic = `ecus/${this.thingName}/${kind === 'telemetry' ? 'telemetry' : 'command-results'}`;
    await withTimeout(client.publishAsync(topic, payload, { qos: 1 }), 5000, `publish to ${topic}`);
  }

  /** Publishes raw bytes anywhere (used to make an ECU misbehave). */
  async publishRaw(topic: string, payload: string): Promise<void> {
    const client = this.client;
    if (!client) return;
    await withTimeout(client.publishAsync(topic, payload, { qos: 1 }), 2000, 'publish').catch(
      () => undefined,
    );
  }

  /** Subscribes to any topic filter (used to make an ECU misbehave); resolves with the granted QoS (128 = refused). */
  async subscribeRaw(filter: string): Promise<number> {
    const client = this.client;
    if (!client) throw new EcuSimError('not connected');
    try {
      const granted = await withTimeout(client.subscribeAsync(filter, { qos: 1 }), 5000, 'subscribe');
      return granted[0]?.qos ?? 128;
    } catch {
      // mqtt.js rejects a SUBACK whose return code is 0x80 (failure).
      return 128;
    }
  }

  get connected(): boolean {
    return this.client?.connected ?? false;
  }

  async disconnect(): Promise<void> {
    await this.client?.endAsync(true);
    this.client = undefined;
  }
}

function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new EcuSimError(`${what} timed out after ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

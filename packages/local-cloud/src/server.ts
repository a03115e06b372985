/**
 * The local cloud: one HTTP server on loopback. A request is routed by the service name of its
 * SigV4 credential scope (`Authorization: AWS4-HMAC-SHA256 Credential=<key>/<date>/<region>/<service>/aws4_request`)
 * and then by its protocol (awsJson `X-Amz-Target`, restJson1 path, awsQuery `Action`).
 * Requests without a signature reach the OCSP responder (`/ocsp`), the admin endpoints (`/__admin/*`)
 * and extra routes registered by the caller (e.g. a JWKS).
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { AwsApiError } from './errors.js';
import type { IamEnforcer } from './iam.js';
import { gateCall, QuotaEnforcer, type QuotaOptions, restOperation } from './quotas.js';
import { DynamoDbService } from './services/dynamodb.js';
import { IotService, type PublishProperties } from './services/iot.js';
import { iotControlPlaneHandler } from './services/iot-api.js';
import { iotDataHandler } from './services/iot-data.js';
import { type KmsKeySeed, KmsService } from './services/kms.js';
import { SecurityHubService, SnsService, SsmService, stsHandler } from './services/misc.js';
import { PcaService } from './services/pca.js';
import { ApiGatewayV2Service, S3Service } from './services/storage.js';
import {
  type ApiRequest,
  type Protocol,
  readBody,
  type ServiceHandler,
  writeError,
  writeReply,
} from './wire.js';

export interface LocalCloudOptions {
  readonly port?: number;
  readonly region?: string;
  readonly account?: string;
  /** ARN of the local Private CA (default: the dev stage's placeholder). */
  readonly pcaCaArn?: string;
  /** KMS keys created at start (ids and aliases as the functions are configured with). */
  readonly kmsKeys?: readonly KmsKeySeed[];
  readonly snsTopics?: readonly string[];
  readonly ssmParameters?: Readonly<Record<string, string>>;
  /** Register the Private CA's issuing CA in IoT with auto-registration (JITR); default true. */
  readonly registerOperationalCa?: boolean;
  /** Enforce AWS's default request-rate quotas (off by default; see quotas.ts). */
  readonly quotas?: QuotaOptions | QuotaEnforcer;
}

interface ServiceEntry {
  readonly protocol: Protocol;
  readonly namespace: string;
  readonly jsonVersion?: string;
  readonly handler: ServiceHandler;
}

export type ExtraRoute = (req: IncomingMessage, res: ServerResponse, body: Buffer) => Promise<void> | void;

export const DEFAULT_PCA_ARN =
  'arn:aws:acm-pca:eu-west-1:123456789012:certificate-authority/00000000-0000-4000-8000-000000000001';

/** Extracts the SigV4 credential-scope access key id of a request, if signed. */
export function signingAccessKey(authorization: string | undefined): string | undefined {
  if (!authorization) return undefined;
  return /Credential=([^/,\s]+)\//.exec(authorization)?.[1];
}

/** Access key the local cloud's operator (test and demo harnesses seeding data) signs with: never evaluated. */
export const OPERATOR_ACCESS_KEY = 'local';

/** Extracts the SigV4 credential-scope service name of a request, if signed. */
export function signingService(authorization: string | undefined): string | undefined {
  if (!authorization) return undefined;
  const m = /Credential=[^/,\s]+\/\d{8}\/[^/]+\/([^/]+)\/aws4_request/.exec(authorization);
  return m?.[1];
}

export class LocalCloud {
  readonly region: string;
  readonly account: string;
  readonly kms: KmsService;
  readonly iot: IotService;
  readonly securityHub = new SecurityHubService();
  readonly sns: SnsService;
  readonly ssm: SsmService;
  readonly dynamodb = new DynamoDbService();
  /** S3 objects of versioned buckets (the mTLS truststore) and API Gateway v2 custom domains. */
  readonly s3 = new S3Service();
  readonly apigateway = new ApiGatewayV2Service();
  /** Messages published through the IoT data plane (also emitted as `iot.on('publish')`). */
  readonly published: { topic: string; payload: Buffer; props: PublishProperties }[] = [];
  readonly routes = new Map<string, ExtraRoute>();
  /** Requests served, by `service` and `service:operation` (a measured figure). */
  readonly requests = new Map<string, number>();
  /** Request-rate quotas, when enforced (also used by the MQTT gateway for connects and publishes). */
  readonly quotas: QuotaEnforcer | undefined;
  private readonly throttles: { service: string; operation: string | undefined; remaining: number }[] = [];
  /** IAM enforcement, when on (see {@link LocalCloud.enforce}). */
  iam: IamEnforcer | undefined;
  private readonly services = new Map<string, ServiceEntry>();
  private server: Server | undefined;
  private readonly sockets = new Set<import('node:net').Socket>();
  endpoint = '';
  port = 0;

  private constructor(
    readonly pca: PcaService,
    options: LocalCloudOptions,
  ) {
    this.region = options.region ?? 'eu-west-1';
    this.account = options.account ?? '123456789012';
    this.quotas =
      options.quotas === undefined || options.quotas instanceof QuotaEnforcer
        ? options.quotas
        : new QuotaEnforcer(options.quotas);
    this.kms = new KmsService(this.region, this.account);
    this.iot = new IotService(this.region, this.account);
    this.sns = new SnsService(this.region, this.account);
    this.ssm = new SsmService(this.region, this.account);
    const reg = (name: string, entry: ServiceEntry) => this.services.set(name, entry);
    reg('kms', { protocol: 'json', namespace: 'com.amazonaws.kms', handler: this.kms.handler() });
    reg('acm-pca', { protocol: 'json', namespace: 'com.amazonaws.acmpca', handler: this.pca.handler() });
    reg('ssm', { protocol: 'json', namespace: 'com.amazonaws.ssm', handler: this.ssm.handler() });
    reg('iot', {
      protocol: 'rest',
      namespace: 'com.amazonaws.iot',
      handler: iotControlPlaneHandler(this.iot),
    });
    reg('iotdata', {
      protocol: 'rest',
      namespace: 'com.amazonaws.iotdataplane',
      handler: iotDataHandler(this.iot, this.published),
    });
    reg('securityhub', {
      protocol: 'rest',
      namespace: 'com.amazonaws.securityhub',
      handler: this.securityHub.handler(),
    });
    reg('sns', { protocol: 'query', namespace: 'sns.amazonaws.com', handler: this.sns.handler() });
    reg('sts', { protocol: 'query', namespace: 'sts.amazonaws.com', handler: stsHandler(this.account) });
    // S3 errors are XML `<Error><Code>`, which the awsQuery error shape carries.
    reg('s3', { protocol: 'query', namespace: 's3.amazonaws.com', handler: this.s3.handler() });
    reg('apigateway', {
      protocol: 'rest',
      namespace: 'com.amazonaws.apigatewayv2',
      handler: this.apigateway.handler(),
    });
  }

  /**
   * Starts the local cloud on 127.0.0.1 (ephemeral port unless `port` is given).
   * @example const cloud = await LocalCloud.start(); process.env.AWS_ENDPOINT_URL = cloud.endpoint;
   */
  static async start(options: LocalCloudOptions = {}): Promise<LocalCloud> {
    const pca = await PcaService.create(options.pcaCaArn ?? DEFAULT_PCA_ARN);
    const cloud = new LocalCloud(pca, options);
    await cloud.dynamodb.start();
    for (const seed of options.kmsKeys ?? []) cloud.kms.createKey(seed);
    for (const topic of options.snsTopics ?? []) cloud.sns.topics.add(topic);
    for (const [name, value] of Object.entries(options.ssmParameters ?? {}))
      cloud.ssm.putParameter(name, value);
    if (options.registerOperationalCa !== false) {
      cloud.iot.registerCaCertificate(pca.issuing.certificatePem, { autoRegistration: true, active: true });
    }
    const server = createServer((req, res) => {
      void cloud.dispatch(req, res);
    });
    server.on('connection', (socket) => {
      cloud.sockets.add(socket);
      socket.on('close', () => cloud.sockets.delete(socket));
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(options.port ?? 0, '127.0.0.1', () => resolve());
    });
    cloud.server = server;
    cloud.port = (server.address() as AddressInfo).port;
    cloud.endpoint = `http://127.0.0.1:${cloud.port}`;
    pca.setOcspUrl(`${cloud.endpoint}/ocsp`);
    return cloud;
  }

  /** The IoT certificate id of the registered operational (issuing) CA. */
  get operationalCaCertificateId(): string {
    for (const ca of this.iot.caCertificates.values()) {
      if (ca.certificatePem === this.pca.issuing.certificatePem) return ca.certificateId;
    }
    return '';
  }

  /**
   * Turns IAM enforcement on: every signed request but the operator's (`AWS_ACCESS_KEY_ID=local`) is evaluated
   * against the principal its access key names (see {@link IamEnforcer}); a denial is the service's AccessDenied.
   */
  enforce(iam: IamEnforcer): void {
    iam.keyAliases = (keyId) =>
      [...this.kms.aliases].filter(([, id]) => id === keyId).map(([alias]) => alias);
    iam.ciphertextKey = (blob) => this.kms.keyIdOfCiphertext(blob);
    this.iam = iam;
  }

  /** The `authorize` hook of a request, or undefined when the request is not evaluated. */
  private authorizer(service: string, accessKey: string | undefined): ApiRequest['authorize'] {
    const iam = this.iam;
    if (iam === undefined || accessKey === OPERATOR_ACCESS_KEY || service === 'sts') return undefined;
    return (operation, input) => iam.authorize(service, accessKey ?? '', operation, input);
  }

  /** Environment an AWS SDK v3 client (or a function) needs to reach this local cloud. */
  sdkEnv(): Record<string, string> {
    return {
      AWS_ENDPOINT_URL: this.endpoint,
      AWS_REGION: this.region,
      AWS_DEFAULT_REGION: this.region,
      AWS_ACCESS_KEY_ID: 'local',
      AWS_SECRET_ACCESS_KEY: 'local',
      AWS_EC2_METADATA_DISABLED: 'true',
    };
  }

  /** Client config for the SDK v3 clients in tests and tools. */
  clientConfig(): {
    endpoint: string;
    region: string;
    credentials: { accessKeyId: string; secretAccessKey: string };
  } {
    return {
      endpoint: this.endpoint,
      region: this.region,
      credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    };
  }

  /**
   * Makes the next `count` requests to `service` (optionally one operation) fail with the
   * service's throttling error, so callers' retry paths can be tested.
   */
  throttle(service: string, count: number, operation?: string): void {
    this.throttles.push({ service, operation, remaining: count });
  }

  async stop(): Promise<void> {
    const server = this.server;
    if (server) {
      for (const socket of this.sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
    await this.dynamodb.stop();
    this.pca.close();
  }

  private count(key: string): void {
    this.requests.set(key, (this.requests.get(key) ?? 0) + 1);
  }

  private takeThrottle(service: string, operation: string | undefined): boolean {
    const t = this.throttles.find(
      (x) =>
        x.remaining > 0 && x.service === service && (x.operation === undefined || x.operation === operation),
    );
    if (!t) return false;
    t.remaining -= 1;
    return true;
  }

  private async dispatch(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const service = signingService(req.headers.authorization);
    let body: Buffer;
    try {
      body = await readBody(req);
    } catch {
      res.writeHead(413).end();
      return;
    }
    if (!service) {
      await this.unsigned(url, req, res, body);
      return;
    }
    const target = req.headers['x-amz-target'];
    const operation =
      typeof target === 'string'
        ? target.slice(target.indexOf('.') + 1)
        : (new URLSearchParams(body.toString('utf8')).get('Action') ?? undefined);
    this.count(service);
    if (operation) this.count(`${service}:${operation}`);
    const authorize = this.authorizer(service, signingAccessKey(req.headers.authorization));
    if (authorize !== undefined && (service === 'dynamodb' || service === 'sns')) {
      const entryProtocol = service === 'sns' ? 'query' : 'json';
      try {
        const input =
          service === 'sns'
            ? Object.fromEntries(new URLSearchParams(body.toString('utf8')))
            : (JSON.parse(body.toString('utf8') || '{}') as Record<string, unknown>);
        await authorize(operation ?? '', input);
      } catch (error) {
        const e =
          error instanceof AwsApiError
            ? error
            : new AwsApiError('SerializationException', 'malformed request', 400);
        writeError(
          res,
          entryProtocol,
          e,
          service === 'sns' ? 'sns.amazonaws.com' : 'com.amazonaws.dynamodb.v20120810',
          '1.0',
        );
        return;
      }
    }
    if (service === 'dynamodb') {
      if (this.takeThrottle(service, operation)) {
        writeError(
          res,
          'json',
          new AwsApiError('ThrottlingException', 'Rate of requests exceeds the allowed throughput.'),
          'com.amazonaws.dynamodb.v20120810',
          '1.0',
        );
        return;
      }
      if (operation === 'TransactWriteItems') {
        try {
          const out = await this.dynamodb.transactWrite(JSON.parse(body.toString('utf8')));
          writeReply(res, 'json', { body: out }, '1.0');
        } catch (error) {
          const e =
            error instanceof AwsApiError ? error : new AwsApiError('InternalServerError', String(error), 500);
          writeError(res, 'json', e, 'com.amazonaws.dynamodb.v20120810', '1.0');
        }
        return;
      }
      this.dynamodb.proxy(req, res, body);
      return;
    }
    const entry = this.services.get(service);
    if (!entry) {
      writeError(
        res,
        'rest',
        new AwsApiError('UnknownServiceException', `service ${service} is not served locally`, 400),
        'local',
      );
      return;
    }
    const request: ApiRequest = {
      method: req.method ?? 'GET',
      path: url.pathname,
      query: url.searchParams,
      headers: req.headers,
      body,
      operation: typeof target === 'string' ? target.slice(target.indexOf('.') + 1) : undefined,
      ...(authorize !== undefined && service !== 'sns' ? { authorize } : {}),
    };
    try {
      const quotaError = await gateCall(
        this.quotas,
        service,
        operation ?? restOperation(service, request.method, request.path),
      );
      if (quotaError) throw quotaError;
      if (this.takeThrottle(service, operation)) {
        throw entry.protocol === 'query'
          ? new AwsApiError('Throttling', 'Rate exceeded', 400)
          : new AwsApiError('ThrottlingException', 'Rate exceeded', entry.protocol === 'rest' ? 429 : 400);
      }
      const reply = await entry.handler(request);
      writeReply(res, entry.protocol, reply, entry.jsonVersion);
    } catch (error) {
      const e =
        error instanceof AwsApiError
          ? error
          : new AwsApiError('InternalFailure', error instanceof Error ? error.message : String(error), 500);
      writeError(res, entry.protocol, e, entry.namespace, entry.jsonVersion);
    }
  }

  private async unsigned(url: URL, req: IncomingMessage, res: ServerResponse, body: Buffer): Promise<void> {
    try {
      if (url.pathname === '/ocsp' || url.pathname.startsWith('/ocsp/')) {
        this.count('ocsp');
        const der =
          req.method === 'GET'
            ? Buffer.from(decodeURIComponent(url.pathname.slice('/ocsp/'.length)), 'base64')
            : body;
        const response = await this.pca.ocsp(der);
        res.writeHead(200, {
          'content-type': 'application/ocsp-response',
          'content-length': String(response.length),
        });
        res.end(response);
        return;
      }
      if (url.pathname === '/__admin/throttle' && req.method === 'POST') {
        const { service, count, operation } = JSON.parse(body.toString('utf8')) as {
          service: string;
          count: number;
          operation?: string;
        };
        this.throttle(service, count, operation);
        res.writeHead(204).end();
        return;
      }
      if (url.pathname === '/__admin/state' && req.method === 'GET') {
        const state = {
          things: this.iot.things.size,
          certificates: Object.fromEntries(
            [...this.iot.certificates.values()].reduce(
              (m, c) => m.set(c.status, (m.get(c.status) ?? 0) + 1),
              new Map<string, number>(),
            ),
          ),
          findings: this.securityHub.findings.size,
          snsMessages: this.sns.messages.length,
          opsItems: this.ssm.opsItems.size,
          requests: Object.fromEntries(this.requests),
        };
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(state));
        return;
      }
      const extra = this.routes.get(url.pathname);
      if (extra) {
        await extra(req, res, body);
        return;
      }
      res.writeHead(403, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ message: 'Missing Authentication Token' }));
    } catch (error) {
      res.writeHead(500, { 'content-type': 'text/plain' });
      res.end(error instanceof Error ? error.message : 'error');
    }
  }
}

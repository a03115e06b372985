/**
 * The world the supplier and manifest route tests run in: the local cloud with the stage's tables, the trust bundle
 * parameter, the versioned truststore bucket and the mTLS domain pinned to its object (as the stack leaves them), the
 * handler loaded with the environment serverless/functions/admin-api.yml gives it (so the recorded calls map to the
 * deployed names for the IAM proof), and the cv-admin CLI on the same cloud, for comparing the two front doors.
 */
import { webcrypto } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { DynamoDBClient, ScanCommand } from '@aws-sdk/client-dynamodb';
import { awsDeps, runCli } from '@cv/admin';
import { createTables, LocalCloud, x509 } from '@cv/local-cloud';
import { lambdaContext } from '@cv/test-support';
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import { vi } from 'vitest';

x509.cryptoProvider.set(webcrypto as never);

export const CALLER = 'arn:aws:sts::111122223333:assumed-role/cv-backoffice/backoffice';
export const KEY = 'attestation-cas.pem';

export interface CaOptions {
  readonly name?: string;
  readonly ca?: boolean;
  readonly keyCertSign?: boolean;
  readonly key?: 'P-256' | 'P-521' | 'RSA-1024';
  readonly notBefore?: Date;
  readonly notAfter?: Date;
}

/** A real self-signed CA certificate (signed here) with the chosen fault, as PEM. */
export async function makeCa(options: CaOptions = {}): Promise<string> {
  const key = options.key ?? 'P-256';
  const alg =
    key === 'RSA-1024'
      ? {
          name: 'RSASSA-PKCS1-v1_5',
          hash: 'SHA-256',
          publicExponent: new Uint8Array([1, 0, 1]),
          modulusLength: 1024,
        }
      : { name: 'ECDSA', namedCurve: key, hash: key === 'P-256' ? 'SHA-256' : 'SHA-512' };
  const keys = (await webcrypto.subtle.generateKey(alg, true, ['sign', 'verify'])) as webcrypto.CryptoKeyPair;
  const usages =
    (options.keyCertSign === false ? 0 : x509.KeyUsageFlags.keyCertSign) | x509.KeyUsageFlags.cRLSign;
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: `1${webcrypto.getRandomValues(new Uint8Array(6)).reduce((s, b) => s + b.toString(16).padStart(2, '0'), '')}`,
    name: options.name ?? 'CN=Acme Attestation CA,O=Acme',
    keys,
    notBefore: options.notBefore ?? new Date(Date.now() - 3600_000),
    notAfter: options.notAfter ?? new Date(Date.now() + 3650 * 86400_000),
    signingAlgorithm: alg,
    extensions: [
      new x509.BasicConstraintsExtension(options.ca ?? true, undefined, true),
      new x509.KeyUsagesExtension(usages, true),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    ],
  });
  return cert.toString('pem');
}

type Handler = (event: APIGatewayProxyEvent, context: unknown) => Promise<APIGatewayProxyResult>;

export interface TrustWorld {
  readonly stage: string;
  readonly cloud: LocalCloud;
  readonly ddb: DynamoDBClient;
  readonly tables: Readonly<Record<'ecuRegistry' | 'vehicleAccess' | 'adminAudit' | 'suppliers', string>>;
  readonly param: string;
  readonly domain: string;
  readonly bucket: string;
  /** The bundle the stack deployed. */
  readonly deployed: string;
  /** One request through the handler; `body` a string is sent as is, anything else as JSON. */
  call(
    method: string,
    path: string,
    body?: unknown,
    over?: Partial<APIGatewayProxyEvent>,
  ): Promise<{ status: number; body: Record<string, unknown> }>;
  /** The three trust places, the suppliers table and the registry: what a rejection must leave as it was. */
  state(): Promise<unknown>;
  /** The audit trail, oldest first. */
  audit(): Promise<
    Array<{ action: string; actor: string; outcome: string; target: string; reason?: string }>
  >;
  /** cv-admin on the same cloud and stage: exit code and the JSON it printed (stdout or the error on stderr). */
  cli(argv: string[]): Promise<{ code: number; json: Record<string, unknown> }>;
  stop(): Promise<void>;
}

/** The committed sample event (a SigV4 caller on the AWS_IAM method); tests vary it. */
export const SAMPLE = JSON.parse(
  readFileSync(new URL('../../../events/admin-api/get-vehicle-access.json', import.meta.url), 'utf8'),
) as APIGatewayProxyEvent;

async function scan(ddb: DynamoDBClient, table: string) {
  const out = await ddb.send(new ScanCommand({ TableName: table, ConsistentRead: true }));
  return (out.Items ?? [])
    .map((item) =>
      JSON.stringify(Object.fromEntries(Object.entries(item).sort(([a], [b]) => (a < b ? -1 : 1)))),
    )
    .sort();
}

/** Starts the local cloud as the stack leaves it and loads the handler with the stage's configuration. */
export async function trustWorld(stage: string): Promise<TrustWorld> {
  const param = `/cv-security/${stage}/attestation-trust-bundle`;
  const domain = `certs.${stage}.cv.example.com`;
  const bucket = `cv-security-${stage}-truststorebucket-1a2b3c`;
  const tables = {
    ecuRegistry: `cv-security-${stage}-ecu-registry`,
    vehicleAccess: `cv-security-${stage}-vehicle-access`,
    adminAudit: `cv-security-${stage}-admin-audit`,
    suppliers: `cv-security-${stage}-suppliers`,
  };
  const deployed = await makeCa({ name: 'CN=Deployed Factory CA' });
  const cloud = await LocalCloud.start({
    region: 'eu-west-1',
    account: '123456789012',
    ssmParameters: { [param]: deployed },
  });
  const ddb = new DynamoDBClient(cloud.clientConfig());
  await createTables(ddb, {
    ...tables,
    commands: `cv-security-${stage}-commands`,
    telemetry: `cv-security-${stage}-telemetry`,
  });
  cloud.s3.createBucket(bucket);
  const version = cloud.s3.putObject(bucket, KEY, Buffer.from(deployed), 'application/x-pem-file');
  cloud.apigateway.createDomainName(domain, { uri: `s3://${bucket}/${KEY}`, version });
  for (const [k, v] of Object.entries({
    ...cloud.sdkEnv(),
    STAGE: stage,
    ECU_REGISTRY_TABLE: tables.ecuRegistry,
    VEHICLE_ACCESS_TABLE: tables.vehicleAccess,
    ADMIN_AUDIT_TABLE: tables.adminAudit,
    QUARANTINE_THING_GROUP: `cv-security-${stage}-quarantine`,
    SUPPLIERS_TABLE: tables.suppliers,
    ATTESTATION_TRUST_BUNDLE_PARAM: param,
    CERT_BROKER_DOMAIN: domain,
    TRUSTSTORE_BUCKET: bucket,
    LOG_LEVEL: 'SILENT',
    POWERTOOLS_METRICS_DISABLED: 'true',
  }))
    vi.stubEnv(k, v);
  const { handler } = (await import('../src/handler.js')) as unknown as { handler: Handler };

  return {
    stage,
    cloud,
    ddb,
    tables,
    param,
    domain,
    bucket,
    deployed,
    async call(method, path, body, over = {}) {
      const event = {
        ...SAMPLE,
        httpMethod: method,
        path,
        pathParameters: { proxy: path.replace(/^\//, '') },
        queryStringParameters: null,
        body: body === undefined ? null : typeof body === 'string' ? body : JSON.stringify(body),
        ...over,
      } as APIGatewayProxyEvent;
      const res = await handler(event, lambdaContext({ functionName: `cv-security-${stage}-adminApi` }));
      return { status: res.statusCode, body: JSON.parse(res.body || '{}') as Record<string, unknown> };
    },
    async state() {
      const pinned = cloud.apigateway.domains.get(domain);
      return {
        ssm: cloud.ssm.parameters.get(param)?.Value,
        domain: { uri: pinned?.truststoreUri, version: pinned?.truststoreVersion },
        objects: cloud.s3.versions(bucket, KEY).map((v) => [v.versionId, v.body.toString('utf8')]),
        suppliers: await scan(ddb, tables.suppliers),
        registry: await scan(ddb, tables.ecuRegistry),
      };
    },
    async audit() {
      const out = await ddb.send(new ScanCommand({ TableName: tables.adminAudit, ConsistentRead: true }));
      return (out.Items ?? [])
        .map((i) => ({
          at: i.at?.S ?? '',
          action: i.action?.S ?? '',
          actor: i.actor?.S ?? '',
          outcome: i.outcome?.S ?? '',
          target: i.target?.S ?? '',
          ...(i.detail?.M?.reason?.S === undefined ? {} : { reason: i.detail.M.reason.S }),
        }))
        .sort((a, b) => (a.at < b.at ? -1 : a.at > b.at ? 1 : 0))
        .map(({ at: _, ...rest }) => rest);
    },
    async cli(argv) {
      const out: string[] = [];
      const err: string[] = [];
      const code = await runCli(argv, {
        env: { ...cloud.sdkEnv(), CV_STAGE: stage, TRUSTSTORE_BUCKET: bucket },
        out: (l) => out.push(l),
        err: (l) => err.push(l),
        deps: awsDeps,
      });
      return { code, json: JSON.parse((code === 0 ? out[0] : err[0]) ?? '{}') as Record<string, unknown> };
    },
    async stop() {
      vi.unstubAllEnvs();
      await cloud.stop();
    },
  };
}

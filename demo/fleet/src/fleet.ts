/**
 * The fleet demo: a local cloud, the MQTT gateway with the project's IoT rules, and N simulated
 * vehicles taken through the whole lifecycle with the real function handlers invoked in-process:
 * attested enrolment (cert-broker), just-in-time registration (jitr-handler, OCSP included),
 * commands from an app user with real JWTs (command-authorizer, command-sender), encrypted
 * telemetry and command results (telemetry-ingest), and remediation of a misbehaving ECU
 * (authz-detector on the gateway's IoT v2 log records, then remediation-steps driven like the state machine), and
 * of an ECU reconnecting in a loop (behaviour-detector on the gateway's lifecycle events through the presence rule,
 * then remediation-steps). Used by `npm start` and the e2e test.
 */
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import {
  type AttributeValue,
  CreateTableCommand,
  DynamoDBClient,
  QueryCommand,
  ScanCommand,
} from '@aws-sdk/client-dynamodb';
import { GetPublicKeyCommand, KMS } from '@aws-sdk/client-kms';
import { type AccessDeps, DynamoDbAuditLog, DynamoDbVehicleAccess, grantAccess } from '@cv/admin';
import { EcuSimulator } from '@cv/ecu-sim';
import type { CfnTemplate } from '@cv/iam';
import {
  type AuthorizationFailure,
  createCertificateAuthority,
  createTables,
  type Denial,
  generateKeyPair,
  issueLeaf,
  LocalCloud,
  MqttGateway,
  pemOf,
  type QuotaOptions,
} from '@cv/local-cloud';
import { exportJWK, generateKeyPair as joseKeyPair, SignJWT } from 'jose';
import { parse as parseYaml } from 'yaml';
import { asFunction, installCredentialRouting, localEnforcer } from './iam.js';
import { provisionFleet, seedTruststore, TRUSTSTORE } from './provision.js';
import { createStackPolicies } from './stack-policies.js';

// CV_ROOT: set by scripts/main.mjs, whose bundle no longer sits in demo/fleet/src.
const root = process.env.CV_ROOT ?? join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const REGION = 'eu-west-1';
const ACCOUNT = '123456789012';
const STAGE = 'local';
export const LOCAL_KEYS = {
  signing: '7a1c0b5e-0000-4000-8000-00000000c0de',
  encryption: '7a1c0b5e-0000-4000-8000-00000000e0c0',
  telemetry: '7a1c0b5e-0000-4000-8000-00000000da7a',
  dataAtRest: '7a1c0b5e-0000-4000-8000-00000000da2e',
};
const TABLES = {
  ecuRegistry: 'cv-security-local-ecu-registry',
  vehicleAccess: 'cv-security-local-vehicle-access',
  commands: 'cv-security-local-commands',
  telemetry: 'cv-security-local-telemetry',
  enrolmentProofs: 'cv-security-local-enrolment-proofs',
  issuedCertificates: 'cv-security-local-issued-certificates',
  adminAudit: 'cv-security-local-admin-audit',
  suppliers: 'cv-security-local-suppliers',
};
const USER_POOL = `${REGION}_LocalPool1`;
const CLIENT_ID = 'localappclient0000000000001';
const SCOPE = 'cv-security/commands';
const TRUST_PARAM = `/cv-security/${STAGE}/attestation-trust-bundle`;
// The topic serverless/resources/remediation.yml names (the demo's `-alerts` was denied once IAM was enforced).
const ALERT_TOPIC = `arn:aws:sns:${REGION}:${ACCOUNT}:cv-security-${STAGE}-security-alerts`;
const QUARANTINE = `cv-security-${STAGE}-quarantine`;
const AUTHZ_TABLE = `cv-security-${STAGE}-authz-failures`;
const BEHAVIOUR_TABLE = `cv-security-${STAGE}-behaviour`;
const PROVENANCE_TABLE = `cv-security-${STAGE}-finding-provenance`;
const ALERT_LEDGER_TABLE = `cv-security-${STAGE}-alert-ledger`;
const ROLES = ['gateway', 'telematics', 'adas'] as const;
/** Connects of the looping ECU: behaviour-detector's reconnect limit (12 in 600 s, its default role parameters). */
const RECONNECTS = 12;
/** GeneratorId of behaviour-detector's findings (functions/behaviour-detector, docs/detection.md). */
const BEHAVIOUR_GENERATOR = 'cv-security/behaviour-detector';
type Finding = Record<string, unknown>;
const keyArn = (id: string) => `arn:aws:kms:${REGION}:${ACCOUNT}:key/${id}`;

export interface FleetOptions {
  readonly vehicles: number;
  readonly telemetryPerEcu: number;
  readonly commandsPerVehicle: number;
  /** Pause between telemetry rounds (the demo streams over its duration). */
  readonly telemetryIntervalMs?: number;
  readonly log?: (line: string) => void;
  /** Changes the packaged template before IAM is enforced (the self-test removes one permission). */
  readonly iamTemplate?: (template: CfnTemplate) => CfnTemplate;
}

export interface FleetSummary {
  /** Requests the local cloud denied (IAM enforcement). */
  readonly denials?: readonly Denial[];
  readonly rows: readonly [string, string | number][];
  readonly failures: readonly string[];
  readonly seconds: number;
}

/** The environment every function reads at cold start, pointed at the local cloud. */
export function functionEnv(cloud: LocalCloud): Record<string, string> {
  return {
    ...cloud.sdkEnv(),
    STAGE,
    LOG_LEVEL: 'CRITICAL',
    POWERTOOLS_METRICS_DISABLED: 'true',
    POWERTOOLS_SERVICE_NAME: 'cv-security',
    POWERTOOLS_METRICS_NAMESPACE: 'cv-security',
    AWS_ACCOUNT_ID: ACCOUNT,
    ACCOUNT_ID: ACCOUNT,
    ECU_REGISTRY_TABLE: TABLES.ecuRegistry,
    REPLAY_LEDGER_TABLE: TABLES.enrolmentProofs,
    ISSUED_CERTIFICATES_TABLE: TABLES.issuedCertificates,
    VEHICLE_ACCESS_TABLE: TABLES.vehicleAccess,
    COMMANDS_TABLE: TABLES.commands,
    TELEMETRY_TABLE: TABLES.telemetry,
    PCA_CA_ARN: cloud.pca.caArn,
    PCA_TEMPLATE_ARN: 'arn:aws:acm-pca:::template/EndEntityClientAuthCertificate_APIPassthrough/V1',
    PCA_SIGNING_ALGORITHM: 'SHA256WITHECDSA',
    CERT_VALIDITY_DAYS: '365',
    PCA_MAX_WAIT_SECONDS: '20',
    ATTESTATION_TRUST_BUNDLE_PARAM: TRUST_PARAM,
    TRUST_BUNDLE_TTL_SECONDS: '300',
    OPERATIONAL_CA_CERTIFICATE_ID: cloud.operationalCaCertificateId,
    OCSP_ALLOWED_HOSTS: '127.0.0.1',
    OCSP_TIMEOUT_MS: '3000',
    OCSP_HASH_ALGORITHM: 'sha1',
    IOT_POLICY_PREFIX: `cv-security-${STAGE}`,
    IOT_ROLE_ALIAS: `cv-security-${STAGE}-ecu`,
    CA_CACHE_TTL_SECONDS: '3600',
    COGNITO_USER_POOL_ID: USER_POOL,
    COGNITO_CLIENT_IDS: CLIENT_ID,
    COMMAND_SCOPE: SCOPE,
    COMMAND_SIGNING_KEY_ID: keyArn(LOCAL_KEYS.signing),
    COMMAND_ENCRYPTION_KEY_ID: keyArn(LOCAL_KEYS.encryption),
    COMMAND_TTL_SECONDS: '120',
    TELEMETRY_KEY_ID: keyArn(LOCAL_KEYS.telemetry),
    TELEMETRY_TTL_DAYS: '30',
    MAX_PAYLOAD_BYTES: '65536',
    DATA_KEY_CACHE_CAPACITY: '1000',
    DATA_KEY_CACHE_MAX_AGE_SECONDS: '300',
    QUARANTINE_THING_GROUP: QUARANTINE,
    QUARANTINE_POLICY_NAME: QUARANTINE,
    ALERT_TOPIC_ARN: ALERT_TOPIC,
    ALERT_LEDGER_TABLE,
    FINDING_PROVENANCE_TABLE: PROVENANCE_TABLE,
    AUTHZ_FAILURES_TABLE: AUTHZ_TABLE,
    // The demo's ECU misbehaves five times; the deployed threshold is 20 (serverless/functions/authz-detector.yml).
    AUTHZ_FAILURE_THRESHOLD: '5',
    AUTHZ_WINDOW_SECONDS: '300',
    BEHAVIOUR_TABLE,
    ROLE_SAMPLE_MODULO: '256',
  };
}

/**
 * The IoT rule SQL of serverless.yml (telemetry rules and the lifecycle-event rule from the function files, JITR from
 * the resources).
 */
export function projectRuleSql(operationalCaId: string): {
  jitr: string;
  telemetry: string;
  results: string;
  presence: string;
} {
  const fn = parseYaml(readFileSync(join(root, 'serverless/functions/telemetry-ingest.yml'), 'utf8'), {
    logLevel: 'error',
  }) as Record<string, { events?: { iot?: { sql?: string } }[] }>;
  const sqlsOf = (file: Record<string, { events?: { iot?: { sql?: string } }[] }>) =>
    Object.values(file)
      .flatMap((f) => f.events ?? [])
      .map((e) => e.iot?.sql)
      .filter((s): s is string => typeof s === 'string');
  const sqls = sqlsOf(fn);
  const behaviour = parseYaml(
    readFileSync(join(root, 'serverless/functions/behaviour-detector.yml'), 'utf8'),
    { logLevel: 'error' },
  ) as Record<string, { events?: { iot?: { sql?: string } }[] }>;
  const presence = sqlsOf(behaviour).find((s) => s.includes("'$aws/events/presence/+/+'"));
  const telemetry = sqls.find((s) => s.includes("'ecus/+/telemetry'"));
  const results = sqls.find((s) => s.includes("'ecus/+/command-results'"));
  const resources = readFileSync(join(root, 'serverless/resources/cert-lifecycle.yml'), 'utf8');
  const jitr =
    /Sql: !Sub "(SELECT \* FROM '\$aws\/events\/certificates\/registered\/)\$\{OperationalCaCertificate\.Id\}'"/.exec(
      resources,
    );
  if (!telemetry || !results || !jitr || !presence) throw new Error('IoT rule SQL not found in serverless/');
  return { jitr: `${jitr[1]}${operationalCaId}'`, telemetry, results, presence };
}

/** A stage parameter's default from serverless.yml (`params.default`), e.g. a reserved concurrency. */
export function stackParamDefault(name: string): unknown {
  const doc = parseYaml(readFileSync(join(root, 'serverless.yml'), 'utf8'), { logLevel: 'error' }) as {
    params?: { default?: Record<string, unknown> };
  };
  return doc.params?.default?.[name];
}

/** Starts the local cloud seeded with what the functions and the sample events reference. */
export async function startSeededCloud(
  port = 0,
  options: { quotas?: QuotaOptions } = {},
): Promise<{
  cloud: LocalCloud;
  manufacturerCaPem: string;
  manufacturer: Awaited<ReturnType<typeof createCertificateAuthority>>;
}> {
  const manufacturer = await createCertificateAuthority({
    name: 'CN=Local ECU Manufacturer Attestation CA, O=cv-security local',
  });
  const cloud = await LocalCloud.start({
    port,
    ...(options.quotas ? { quotas: options.quotas } : {}),
    region: REGION,
    account: ACCOUNT,
    kmsKeys: [
      {
        keyId: LOCAL_KEYS.signing,
        spec: 'ECC_NIST_P256',
        aliases: [`alias/cv-security-${STAGE}-command-signing`],
      },
      {
        keyId: LOCAL_KEYS.encryption,
        spec: 'SYMMETRIC_DEFAULT',
        aliases: [`alias/cv-security-${STAGE}-command-encryption`],
      },
      {
        keyId: LOCAL_KEYS.telemetry,
        spec: 'SYMMETRIC_DEFAULT',
        aliases: [`alias/cv-security-${STAGE}-telemetry`],
      },
      { keyId: LOCAL_KEYS.dataAtRest, spec: 'SYMMETRIC_DEFAULT' },
    ],
    snsTopics: [ALERT_TOPIC],
    ssmParameters: { [TRUST_PARAM]: manufacturer.certificatePem },
  });
  const ddb = new DynamoDBClient(cloud.clientConfig());
  await createTables(ddb, TABLES);
  // serverless/resources/authz-detector.yml and behaviour-detector.yml.
  for (const [TableName, pk] of [
    [AUTHZ_TABLE, 'principal'],
    [BEHAVIOUR_TABLE, 'thingName'],
  ] as const) {
    await ddb.send(
      new CreateTableCommand({
        TableName,
        BillingMode: 'PAY_PER_REQUEST',
        AttributeDefinitions: [
          { AttributeName: pk, AttributeType: 'S' },
          { AttributeName: 'sk', AttributeType: 'S' },
        ],
        KeySchema: [
          { AttributeName: pk, KeyType: 'HASH' },
          { AttributeName: 'sk', KeyType: 'RANGE' },
        ],
      }),
    );
  }
  // serverless/resources/remediation.yml: the alert ledger and the finding provenance table.
  for (const [TableName, key] of [
    [ALERT_LEDGER_TABLE, 'alertKey'],
    [PROVENANCE_TABLE, 'findingId'],
  ] as const) {
    await ddb.send(
      new CreateTableCommand({
        TableName,
        BillingMode: 'PAY_PER_REQUEST',
        AttributeDefinitions: [{ AttributeName: key, AttributeType: 'S' }],
        KeySchema: [{ AttributeName: key, KeyType: 'HASH' }],
      }),
    );
  }
  seedTruststore(cloud, STAGE, manufacturer.certificatePem);
  // serverless/resources/ecu-policies.yml: the per-role policies jitr-handler attaches.
  createStackPolicies(cloud, root, { stage: STAGE, roleAlias: `cv-security-${STAGE}-ecu` });
  cloud.iot.createThingGroup(QUARANTINE);
  cloud.iot.createPolicy(
    QUARANTINE,
    JSON.stringify({
      Version: '2012-10-17',
      Statement: [{ Effect: 'Deny', Action: 'iot:*', Resource: '*' }],
    }),
  );
  cloud.iot.attachPolicy(QUARANTINE, cloud.iot.thingGroups.get(QUARANTINE)?.arn ?? '');
  return { cloud, manufacturerCaPem: manufacturer.certificatePem, manufacturer };
}

function vinOf(i: number): string {
  return `WVWZZZ1JZXW${String(100000 + i).padStart(6, '0')}`;
}

/**
 * Runs the whole demo. Never throws for a failed stage: failures are collected and reported.
 * @example const summary = await runFleet({ vehicles: 3, telemetryPerEcu: 5, commandsPerVehicle: 2 });
 */
export async function runFleet(options: FleetOptions): Promise<FleetSummary> {
  const log = options.log ?? (() => undefined);
  const started = Date.now();
  const failures: string[] = [];
  const stage = async <T>(name: string, fn: () => Promise<T>): Promise<T | undefined> => {
    const t0 = Date.now();
    try {
      const out = await fn();
      log(`ok   ${name} (${Date.now() - t0} ms)`);
      return out;
    } catch (error) {
      failures.push(`${name}: ${error instanceof Error ? error.message : String(error)}`);
      log(`FAIL ${name}: ${error instanceof Error ? error.message : String(error)}`);
      return undefined;
    }
  };

  installCredentialRouting();
  const { cloud, manufacturer } = await startSeededCloud();
  Object.assign(process.env, functionEnv(cloud));
  const iam = localEnforcer(
    root,
    { OperationalCaCertificate: cloud.operationalCaCertificateId, TruststoreBucket: TRUSTSTORE.bucket },
    options.iamTemplate,
  );
  cloud.enforce(iam);
  iam.onDenial = (d) => log(`IAM denied ${d.action} on ${d.resource} to ${d.principal}: ${d.reason}`);
  let gateway: MqttGateway | undefined;
  const ecus: EcuSimulator[] = [];
  let behaviour:
    | { thingName: string; finding: string; observed: string; actions: string; workflow: string }
    | undefined;
  const counts = {
    commandsSent: 0,
    commandsSucceeded: 0,
    telemetryStored: 0,
    findingsRemediated: 0,
    quarantined: 0,
  };
  try {
    // Handlers read their configuration at cold start: import them after the environment is set.
    const certBroker = await import('../../../functions/cert-broker/src/handler.js');
    const jitr = await import('../../../functions/jitr-handler/src/handler.js');
    const authorizer = await import('../../../functions/command-authorizer/src/handler.js');
    const sender = await import('../../../functions/command-sender/src/handler.js');
    const telemetry = await import('../../../functions/telemetry-ingest/src/handler.js');
    const remediation = await import('../../../functions/remediation-steps/src/handler.js');
    const authzDetector = await import('../../../functions/authz-detector/src/handler.js');
    const behaviourDetector = await import('../../../functions/behaviour-detector/src/handler.js');
    const ctx = {
      functionName: 'local',
      awsRequestId: randomUUID(),
      invokedFunctionArn: `arn:aws:lambda:${REGION}:${ACCOUNT}:function:cv-security-${STAGE}-local`,
      getRemainingTimeInMillis: () => 10_000,
    } as never;
    // Each handler runs with its own function's credentials (demo/fleet/src/iam.ts).
    const modules: Record<string, Record<string, unknown>> = {
      'cert-broker': certBroker,
      'jitr-handler': jitr,
      'command-authorizer': authorizer,
      'command-sender': sender,
      'telemetry-ingest': telemetry,
      'remediation-steps': remediation,
      'authz-detector': authzDetector,
      'behaviour-detector': behaviourDetector,
    };
    const credentials = new Map<unknown, string>();
    for (const fn of iam.template.functions()) {
      const handler = modules[fn.package]?.[fn.handlerExport];
      if (handler !== undefined) credentials.set(handler, iam.functionCredentials(fn.name).accessKeyId);
    }
    const call = async (fn: unknown, event: unknown): Promise<unknown> => {
      const accessKey = credentials.get(fn);
      if (accessKey === undefined) throw new Error('a handler that is no function of the template');
      return asFunction(accessKey, () => (fn as (e: unknown, c: unknown) => Promise<unknown>)(event, ctx));
    };

    const sql = projectRuleSql(cloud.operationalCaCertificateId);
    gateway = await MqttGateway.start(cloud, [
      { name: 'jitr', sql: sql.jitr, invoke: (e) => call(jitr.handler, e) },
      { name: 'telemetry', sql: sql.telemetry, invoke: (e) => call(telemetry.handler, e) },
      { name: 'command-results', sql: sql.results, invoke: (e) => call(telemetry.handler, e) },
      // AWS IoT lifecycle events of every connection, from the first one on (behaviourPresence).
      { name: 'presence', sql: sql.presence, invoke: (e) => call(behaviourDetector.presence, e) },
    ]);
    const ruleErrors: string[] = [];
    const authzFailures: AuthorizationFailure[] = [];
    gateway.on('authorizationFailure', (f) => authzFailures.push(f));
    gateway.on('ruleError', (rule, error) =>
      ruleErrors.push(`${rule}: ${error instanceof Error ? error.message : String(error)}`),
    );
    log(`local cloud ${cloud.endpoint}, MQTT gateway ${gateway.url}`);

    // Registry: each vehicle has a gateway, a telematics and an ADAS ECU.
    const ddb = new DynamoDBClient(cloud.clientConfig());
    const vehicles = Array.from({ length: options.vehicles }, (_, i) => vinOf(i + 1));
    await stage('registry: supplier onboarded, ECUs imported from a manifest (cv-admin)', async () => {
      // Through the operator's use cases, as `cv-admin supplier add` and `cv-admin manifest import` do: the
      // supplier binding (attestationIssuerKeySha256) is the manufacturer CA's key, so only it may enrol these ECUs.
      await provisionFleet({
        cloud,
        ddb,
        stage: STAGE,
        account: ACCOUNT,
        tables: TABLES,
        trustParameter: TRUST_PARAM,
        manufacturerCaPem: manufacturer.certificatePem,
        ecus: vehicles.flatMap((vin, v) =>
          ROLES.map((role) => ({
            ecuId: `${role.toUpperCase()}-${String(v + 1).padStart(5, '0')}`,
            vin,
            role,
          })),
        ),
      });
    });

    const kms = new KMS(cloud.clientConfig());
    const signingKey = await kms.send(new GetPublicKeyCommand({ KeyId: keyArn(LOCAL_KEYS.signing) }));
    const pinned = [
      { keyId: keyArn(LOCAL_KEYS.signing), publicKey: signingKey.PublicKey ?? new Uint8Array() },
    ];
    const enrolTransport = async (body: string) => {
      const event = JSON.parse(
        readFileSync(join(root, 'events/cert-broker/post-certificates-attestation.json'), 'utf8'),
      ) as Record<string, unknown>;
      event.body = body;
      (event.headers as Record<string, string>)['content-length'] = String(Buffer.byteLength(body));
      const res = (await call(certBroker.handler, event)) as { statusCode: number; body: string };
      return { statusCode: res.statusCode, body: res.body };
    };

    await stage(
      `enrolment: ${options.vehicles * ROLES.length} ECUs attested and issued operational certificates`,
      async () => {
        const pending: Promise<unknown>[] = [];
        for (const [v, vin] of vehicles.entries()) {
          for (const role of ROLES) {
            const ecuId = `${role.toUpperCase()}-${String(v + 1).padStart(5, '0')}`;
            const { keys, privateKeyPem } = await generateKeyPair();
            const birth = await issueLeaf(manufacturer, {
              subject: `CN=${ecuId}`,
              publicKey: keys.publicKey,
            });
            const ecu = new EcuSimulator({
              vin,
              ecuId,
              attestation: { certificatePem: pemOf(birth), privateKeyPem },
              // What the IoT credential provider gives the ECU: the ECU role, bound to its thing name.
              kms: new KMS({ ...cloud.clientConfig(), credentials: iam.ecuCredentials(`${vin}_${ecuId}`) }),
              telemetryKeyId: keyArn(LOCAL_KEYS.telemetry),
              commandKeys: pinned,
              commandIssuer: `cv-security:${STAGE}`,
              execute: (c) => `${c.claims.cmd} executed`,
            });
            ecus.push(ecu);
            // ECUs enrol concurrently, as a fleet does (PCA issuance is asynchronous: about 1 s each).
            pending.push(ecu.enrol(enrolTransport));
          }
        }
        const failed = (await Promise.allSettled(pending)).filter((r) => r.status === 'rejected');
        if (failed.length > 0) {
          throw new Error(
            `${failed.length} enrolments failed: ${String((failed[0] as PromiseRejectedResult).reason)}`,
          );
        }
      },
    );

    await stage(
      'JITR: first connection registers, jitr-handler checks OCSP and activates, reconnect succeeds',
      async () => {
        // ECUs connect concurrently (16 at a time), as a fleet does; each backs off with jitter until activated.
        let next = 0;
        const lane = async () => {
          for (let i = next++; i < ecus.length; i = next++) {
            const ecu = ecus[i] as EcuSimulator;
            const ok = await ecu.connectWithRetry(gateway?.url ?? '', gateway?.serverCaPem ?? '');
            if (!ok)
              throw new Error(
                `${ecu.thingName} could not connect (${ruleErrors.join('; ') || 'no rule error'})`,
              );
          }
        };
        await Promise.all(Array.from({ length: Math.min(16, ecus.length) }, lane));
        const active = [...cloud.iot.certificates.values()].filter((c) => c.status === 'ACTIVE').length;
        if (active !== ecus.length) throw new Error(`${active} ACTIVE certificates for ${ecus.length} ECUs`);
      },
    );

    await stage(
      're-enrolment: an ECU rotates its certificate; the new one is activated, the old one retired (INACTIVE, detached)',
      async () => {
        const ecu = ecus[ecus.length - 1];
        if (!ecu) throw new Error('no ECU');
        const principals = () => [...(cloud.iot.thingPrincipals.get(ecu.thingName)?.keys() ?? [])];
        const [oldArn, ...others] = principals();
        if (oldArn === undefined || others.length > 0) {
          throw new Error(`${ecu.thingName} has ${principals().length} principals before re-enrolment`);
        }
        const old = [...cloud.iot.certificates.values()].find((c) => c.certificateArn === oldArn);
        await ecu.disconnect();
        await ecu.enrol(enrolTransport);
        if (!(await ecu.connectWithRetry(gateway?.url ?? '', gateway?.serverCaPem ?? ''))) {
          throw new Error(`${ecu.thingName} could not connect with its new certificate`);
        }
        // Retirement follows activation in the same invocation: wait for it to finish.
        const retired = async () =>
          old?.status === 'INACTIVE' &&
          !principals().includes(oldArn) &&
          (cloud.iot.attachments.get(oldArn)?.size ?? 0) === 0;
        await waitFor(retired, 5_000);
        if (!(await retired())) {
          throw new Error(
            `old certificate ${old?.status ?? 'missing'}, thing principals ${principals().length}, policies ${
              cloud.iot.attachments.get(oldArn)?.size ?? 0
            } (${ruleErrors.join('; ') || 'no rule error'})`,
          );
        }
        if (principals().length !== 1)
          throw new Error(`${principals().length} principals after re-enrolment`);
      },
    );

    // The app user: a real access token from a local issuer whose JWKS the authorizer trusts.
    const { privateKey, publicKey } = await joseKeyPair('RS256');
    const jwk = { ...(await exportJWK(publicKey)), kid: 'local-1', alg: 'RS256', use: 'sig' };
    cloud.routes.set(`/${USER_POOL}/.well-known/jwks.json`, (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys: [jwk] }));
    });
    (authorizer.verifier as { cacheJwks: (j: unknown) => void }).cacheJwks({ keys: [jwk] });
    // The app user owns every vehicle, whatever --vehicles is (one authorizer decision per token and vehicle).
    const userSub = randomUUID();
    const owners = new Map(vehicles.map((vin) => [vin, userSub]));
    await stage('vehicle access: the app user owns every vehicle (cv-admin access grant)', async () => {
      // Through the operator's use case, as `cv-admin access grant <VIN> <sub> --role owner` does: the row the
      // authorizer and the sender read, the vehicle's ownership marker, and an audit entry per vehicle.
      const admin: AccessDeps = {
        access: new DynamoDbVehicleAccess(ddb, TABLES.vehicleAccess),
        audit: new DynamoDbAuditLog(ddb, TABLES.adminAudit),
        caller: { whoAmI: async () => `arn:aws:iam::${ACCOUNT}:user/fleet-demo` },
        clock: { now: () => new Date() },
      };
      for (const vin of vehicles) {
        const granted = await grantAccess({ vin, userSub, role: 'owner' }, admin);
        if (granted.outcome !== 'granted') throw new Error(`access to ${vin}: ${granted.outcome}`);
      }
    });
    const tokens = new Map<string, string>();
    const tokenOf = async (vin: string): Promise<string> => {
      const cached = tokens.get(vin);
      if (cached !== undefined) return cached;
      const token = await new SignJWT({
        token_use: 'access',
        client_id: CLIENT_ID,
        scope: SCOPE,
        username: `owner-${vin}`,
      })
        .setProtectedHeader({ alg: 'RS256', kid: 'local-1' })
        .setIssuer(`https://cognito-idp.${REGION}.amazonaws.com/${USER_POOL}`)
        .setSubject(owners.get(vin) ?? '')
        .setIssuedAt()
        .setExpirationTime('15m')
        .setJti(randomUUID())
        .sign(privateKey);
      tokens.set(vin, token);
      return token;
    };

    const senderTemplate = JSON.parse(
      readFileSync(join(root, 'events/command-sender/post-command.json'), 'utf8'),
    ) as Record<string, unknown>;
    const authTemplate = JSON.parse(
      readFileSync(join(root, 'events/command-authorizer/request.json'), 'utf8'),
    ) as Record<string, unknown>;
    const sendCommand = async (vin: string, command: string, args: Record<string, unknown>) => {
      const token = await tokenOf(vin);
      const authEvent = structuredClone(authTemplate) as Record<string, unknown> & {
        headers: Record<string, string>;
        multiValueHeaders: Record<string, string[]>;
      };
      authEvent.headers.Authorization = `Bearer ${token}`;
      authEvent.multiValueHeaders.Authorization = [`Bearer ${token}`];
      authEvent.methodArn = String(authEvent.methodArn).replace(/vehicles\/[^/]+\//, `vehicles/${vin}/`);
      authEvent.path = `/vehicles/${vin}/commands`;
      authEvent.pathParameters = { vin };
      const decision = (await call(authorizer.handler, authEvent)) as {
        principalId?: string;
        policyDocument?: { Statement?: { Effect?: string }[] };
        context?: Record<string, unknown>;
      };
      if (decision.policyDocument?.Statement?.[0]?.Effect !== 'Allow')
        throw new Error('authorizer denied the app user');
      const event = structuredClone(senderTemplate) as Record<string, unknown> & {
        headers: Record<string, string>;
        multiValueHeaders: Record<string, string[]>;
        requestContext: Record<string, unknown>;
      };
      const body = JSON.stringify({ command, args });
      event.body = body;
      event.path = `/vehicles/${vin}/commands`;
      event.pathParameters = { vin };
      event.headers.Authorization = `Bearer ${token}`;
      delete event.headers['Idempotency-Key'];
      delete event.multiValueHeaders['Idempotency-Key'];
      event.requestContext.authorizer = { principalId: decision.principalId, ...decision.context };
      const res = (await call(sender.handler, event)) as { statusCode: number; body: string };
      if (res.statusCode !== 202) throw new Error(`command-sender answered ${res.statusCode} ${res.body}`);
      return JSON.parse(res.body) as { commandId: string };
    };

    const sent: string[] = [];
    await stage(
      `commands: ${options.commandsPerVehicle} per vehicle signed by KMS, encrypted, delivered and executed`,
      async () => {
        const catalogue: [string, Record<string, unknown>][] = [
          ['door.lock', {}],
          ['climate.start', { temperatureC: 21 }],
          ['engine.start', { durationMin: 5 }],
          ['locate', {}],
          ['horn.flash', {}],
        ];
        for (const vin of vehicles) {
          for (let i = 0; i < options.commandsPerVehicle; i++) {
            const [command, args] = catalogue[i % catalogue.length] ?? ['locate', {}];
            sent.push((await sendCommand(vin, command, args)).commandId);
          }
        }
        let succeeded = 0;
        await waitFor(async () => {
          await gateway?.settle();
          const statuses = await commandStatuses(ddb, sent);
          succeeded = statuses.filter((s) => s === 'SUCCEEDED').length;
          return succeeded === sent.length;
        }, 15_000);
        if (succeeded !== sent.length) {
          throw new Error(
            `${succeeded}/${sent.length} commands SUCCEEDED (${ruleErrors.slice(0, 3).join('; ')})`,
          );
        }
      },
    );

    await stage(`telemetry: ${options.telemetryPerEcu} encrypted readings per ECU stored`, async () => {
      for (let n = 0; n < options.telemetryPerEcu; n++) {
        if (n > 0 && options.telemetryIntervalMs)
          await new Promise((r) => setTimeout(r, options.telemetryIntervalMs));
        await Promise.all(
          ecus.map((ecu, i) =>
            ecu.sendTelemetry({
              status: {
                speedKmh: 40 + i + n,
                odometerKm: 12_000 + n,
                batteryVoltage: 12.6,
                doorsLocked: true,
                ignition: 'ON',
              },
              location: { lat: 52.52 + i / 1000, lon: 13.405 + n / 1000 },
            }),
          ),
        );
      }
      const expected = ecus.length * options.telemetryPerEcu;
      let stored = 0;
      await waitFor(async () => {
        await gateway?.settle();
        stored = await countTelemetry(
          ddb,
          ecus.map((e) => e.thingName),
        );
        return stored >= expected;
      }, 15_000);
      if (stored < expected) {
        throw new Error(`${stored}/${expected} readings stored (${ruleErrors.slice(0, 3).join('; ')})`);
      }
    });

    // The remediation state machine, driven in-process: classify (which proves our own detectors' findings genuine
    // against their provenance records), then each step of the plan in turn, then closeFinding.
    const remediate = async (
      finding: Record<string, unknown>,
      templateFile: string,
    ): Promise<{ classified: Record<string, unknown>; final: Record<string, unknown> }> => {
      const template = JSON.parse(
        readFileSync(join(root, 'events/remediation-steps', templateFile), 'utf8'),
      ) as Record<string, unknown>;
      const event = {
        ...template,
        id: randomUUID(),
        time: new Date().toISOString(),
        detail: { findings: [finding] },
      };
      const classified = (await call(remediation.classify, event)) as Record<string, unknown>;
      let state = classified;
      const steps = remediation as unknown as Record<string, unknown>;
      for (let guard = 0; guard < 12 && state.skipped !== true && typeof state.next === 'string'; guard++) {
        const step = steps[state.next];
        if (typeof step !== 'function') throw new Error(`unknown step ${state.next}`);
        const out = (await call(step, state)) as Record<string, unknown> | undefined;
        if (state.next === 'closeFinding') break;
        state = out ?? {};
      }
      return { classified, final: state };
    };
    const workflowOf = (finding: Record<string, unknown>): string | undefined =>
      (
        cloud.securityHub.findings.get(`${String(finding.ProductArn)}\n${String(finding.Id)}`)?.Workflow as
          | { Status?: string }
          | undefined
      )?.Status;

    const rogue = ecus[ecus.length - 1];
    await stage(
      'remediation: a misbehaving ECU is detected (authz-detector), quarantined, its certificate deactivated, alert and ticket',
      async () => {
        if (!rogue) throw new Error('no ECU');
        const victim = ecus[0]?.thingName ?? 'other';
        // It tries to listen to another vehicle's commands: each SUBSCRIBE is refused by the policy.
        for (let i = 0; i < 5; i++) {
          const granted = await rogue.subscribeRaw(`ecus/${victim}/commands`);
          if (granted !== 128) throw new Error('the gateway granted a subscription outside the thing');
        }
        const failuresSeen = gateway?.failuresByThing.get(rogue.thingName) ?? 0;
        if (failuresSeen < 5) throw new Error(`only ${failuresSeen} authorization failures recorded`);
        // AWS IoT v2 logs of the failures -> CloudWatch Logs subscription -> authz-detector, which
        // imports a Security Hub finding over its threshold -> EventBridge rule -> state machine.
        const eventTypes: Record<string, string> = {
          'iot:Connect': 'Connect',
          'iot:Publish': 'Publish-In',
          'iot:Subscribe': 'Subscribe',
        };
        const logEvents = authzFailures
          .filter((f) => f.clientId === rogue.thingName && eventTypes[f.action])
          .map((f, i) => ({
            id: String(Date.now() * 1000 + i),
            timestamp: Date.now(),
            message: JSON.stringify({
              timestamp: new Date().toISOString().replace('T', ' ').replace('Z', ''),
              logLevel: 'ERROR',
              traceId: randomUUID(),
              accountId: ACCOUNT,
              status: 'Failure',
              eventType: eventTypes[f.action],
              protocol: 'MQTT',
              clientId: f.clientId,
              principalId: f.certificateId,
              sourceIp: '127.0.0.1',
              sourcePort: 50000 + i,
              reason: 'AUTHORIZATION_FAILURE',
              details: 'Authorization Failure',
            }),
          }));
        const logs = {
          messageType: 'DATA_MESSAGE',
          owner: ACCOUNT,
          logGroup: 'AWSIotLogsV2',
          logStream: randomUUID(),
          subscriptionFilters: [`cv-security-${STAGE}-authz-failures`],
          logEvents,
        };
        const imported = new Promise<Record<string, unknown>[]>((resolve) =>
          cloud.securityHub.once('imported', resolve),
        );
        await call(authzDetector.handler, {
          awslogs: { data: gzipSync(Buffer.from(JSON.stringify(logs))).toString('base64') },
        });
        const [stored] = await Promise.race([
          imported,
          new Promise<never>((_, reject) =>
            setTimeout(() => reject(new Error('authz-detector imported no finding')), 5000),
          ),
        ]);
        if (!stored) throw new Error('authz-detector imported no finding');
        await remediate(stored, 'detect-authorization-failures.json');
        const inGroup = cloud.iot.thingGroups.get(QUARANTINE)?.things.has(rogue.thingName) ?? false;
        const certId = [...cloud.iot.certificates.values()].find((c) =>
          cloud.iot.thingPrincipals.get(rogue.thingName)?.has(c.certificateArn),
        );
        if (!inGroup) throw new Error('the thing is not in the quarantine group');
        if (certId?.status !== 'INACTIVE') throw new Error(`certificate is ${certId?.status}`);
        const workflow = workflowOf(stored);
        if (workflow !== 'RESOLVED') throw new Error(`finding workflow is ${workflow}`);
        counts.findingsRemediated += 1;
        counts.quarantined += 1;
        await rogue.disconnect();
        if (await rogue.connect(gateway?.url ?? '', gateway?.serverCaPem ?? ''))
          throw new Error('the quarantined ECU could still connect');
      },
    );

    // Another ECU (not the one authz-detector caught) drops and re-opens its MQTT connection in a loop, every
    // connection allowed by its policy: no authorization failure, nothing authz-detector or the telemetry path sees.
    // Only the lifecycle events show it, and behaviour-detector's reconnect-loop rule (docs/detection.md) fires.
    const looping = ecus.length > 1 ? ecus[ecus.length - 2] : undefined;
    await stage(
      `behaviour: an ECU reconnecting in a loop (${RECONNECTS} times) is detected (behaviour-detector on lifecycle events), proven genuine, operator notified`,
      async () => {
        if (!looping) throw new Error('no second ECU');
        const url = gateway?.url ?? '';
        const ca = gateway?.serverCaPem ?? '';
        const ownFinding = (f: Finding) =>
          f.GeneratorId === BEHAVIOUR_GENERATOR && String(f.Id).includes(`/${looping.thingName}/`);
        const imported: Finding[] = [];
        const onImport = (findings: Finding[]) => imported.push(...findings.filter(ownFinding));
        cloud.securityHub.on('imported', onImport);
        const alertsBefore = cloud.sns.messages.length;
        try {
          for (let i = 0; i < RECONNECTS; i++) {
            await looping.disconnect();
            if (!(await looping.connect(url, ca))) throw new Error(`reconnect ${i + 1} refused`);
            // One ECU's lifecycle events arrive in order in this demo (the rule runs them as they come).
            await gateway?.settle();
          }
          await waitFor(async () => imported.length > 0, 5_000);
        } finally {
          cloud.securityHub.off('imported', onImport);
        }
        const stored = imported[0];
        if (!stored) throw new Error('behaviour-detector imported no finding');
        if (imported.length !== 1)
          throw new Error(`${imported.length} findings imported (one expected: de-duplicated)`);
        const kind = /^cv-security\/behaviour-detector\/([A-Z_]+)\//.exec(String(stored.Id))?.[1];
        if (kind !== 'RECONNECT_LOOP') throw new Error(`behaviour-detector raised ${kind ?? stored.Id}`);
        if ((gateway?.failuresByThing.get(looping.thingName) ?? 0) > 0)
          throw new Error('the looping ECU had authorization failures (authz-detector territory)');
        const { classified, final } = await remediate(stored, 'own-behaviour-reconnect-loop.json');
        const plan = classified.plan as { actions?: string[]; refusal?: unknown; check?: string } | undefined;
        if (plan?.refusal !== undefined)
          throw new Error(`classify refused the finding: ${JSON.stringify(plan.refusal)}`);
        if (plan?.check !== `${BEHAVIOUR_GENERATOR}/RECONNECT_LOOP`)
          throw new Error(`classified as ${plan?.check}`);
        if (JSON.stringify(plan.actions) !== JSON.stringify(['notify']))
          throw new Error(`playbook ${JSON.stringify(plan.actions)}, not notify`);
        const fields = (stored.ProductFields ?? {}) as Record<string, string>;
        const results = (final.results ?? []) as { action?: string; outcome?: string }[];
        const alerts = cloud.sns.messages.slice(alertsBefore);
        if (alerts.length !== 1 || !JSON.stringify(alerts[0]).includes(looping.thingName))
          throw new Error(`${alerts.length} alerts about ${looping.thingName}`);
        const workflow = workflowOf(stored);
        if (workflow !== 'NOTIFIED') throw new Error(`finding workflow is ${workflow}`);
        // Notify only: the ECU keeps its certificate, its connection and its place outside quarantine.
        const inGroup = cloud.iot.thingGroups.get(QUARANTINE)?.things.has(looping.thingName) ?? false;
        if (inGroup || !looping.connected)
          throw new Error('the looping ECU was cut off (the playbook only notifies)');
        behaviour = {
          thingName: looping.thingName,
          finding: String(stored.Id),
          observed: `${fields['cv/Metric']} ${fields['cv/Observed']} >= ${fields['cv/Threshold']}`,
          actions: results.map((r) => `${r.action ?? '?'} ${r.outcome ?? '?'}`).join(', '),
          workflow,
        };
        counts.findingsRemediated += 1;
      },
    );

    const commands = await commandRows(ddb);
    const statuses = [...cloud.iot.certificates.values()].reduce<Record<string, number>>((m, c) => {
      m[c.status] = (m[c.status] ?? 0) + 1;
      return m;
    }, {});
    for (const d of iam.denials)
      failures.push(`IAM denied ${d.action} on ${d.resource} to ${d.principal}: ${d.reason}`);
    return {
      denials: iam.denials,
      rows: [
        ['vehicles', vehicles.length],
        ['ECUs', ecus.length],
        ['certificates issued (PCA)', cloud.pca.issued.size],
        [
          'certificates by IoT status',
          Object.entries(statuses)
            .map(([k, v]) => `${k} ${v}`)
            .join(', '),
        ],
        ['JITR events', gateway.stats.jitrEvents],
        // From the local cloud's state and what the ECUs received, not from the stages' tallies.
        [
          'commands sent / delivered',
          `${commands.sent} / ${ecus.reduce((n, e) => n + e.executed.length + e.rejectedCommands.length, 0)}`,
        ],
        ['commands SUCCEEDED', commands.succeeded],
        [
          'telemetry stored',
          await countTelemetry(
            ddb,
            ecus.map((e) => e.thingName),
          ),
        ],
        [
          'command results stored',
          await countTelemetry(
            ddb,
            ecus.map((e) => e.thingName),
            'command-result',
          ),
        ],
        ['authorization failures', gateway.stats.authorizationFailures],
        ['findings remediated', counts.findingsRemediated],
        ['ECUs quarantined', counts.quarantined],
        [
          'behaviour findings (behaviour-detector)',
          behaviour === undefined
            ? 'none'
            : `${behaviour.finding.split('/').slice(2, 4).join(' ')} (${behaviour.observed}): ${behaviour.actions}, ${behaviour.workflow}`,
        ],
        ['SNS alerts / OpsItems', `${cloud.sns.messages.length} / ${cloud.ssm.opsItems.size}`],
        ['IAM requests evaluated / denied', `${iam.evaluated} / ${iam.denials.length}`],
        [
          'KMS Sign / Decrypt / GenerateDataKey',
          `${cloud.kms.calls.get('Sign') ?? 0} / ${cloud.kms.calls.get('Decrypt') ?? 0} / ${cloud.kms.calls.get('GenerateDataKey') ?? 0}`,
        ],
      ],
      failures,
      seconds: (Date.now() - started) / 1000,
    };
  } catch (error) {
    failures.push(`setup: ${error instanceof Error ? error.message : String(error)}`);
    return { rows: [], failures, seconds: (Date.now() - started) / 1000 };
  } finally {
    await Promise.allSettled(ecus.map((e) => e.disconnect()));
    await gateway?.stop().catch(() => undefined);
    await cloud.stop();
  }
}

async function waitFor(check: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function commandStatuses(ddb: DynamoDBClient, ids: readonly string[]): Promise<string[]> {
  const out = await ddb.send(new ScanCommand({ TableName: TABLES.commands }));
  const byId = new Map((out.Items ?? []).map((i) => [i.commandId?.S ?? '', i.status?.S ?? '']));
  return ids.map((id) => byId.get(id) ?? 'MISSING');
}

/** The commands stored (idempotency records aside) and how many SUCCEEDED. */
async function commandRows(ddb: DynamoDBClient): Promise<{ sent: number; succeeded: number }> {
  const items: Record<string, AttributeValue>[] = [];
  let start: Record<string, AttributeValue> | undefined;
  do {
    const out = await ddb.send(
      new ScanCommand({ TableName: TABLES.commands, ...(start ? { ExclusiveStartKey: start } : {}) }),
    );
    items.push(...(out.Items ?? []));
    start = out.LastEvaluatedKey;
  } while (start !== undefined);
  const rows = items.filter((i) => i.kind?.S !== 'idempotency' && i.vin?.S !== undefined);
  return { sent: rows.length, succeeded: rows.filter((i) => i.status?.S === 'SUCCEEDED').length };
}

/** Rows of one kind (telemetry readings, or command results) the telemetry table holds for the things. */
async function countTelemetry(
  ddb: DynamoDBClient,
  things: readonly string[],
  kind: 'telemetry' | 'command-result' = 'telemetry',
): Promise<number> {
  let n = 0;
  for (const thingName of things) {
    let start: Record<string, AttributeValue> | undefined;
    do {
      const out = await ddb.send(
        new QueryCommand({
          TableName: TABLES.telemetry,
          KeyConditionExpression: 'thingName = :t',
          FilterExpression: '#kind = :kind',
          ExpressionAttributeNames: { '#kind': 'kind' },
          ExpressionAttributeValues: { ':t': { S: thingName }, ':kind': { S: kind } },
          Select: 'COUNT',
          ...(start ? { ExclusiveStartKey: start } : {}),
        }),
      );
      n += out.Count ?? 0;
      start = out.LastEvaluatedKey;
    } while (start !== undefined);
  }
  return n;
}

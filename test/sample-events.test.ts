/**
 * docs/architecture.md §1: every sample event under events/<function>/ runs through its function's
 * exported handler, in-process, with AWS mocked (aws-sdk-client-mock on the SDK client
 * classes the handlers use). Each function runs with the environment the packaged
 * CloudFormation template gives it (`pnpm run package`, which `pnpm run check` runs before
 * the unit tests), intrinsics resolved to placeholder values: importing the handler runs its
 * loadConfig, so this also proves the template's environment satisfies it.
 */
import { createHash, generateKeyPairSync } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  BatchWriteItemCommand,
  DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  QueryCommand,
  TransactWriteItemsCommand,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import { DescribeCertificateCommand, IoTClient } from '@aws-sdk/client-iot';
import { IoTDataPlaneClient, PublishCommand } from '@aws-sdk/client-iot-data-plane';
import { EncryptCommand, GetPublicKeyCommand, KMSClient, SignCommand } from '@aws-sdk/client-kms';
import { BatchImportFindingsCommand, SecurityHubClient } from '@aws-sdk/client-securityhub';
import { GetParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import {
  QueryCommand as DocQueryCommand,
  DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  TransactWriteCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { lambdaContext as sharedLambdaContext } from '@cv/test-support';
import type { Context } from 'aws-lambda';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { fakePca, fakeRegistry } from '../functions/cert-broker/tests/helpers/aws.js';
import { type AnyStub, mockAws } from '../functions/cert-broker/tests/helpers/mock.js';
import { buildWorld, issuerKeySha256, toResponse } from '../functions/cert-broker/tests/helpers/world.js';
import { localSigningKey, localSymmetricKms } from '../functions/command-sender/tests/helpers.js';
import { MalformedFindingError } from '../functions/remediation-steps/src/errors.js';
import { provenanceItem } from '../packages/runtime/src/provenance.js';
import { SAMPLE_FINDING_PLANS } from './support/remediation-plans.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const EVENTS = join(ROOT, 'events');
const FUNCTIONS = join(ROOT, 'functions');
const TEMPLATE = join(ROOT, '.serverless', 'cloudformation-template-update-stack.json');
const REGION = 'eu-west-1';
const ACCOUNT = '123456789012';

const dirs = (path: string) =>
  readdirSync(path, { withFileTypes: true })
    .filter((d) => d.isDirectory())
    .map((d) => d.name)
    .sort();
const eventFiles = (fn: string) =>
  readdirSync(join(EVENTS, fn))
    .filter((f) => f.endsWith('.json'))
    .sort();
const loadEvent = (fn: string, file: string): unknown =>
  JSON.parse(readFileSync(join(EVENTS, fn, file), 'utf8'));

type Expected =
  | { kind: 'http'; status: number }
  | { kind: 'throws'; error: RegExp | (abstract new (...args: never[]) => Error) }
  | { kind: 'returns'; value: unknown }
  | { kind: 'plan'; actions: string[]; skipped?: boolean };

/**
 * What each sample event should produce through its handler, with the AWS fakes of its
 * function's describe block below. Every JSON file under events/ must have a row.
 */
const EXPECTED: Record<string, Record<string, Expected>> = {
  'admin-api': {
    // The sample vehicle has no access rows yet: an empty listing.
    'get-vehicle-access.json': { kind: 'http', status: 200 },
    // A driver needs an expiry: the use case's validation, 400, nothing written.
    'put-driver-without-expiry.json': { kind: 'http', status: 400 },
  },
  'authz-detector': {
    // 8 failures of certificate principals, counted; below the threshold, so no finding.
    'authorization-failures.json': { kind: 'returns', value: undefined },
  },
  'behaviour-detector': {
    // One connect of a known ECU: counted (one UpdateItem), presence kept; no rule reached, no finding.
    'presence-connected.json': { kind: 'returns', value: undefined },
    // One ECU hour within the floors: judged, nothing anomalous, nothing to retry.
    'counters-stream.json': { kind: 'returns', value: { batchItemFailures: [] } },
  },
  'cert-broker': {
    'post-certificates-attestation.json': { kind: 'http', status: 201 },
    'post-certificates-mtls.json': { kind: 'http', status: 201 },
  },
  'command-authorizer': {
    // The sample carries a placeholder token (no valid signature): API Gateway's 401.
    'request.json': { kind: 'throws', error: /^Unauthorized$/ },
  },
  'command-sender': {
    'get-command.json': { kind: 'http', status: 404 },
    'post-command.json': { kind: 'http', status: 202 },
  },
  'jitr-handler': {
    // Registered under a CA other than the operational CA: not ours to activate.
    'certificate-registered.json': {
      kind: 'returns',
      value: expect.objectContaining({ outcome: 'skipped' }),
    },
  },
  'remediation-steps': {
    ...SAMPLE_FINDING_PLANS,
    'malformed-certificate-id.json': { kind: 'throws', error: MalformedFindingError },
    'malformed-no-resources.json': { kind: 'throws', error: MalformedFindingError },
  },
  'telemetry-ingest': {
    // The committed envelopes' data keys are wrapped under the key id "sample", not
    // TELEMETRY_KEY_ID: dropped before any KMS call (a permanent rejection, so no retry).
    'iot-command-result.json': { kind: 'returns', value: undefined },
    'iot-telemetry.json': { kind: 'returns', value: undefined },
    'sqs-batch.json': { kind: 'returns', value: { batchItemFailures: [] } },
  },
};

// ---------------------------------------------------------------------------------------
// The packaged template's environment per handler.

type Cfn = { Resources: Record<string, { Type: string; Properties?: Record<string, unknown> }> };
let template: Cfn;

/** A placeholder for what CloudFormation would put in place of an intrinsic. */
function resolve(value: unknown, where: string): string {
  if (typeof value === 'string') return value;
  const v = value as { Ref?: unknown; 'Fn::GetAtt'?: unknown };
  if (v.Ref === 'AWS::AccountId') return ACCOUNT;
  if (v.Ref === 'AWS::Region') return REGION;
  const [id, attribute] =
    typeof v.Ref === 'string'
      ? [v.Ref, 'Ref']
      : Array.isArray(v['Fn::GetAtt'])
        ? (v['Fn::GetAtt'] as [string, string])
        : [undefined, undefined];
  const resource = id === undefined ? undefined : template.Resources[id];
  if (id === undefined || resource === undefined) {
    throw new Error(`${where}: cannot resolve ${JSON.stringify(value)}`);
  }
  const p = resource.Properties ?? {};
  const uuid = createHash('sha256').update(id).digest('hex');
  const named = (key: string) => (typeof p[key] === 'string' ? (p[key] as string) : id);
  switch (`${resource.Type} ${attribute}`) {
    case 'AWS::DynamoDB::Table Ref':
      return named('TableName');
    case 'AWS::KMS::Key Arn':
      return `arn:aws:kms:${REGION}:${ACCOUNT}:key/${uuid.slice(0, 8)}-${uuid.slice(8, 12)}-4${uuid.slice(13, 16)}-8${uuid.slice(17, 20)}-${uuid.slice(20, 32)}`;
    case 'AWS::SNS::Topic Ref':
      return `arn:aws:sns:${REGION}:${ACCOUNT}:${named('TopicName')}`;
    case 'AWS::IoT::RoleAlias Ref':
      return named('RoleAlias');
    case 'AWS::IoT::CACertificate Id':
      return uuid;
    case 'AWS::S3::Bucket Ref':
      // CloudFormation names an unnamed bucket `<stack>-<logical id>-<suffix>`, lowercase.
      return named('BucketName').toLowerCase();
    default:
      throw new Error(`${where}: no placeholder for ${resource.Type} ${attribute} (${id})`);
  }
}

/**
 * `functions/<fn>/src/<module>.<export>` -> the environment the template sets, resolved (the module is `handler`, or a
 * step's own entry such as `entries/classify` for the remediation steps).
 */
function templateEnv(fn: string, exportName: string): Record<string, string> {
  const handler = `functions/${fn}/src/(handler|entries/[a-z-]+).${exportName}`;
  const pattern = new RegExp(`^functions/${fn}/src/(handler|entries/[a-z-]+)\\.${exportName}$`);
  const lambda = Object.entries(template.Resources).find(
    ([, r]) => r.Type === 'AWS::Lambda::Function' && pattern.test(String(r.Properties?.Handler)),
  );
  if (lambda === undefined) throw new Error(`the packaged template has no function with handler ${handler}`);
  const [id, { Properties: p = {} }] = lambda;
  const vars = (p.Environment as { Variables?: Record<string, unknown> } | undefined)?.Variables ?? {};
  return {
    // What the Lambda runtime adds.
    AWS_REGION: REGION,
    AWS_DEFAULT_REGION: REGION,
    AWS_LAMBDA_FUNCTION_NAME: String(p.FunctionName ?? id),
    ...Object.fromEntries(Object.entries(vars).map(([k, v]) => [k, resolve(v, `${id}.${k}`)])),
  };
}

const savedEnv = { ...process.env };
/** Replaces the environment with exactly what the template gives the handler. */
function useEnvOf(fn: string, exportName = 'handler'): void {
  for (const key of Object.keys(process.env)) delete process.env[key];
  // LOG_LEVEL SILENT keeps the test output quiet; 'the template environment satisfies every
  // loadConfig' below checks the template's own LOG_LEVEL.
  Object.assign(process.env, { PATH: savedEnv.PATH }, templateEnv(fn, exportName), { LOG_LEVEL: 'SILENT' });
}

function context(functionName: string): Context {
  return sharedLambdaContext({
    functionName,
    region: REGION,
    account: ACCOUNT,
    awsRequestId: '8f0e3a52-1b7c-4d2e-9f60-0a1b2c3d4e5f',
  });
}

type AnyHandler = (event: unknown, context: Context) => Promise<unknown>;

/** Runs one event and checks the outcome its EXPECTED row names. */
async function check(run: () => Promise<unknown>, expected: Expected): Promise<void> {
  switch (expected.kind) {
    case 'throws':
      await expect(run()).rejects.toThrow(expected.error as RegExp);
      return;
    case 'http':
      expect(toResponse((await run()) as never).status).toBe(expected.status);
      return;
    case 'returns':
      expect(await run()).toEqual(expected.value);
      return;
    case 'plan': {
      const state = (await run()) as { plan: { actions: string[] }; skipped?: boolean };
      expect(state.plan.actions).toEqual(expected.actions);
      expect(state.skipped ?? false).toBe(expected.skipped ?? false);
      return;
    }
  }
}

const cases = (fn: string) => Object.entries(EXPECTED[fn] ?? {});

let stubs: AnyStub[] = [];
function stub(client: unknown): AnyStub {
  const s = mockAws(client);
  stubs.push(s);
  return s;
}
afterEach(() => {
  vi.useRealTimers();
});
beforeAll(() => {
  if (!existsSync(TEMPLATE)) {
    throw new Error(`${TEMPLATE} is missing: run \`pnpm run package\` first (\`pnpm run check\` does)`);
  }
  template = JSON.parse(readFileSync(TEMPLATE, 'utf8')) as Cfn;
});
afterAll(() => {
  for (const key of Object.keys(process.env)) delete process.env[key];
  Object.assign(process.env, savedEnv);
});
function restoreStubs(): void {
  for (const s of stubs) s.restore();
  stubs = [];
}

// ---------------------------------------------------------------------------------------

describe('sample events', () => {
  it('exist for every function, and every events directory belongs to a function', () => {
    const functions = dirs(FUNCTIONS);
    expect(dirs(EVENTS)).toEqual(functions);
    for (const fn of functions) expect(eventFiles(fn).length, `events/${fn}/`).toBeGreaterThan(0);
  });

  it('each have an expected outcome, and each expectation an event', () => {
    for (const fn of dirs(EVENTS)) expect(Object.keys(EXPECTED[fn] ?? {}).sort(), fn).toEqual(eventFiles(fn));
    expect(Object.keys(EXPECTED).sort()).toEqual(dirs(EVENTS));
  });
});

describe('the packaged template', () => {
  const lambdas = () =>
    Object.values(template.Resources)
      .filter((r) => r.Type === 'AWS::Lambda::Function')
      // Custom resource handlers inlined from serverless/custom-resources/ are not functions/ packages.
      .filter((r) => (r as { Metadata?: Record<string, unknown> }).Metadata?.['cv:inlineCode'] === undefined)
      // `src/handler.<export>`, or a remediation step's own entry `src/entries/<step>.<export>`.
      .map((r) =>
        /^functions\/([a-z-]+)\/src\/(?:handler|entries\/[a-z-]+)\.([A-Za-z]+)$/.exec(
          String(r.Properties?.Handler),
        ),
      )
      .map((m) => ({ fn: m?.[1] ?? '', exportName: m?.[2] ?? '' }));

  it('gives every function and remediation step an environment its loadConfig accepts, as is', async () => {
    const loaders: Record<string, (env: Record<string, string>, exportName: string) => unknown> = {
      'admin-api': (await import('../functions/admin-api/src/config.js')).loadConfig,
      'authz-detector': (await import('../functions/authz-detector/src/config.js')).loadConfig,
      'behaviour-detector': (await import('../functions/behaviour-detector/src/config.js')).loadConfig,
      'cert-broker': (await import('../functions/cert-broker/src/config.js')).loadConfig,
      'command-authorizer': (await import('../functions/command-authorizer/src/config.js')).loadConfig,
      'command-sender': (await import('../functions/command-sender/src/config.js')).loadConfig,
      'jitr-handler': (await import('../functions/jitr-handler/src/config.js')).loadConfig,
      'remediation-steps': async (env, step) =>
        (await import('../functions/remediation-steps/src/config.js')).loadConfig(
          step as never,
          env,
          ACCOUNT,
        ),
      'telemetry-ingest': (await import('../functions/telemetry-ingest/src/config.js')).loadConfig,
    };
    const seen = new Set<string>();
    for (const { fn, exportName } of lambdas()) {
      const load = loaders[fn];
      expect(load, `${fn}.${exportName}`).toBeDefined();
      await expect(
        Promise.resolve().then(() => load?.(templateEnv(fn, exportName), exportName)),
      ).resolves.toBeDefined();
      seen.add(fn);
    }
    expect([...seen].sort()).toEqual(dirs(FUNCTIONS));
  });
});

describe('admin-api', () => {
  let handler: AnyHandler;
  let ddb: AnyStub;
  beforeAll(async () => {
    useEnvOf('admin-api');
    ddb = stub(DynamoDBClient);
    ddb.on(GetItemCommand).resolves({});
    ddb.on(PutItemCommand).resolves({});
    ({ handler } = (await import('../functions/admin-api/src/handler.js')) as unknown as {
      handler: AnyHandler;
    });
  });
  afterAll(restoreStubs);

  it.each(cases('admin-api'))('%s', async (file, expected) => {
    await check(() => handler(loadEvent('admin-api', file), context('cv-security-dev-adminApi')), expected);
    expect(ddb.commandCalls(TransactWriteItemsCommand)).toHaveLength(0);
  });
});

describe('authz-detector', () => {
  let handler: AnyHandler;
  let ddb: AnyStub;
  let hub: AnyStub;
  beforeAll(async () => {
    useEnvOf('authz-detector');
    ddb = stub(DynamoDBClient);
    hub = stub(SecurityHubClient);
    ddb.on(BatchWriteItemCommand).resolves({});
    ddb.on(UpdateItemCommand).resolves({});
    ddb.on(PutItemCommand).resolves({});
    ddb.on(QueryCommand).resolves({ Items: [] });
    ddb.on(GetItemCommand).resolves({});
    ({ handler } = (await import('../functions/authz-detector/src/handler.js')) as unknown as {
      handler: AnyHandler;
    });
  });
  afterAll(restoreStubs);

  it.each(cases('authz-detector'))('%s', async (file, expected) => {
    await check(
      () => handler(loadEvent('authz-detector', file), context('cv-security-dev-authzDetector')),
      expected,
    );
    // Each failure stored once under its log event id; below the threshold, nothing imported.
    const stored = ddb
      .commandCalls(BatchWriteItemCommand)
      .flatMap((c) =>
        Object.values((c.args[0].input as { RequestItems: Record<string, unknown[]> }).RequestItems),
      )
      .flat();
    expect(stored).toHaveLength(4);
    expect(hub.commandCalls(BatchImportFindingsCommand)).toHaveLength(0);
  });
});

describe('behaviour-detector', () => {
  let handlers: { presence: AnyHandler; counters: AnyHandler };
  let ddb: AnyStub;
  let hub: AnyStub;
  beforeAll(async () => {
    useEnvOf('behaviour-detector', 'presence');
    expect(templateEnv('behaviour-detector', 'counters')).toMatchObject({
      ...templateEnv('behaviour-detector', 'presence'),
      AWS_LAMBDA_FUNCTION_NAME: expect.any(String),
    });
    ddb = stub(DynamoDBClient);
    hub = stub(SecurityHubClient);
    ddb.on(UpdateItemCommand).resolves({});
    ddb.on(PutItemCommand).resolves({});
    ddb.on(QueryCommand).resolves({ Items: [] });
    ddb.on(GetItemCommand).resolves({});
    handlers = (await import('../functions/behaviour-detector/src/handler.js')) as unknown as typeof handlers;
  });
  afterAll(restoreStubs);

  it.each(cases('behaviour-detector'))('%s', async (file, expected) => {
    const run = file.startsWith('presence') ? handlers.presence : handlers.counters;
    await check(
      () => run(loadEvent('behaviour-detector', file), context('cv-security-dev-behaviour')),
      expected,
    );
    expect(hub.commandCalls(BatchImportFindingsCommand)).toHaveLength(0);
  });

  it('the connect is counted once, in its ECU hour', () => {
    const updates = ddb.commandCalls(UpdateItemCommand).map((c) => c.args[0].input as { Key: unknown });
    expect(updates).toEqual([
      expect.objectContaining({
        Key: { thingName: { S: 'WVWZZZ1JZXW000001_TCU-00042' }, sk: { S: 'b#001764057600' } },
      }),
    ]);
  });
});

describe('cert-broker', () => {
  /** The time the sample attestation was signed at. */
  const SAMPLE_SIGNED_AT = new Date('2026-11-25T09:30:00Z');
  let handler: AnyHandler;
  let world: Awaited<ReturnType<typeof buildWorld>>;
  beforeAll(async () => {
    useEnvOf('cert-broker');
    world = await buildWorld();
    stub(SSMClient)
      .on(GetParameterCommand, { Name: process.env.ATTESTATION_TRUST_BUNDLE_PARAM })
      .resolves({
        Parameter: { Value: readFileSync(join(EVENTS, 'cert-broker', 'trust-bundle.pem'), 'utf8') },
      });
    ({ handler } = (await import('../functions/cert-broker/src/handler.js')) as unknown as {
      handler: AnyHandler;
    });
  });
  afterAll(restoreStubs);

  it.each(cases('cert-broker'))('%s', async (file, expected) => {
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(SAMPLE_SIGNED_AT);
    const pca = fakePca(world.opIssuing, world.opChainPem);
    const registry = fakeRegistry([
      {
        ecuId: 'ECU-GW-0001',
        vin: 'WVWZZZ1JZXW000001',
        role: 'gateway',
        status: 'ACTIVE',
        // Bound to the sample bundle's CA, which issued the sample attestation certificate.
        attestationIssuerKeySha256: issuerKeySha256(
          readFileSync(join(EVENTS, 'cert-broker', 'trust-bundle.pem'), 'utf8'),
        ),
      },
    ]);
    stubs.push(pca.mock, registry.mock);

    await check(
      () => handler(loadEvent('cert-broker', file), context('cv-security-dev-certBroker')),
      expected,
    );
    expect(pca.requests).toHaveLength(1);
    expect(registry.table.get('ECU-GW-0001')?.thingName).toBe('WVWZZZ1JZXW000001_ECU-GW-0001');
  });
});

describe('command-authorizer', () => {
  let handler: AnyHandler;
  let ddb: AnyStub;
  beforeAll(async () => {
    useEnvOf('command-authorizer');
    ddb = stub(DynamoDBDocumentClient);
    const mod = (await import('../functions/command-authorizer/src/handler.js')) as unknown as {
      handler: AnyHandler;
      verifier: { cacheJwks(jwks: unknown): void };
    };
    // The JWKS the pool would serve, with a key under the sample token's kid, so nothing is fetched.
    const { publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    mod.verifier.cacheJwks({
      keys: [{ ...publicKey.export({ format: 'jwk' }), kid: 'k1', alg: 'RS256', use: 'sig' }],
    });
    handler = mod.handler;
  });
  afterAll(restoreStubs);

  it.each(cases('command-authorizer'))('%s', async (file, expected) => {
    await check(
      () => handler(loadEvent('command-authorizer', file), context('cv-security-dev-commandAuthorizer')),
      expected,
    );
    expect(ddb.calls()).toHaveLength(0);
  });
});

describe('command-sender', () => {
  const VIN = '1HGCM82633A004352';
  let handler: AnyHandler;
  let kms: AnyStub;
  let iot: AnyStub;
  let ddb: AnyStub;
  beforeAll(async () => {
    useEnvOf('command-sender');
    const key = localSigningKey();
    const sym = localSymmetricKms();
    kms = stub(KMSClient);
    iot = stub(IoTDataPlaneClient);
    ddb = stub(DynamoDBDocumentClient);
    kms.on(GetPublicKeyCommand).resolves({
      KeySpec: 'ECC_NIST_P256',
      KeyUsage: 'SIGN_VERIFY',
      PublicKey: key.spki,
      SigningAlgorithms: ['ECDSA_SHA_256'],
    });
    kms.on(SignCommand).callsFake(async (input: { Message: Uint8Array }) => ({
      Signature: key.signDigest(input.Message),
      SigningAlgorithm: 'ECDSA_SHA_256',
    }));
    kms
      .on(EncryptCommand)
      .callsFake(async (input: { Plaintext: Uint8Array; EncryptionContext: Record<string, string> }) => ({
        CiphertextBlob: sym.encrypt(input.Plaintext, input.EncryptionContext),
      }));
    iot.on(PublishCommand).resolves({});
    ddb.on(DocQueryCommand).resolves({
      Items: [{ vin: VIN, ecuId: 'gw-0001', role: 'gateway', status: 'ACTIVE', thingName: `${VIN}_gw-0001` }],
    });
    ddb.on(GetCommand).resolves({});
    // The sample caller's vehicle-access row, which the sender re-reads on every request.
    ddb.on(GetCommand, { TableName: 'cv-security-dev-vehicle-access' }).resolves({
      Item: { userSub: '3f9a1c52-7d4e-4b8a-9c1e-2b5d6f7a8e90', vin: VIN, role: 'owner', commands: ['*'] },
    });
    ddb.on(PutCommand).resolves({});
    ddb.on(TransactWriteCommand).resolves({});
    ddb
      .on(UpdateCommand)
      .callsFake(async (input: { ExpressionAttributeValues: Record<string, unknown> }) => ({
        Attributes: { targetCommandId: input.ExpressionAttributeValues[':commandId'] },
      }));
    ({ handler } = (await import('../functions/command-sender/src/handler.js')) as unknown as {
      handler: AnyHandler;
    });
  });
  afterAll(restoreStubs);

  it.each(cases('command-sender'))('%s', async (file, expected) => {
    const published = iot.commandCalls(PublishCommand).length;

    await check(
      () => handler(loadEvent('command-sender', file), context('cv-security-dev-commandSender')),
      expected,
    );

    expect(iot.commandCalls(PublishCommand).length - published).toBe(file.startsWith('post-') ? 1 : 0);
  });
});

describe('jitr-handler', () => {
  let handler: AnyHandler;
  let iot: AnyStub;
  beforeAll(async () => {
    useEnvOf('jitr-handler');
    iot = stub(IoTClient);
    stub(DynamoDBDocumentClient);
    ({ handler } = (await import('../functions/jitr-handler/src/handler.js')) as unknown as {
      handler: AnyHandler;
    });
  });
  afterAll(restoreStubs);

  it.each(cases('jitr-handler'))('%s', async (file, expected) => {
    await check(
      () => handler(loadEvent('jitr-handler', file), context('cv-security-dev-jitrHandler')),
      expected,
    );
    // Nothing activated, attached or created: not even read.
    expect(iot.calls().filter((c) => !(c.args[0] instanceof DescribeCertificateCommand))).toHaveLength(0);
  });
});

describe('remediation-steps (classify)', () => {
  let classify: AnyHandler;
  beforeAll(async () => {
    useEnvOf('remediation-steps', 'classify');
    // The provenance record authz-detector wrote for the own-detector sample (the only finding that needs one).
    const own = (
      loadEvent('remediation-steps', 'own-authz-detector-finding.json') as {
        detail: { findings: Array<Record<string, string>> };
      }
    ).detail.findings[0];
    stub(DynamoDBClient)
      .on(GetItemCommand, { TableName: process.env.FINDING_PROVENANCE_TABLE })
      .resolves({
        Item: provenanceItem(
          {
            findingId: own?.Id ?? '',
            generatorId: own?.GeneratorId ?? '',
            productArn: own?.ProductArn ?? '',
            accountId: own?.AwsAccountId ?? '',
            targets: { certificateId: own?.Id?.split('/')[2] ?? '' },
            raisedAt: own?.CreatedAt ?? '',
          },
          2_000_000_000,
        ),
      });
    ({ classify } = (await import('../functions/remediation-steps/src/handler.js')) as unknown as {
      classify: AnyHandler;
    });
  });

  it.each(cases('remediation-steps'))('%s', async (file, expected) => {
    await check(
      () => classify(loadEvent('remediation-steps', file), context('cv-security-dev-remediationClassify')),
      expected,
    );
  });
});

describe('telemetry-ingest', () => {
  let handlers: { handler: AnyHandler; batchHandler: AnyHandler };
  let kms: AnyStub;
  let ddb: AnyStub;
  beforeAll(async () => {
    useEnvOf('telemetry-ingest');
    // The batch function's environment must satisfy the same loadConfig.
    expect(templateEnv('telemetry-ingest', 'batchHandler')).toMatchObject({
      ...templateEnv('telemetry-ingest', 'handler'),
      AWS_LAMBDA_FUNCTION_NAME: expect.any(String),
    });
    kms = stub(KMSClient);
    ddb = stub(DynamoDBDocumentClient);
    handlers = (await import('../functions/telemetry-ingest/src/handler.js')) as unknown as typeof handlers;
  });
  afterAll(restoreStubs);

  it.each(cases('telemetry-ingest'))('%s', async (file, expected) => {
    const handler = file.startsWith('sqs-') ? handlers.batchHandler : handlers.handler;

    await check(
      () => handler(loadEvent('telemetry-ingest', file), context('cv-security-dev-telemetryIngest')),
      expected,
    );

    expect(kms.calls()).toHaveLength(0);
    expect(ddb.calls()).toHaveLength(0);
  });
});

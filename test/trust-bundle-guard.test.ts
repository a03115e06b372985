/**
 * A deployment never undoes `cv-admin supplier add|retire` (serverless/plugins/trust-bundle-drift.cjs, run by the
 * preflight plugin before `serverless deploy`): the stack writes the bundle its `attestationTrustBundle` parameter
 * holds to the truststore object and the broker's SSM parameter, so a bundle file from before an onboarding would
 * drop the supplier, and one from before a retirement would trust the retired CA again. Checked against the local
 * cloud with the plugin's own AWS SDK v3 calls and cv-admin's real adapters; the CAs are made by openssl.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { awsDeps, runCli } from '@cv/admin';
import { createTables, LocalCloud } from '@cv/local-cloud';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { opensslCa } from './support/openssl-ca.js';

const require = createRequire(import.meta.url);
type Guard = {
  guardTrustBundle(template: string): Promise<void>;
  resolvedParams(): Promise<{ params: Record<string, string>; problems: { problem: string }[] }>;
  accountId(): Promise<string | undefined>;
};
const CvPreflight = require('../serverless/plugins/cv-preflight.cjs') as new (
  serverless: unknown,
  options: unknown,
) => Guard;

const STAGE = 'guard';
const PARAM = `/cv-security/${STAGE}/attestation-trust-bundle`;
const BUCKET = 'cv-security-guard-truststorebucket-9z8y7x';
const KEY = 'attestation-cas.pem';
const DOMAIN = `certs.${STAGE}.cv.example.com`;
const dir = mkdtempSync(join(tmpdir(), 'cv-trust-guard-'));
let cloud: LocalCloud;
const pems: Record<string, string> = {};
const saved = { ...process.env };

const makeCa = (name: string) => opensslCa(dir, name, `${name} attestation CA`, 365);

/** The plugin as osls constructs it: SDK v3 config from the provider, and no `provider.request()` (osls 4). */
function preflight(options: { stage?: string; endpoint?: string; param?: string[] } = {}): Guard {
  const stage = options.stage ?? STAGE;
  const serverless = {
    service: {
      provider: { stage, region: 'eu-west-1' },
      custom: { names: { suppliersTable: `cv-security-${stage}-suppliers` } },
    },
    configurationInput: { params: {} },
    serviceDir: dir,
    getProvider: () => ({
      getAwsSdkV3Config: async () => ({
        ...cloud.clientConfig(),
        ...(options.endpoint ? { endpoint: options.endpoint, maxAttempts: 1 } : {}),
      }),
      request() {
        throw new Error('provider.request() is no longer available');
      },
    }),
    classes: { Error },
    cli: { log() {} },
  };
  return new CvPreflight(serverless, { stage, region: 'eu-west-1', param: options.param ?? [] });
}

const templateWith = (body: string) =>
  JSON.stringify({ Resources: { TrustBundleObject: { Properties: { Body: body } } } });

async function cli(argv: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runCli([...argv, '--stage', STAGE], {
    env: { ...cloud.sdkEnv(), CV_STAGE: STAGE, XDG_STATE_HOME: dir },
    out: (l) => out.push(l),
    err: (l) => err.push(l),
    deps: awsDeps,
  });
  return { code, json: JSON.parse((code === 0 ? out[0] : err[0]) ?? '{}') as Record<string, unknown> };
}

beforeAll(async () => {
  for (const name of ['deployed', 'acme', 'bosch', 'unmanaged']) pems[name] = makeCa(name);
  const deployed = pems.deployed as string;
  cloud = await LocalCloud.start({
    region: 'eu-west-1',
    account: '123456789012',
    ssmParameters: { [PARAM]: deployed },
  });
  Object.assign(process.env, cloud.sdkEnv());
  await createTables(new DynamoDBClient(cloud.clientConfig()), {
    ecuRegistry: `cv-security-${STAGE}-ecu-registry`,
    vehicleAccess: `cv-security-${STAGE}-vehicle-access`,
    commands: `cv-security-${STAGE}-commands`,
    telemetry: `cv-security-${STAGE}-telemetry`,
    adminAudit: `cv-security-${STAGE}-admin-audit`,
    suppliers: `cv-security-${STAGE}-suppliers`,
  });
  cloud.s3.createBucket(BUCKET);
  const version = cloud.s3.putObject(BUCKET, KEY, Buffer.from(deployed), 'application/x-pem-file');
  cloud.apigateway.createDomainName(DOMAIN, { uri: `s3://${BUCKET}/${KEY}`, version });
  for (const name of ['acme', 'bosch']) writeFileSync(join(dir, `${name}.pem`), pems[name] as string);
});
afterAll(async () => {
  process.env = saved;
  await cloud?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe('serverless deploy keeps what cv-admin did to the trust bundle', () => {
  it('refuses the bundle from before an onboarding, naming the supplier; the exported bundle deploys', async () => {
    expect((await cli(['supplier', 'add', 'acme', join(dir, 'acme.pem')])).code).toBe(0);

    const stale = preflight().guardTrustBundle(templateWith(pems.deployed as string));
    await expect(stale).rejects.toThrow(/lacks 1 CA\(s\) onboarded with cv-admin[^\n]*acme/);
    await expect(stale).rejects.toThrow(/cv-admin supplier bundle --stage guard --out/);

    const exported = await cli(['supplier', 'bundle', '--out', join(dir, 'exported.pem')]);
    expect(exported).toMatchObject({
      code: 0,
      json: { certificates: 2, written: join(dir, 'exported.pem') },
    });
    const bundle = readFileSync(join(dir, 'exported.pem'), 'utf8');
    expect(bundle).toContain((pems.deployed as string).trim());
    expect(bundle).toContain((pems.acme as string).trim());
    await expect(preflight().guardTrustBundle(templateWith(bundle))).resolves.toBeUndefined();
  });

  it('refuses a bundle that still holds a retired CA; after the export it deploys without it', async () => {
    const before = readFileSync(join(dir, 'exported.pem'), 'utf8');
    expect((await cli(['supplier', 'retire', 'acme'])).code).toBe(0);

    await expect(preflight().guardTrustBundle(templateWith(before))).rejects.toThrow(
      /still holds 1 CA\(s\) retired with cv-admin[^\n]*acme[^\n]*trust them again/,
    );
    const exported = await cli(['supplier', 'bundle']);
    expect(exported.code).toBe(0);
    const bundle = exported.json.bundle as string;
    expect(bundle).not.toContain((pems.acme as string).trim());
    await expect(preflight().guardTrustBundle(templateWith(bundle))).resolves.toBeUndefined();
  });

  it('reports both at once: a file missing an onboarded CA and holding a retired one', async () => {
    expect((await cli(['supplier', 'add', 'bosch', join(dir, 'bosch.pem')])).code).toBe(0);
    const message = await preflight()
      .guardTrustBundle(templateWith(`${pems.deployed}${pems.acme}`))
      .then(
        () => '',
        (e: Error) => e.message,
      );
    expect(message).toMatch(/lacks 1 CA\(s\)[^\n]*bosch/);
    expect(message).toMatch(/still holds 1 CA\(s\)[^\n]*acme/);
  });

  it('leaves the CAs the table does not manage to the parameter: adding or dropping them deploys', async () => {
    const { bundle } = (await cli(['supplier', 'bundle'])).json as { bundle: string };
    await expect(
      preflight().guardTrustBundle(templateWith(`${bundle}${pems.unmanaged}`)),
    ).resolves.toBeUndefined();
    const withoutDeployed = bundle.replace((pems.deployed as string).trim(), '').trim();
    await expect(preflight().guardTrustBundle(templateWith(withoutDeployed))).resolves.toBeUndefined();
  });

  it('lets a first deployment through (no suppliers table yet) and refuses when the table cannot be read', async () => {
    await expect(
      preflight({ stage: 'fresh' }).guardTrustBundle(templateWith(pems.deployed as string)),
    ).resolves.toBeUndefined();
    await expect(
      preflight({ endpoint: 'http://127.0.0.1:9' }).guardTrustBundle(templateWith(pems.deployed as string)),
    ).rejects.toThrow(/cannot read the suppliers table cv-security-guard-suppliers/);
  });

  it('reads ssm: PEM references and the account with SDK v3 clients (osls 4 has no provider.request)', async () => {
    const names = [
      'attestationTrustBundle',
      'operationalCaCertificate',
      'operationalCaVerificationCertificate',
    ];
    const plugin = preflight({ param: names.map((n) => `${n}=ssm:${PARAM}`) });
    const { params, problems } = await plugin.resolvedParams();
    expect(problems).toEqual([]);
    for (const n of names) expect(params[n]).toContain('-----BEGIN CERTIFICATE-----');
    expect(await plugin.accountId()).toBe('123456789012');
  });
});

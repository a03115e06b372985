/**
 * `serverless deploy` refuses the committed CI fixture and example values (serverless/plugins/cv-preflight.cjs,
 * hook before:deploy:deploy), before any AWS call: run without credentials and without network, on the prod
 * package CI builds from the fixture (`pnpm run check-template` writes .serverless-ci-prod/).
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { opensslCa } from './support/openssl-ca.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const builtPackage = join(root, '.serverless-ci-prod');
const fixture = JSON.parse(readFileSync(join(root, 'test/fixtures/ci-prod/params.json'), 'utf8')) as Record<
  string,
  string
>;
let dir: string;
/** A copy of the service: `deploy --package` copies the package into the service's .serverless/, which
 * the template tests read, so the deployments run in a directory of their own. */
let service: string;

function deploy(params: Record<string, string>) {
  const args = [
    'deploy',
    '--stage',
    'prod',
    '--region',
    'eu-west-1',
    '--package',
    join(service, '.serverless-ci-prod'),
  ];
  for (const [k, v] of Object.entries(params)) if (!k.startsWith('_')) args.push(`--param=${k}=${v}`);
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    HOME: dir,
    SLS_TELEMETRY_DISABLED: '1',
    SLS_NOTIFICATIONS_MODE: 'off',
    AWS_EC2_METADATA_DISABLED: 'true',
    AWS_CONFIG_FILE: '/dev/null',
    AWS_SHARED_CREDENTIALS_FILE: '/dev/null',
  };
  const r = spawnSync(join(root, 'node_modules/.bin/serverless'), args, {
    cwd: service,
    env,
    encoding: 'utf8',
  });
  return { status: r.status, out: `${r.stdout}${r.stderr}` };
}

beforeAll(() => {
  if (!existsSync(join(builtPackage, 'cloudformation-template-update-stack.json'))) {
    throw new Error(
      `${builtPackage} is missing: run \`pnpm run check-template\` first (\`pnpm run check\` does)`,
    );
  }
  dir = mkdtempSync(join(tmpdir(), 'cv-deploy-guard-'));
  service = join(dir, 'service');
  mkdirSync(service);
  for (const f of ['serverless.yml', 'package.json', 'serverless']) {
    cpSync(join(root, f), join(service, f), { recursive: true });
  }
  cpSync(join(root, 'test/fixtures'), join(service, 'test/fixtures'), { recursive: true });
  cpSync(builtPackage, join(service, '.serverless-ci-prod'), { recursive: true });
  for (const f of ['node_modules', 'functions', 'packages', 'tsconfig.json', 'tsconfig.base.json']) {
    symlinkSync(join(root, f), join(service, f));
  }
  const openssl = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
  const ca = (name: string, cn: string) => opensslCa(dir, name, cn);
  ca('op', 'Acme operational CA');
  ca('att', 'Acme attestation CA');
  openssl(
    'req',
    '-newkey',
    'ec',
    '-pkeyopt',
    'ec_paramgen_curve:P-256',
    '-nodes',
    '-keyout',
    'v.key',
    '-subj',
    `/CN=${'b'.repeat(64)}`,
    '-out',
    'v.csr',
  );
  openssl(
    'x509',
    '-req',
    '-in',
    'v.csr',
    '-CA',
    'op.pem',
    '-CAkey',
    'op.key',
    '-CAcreateserial',
    '-days',
    '30',
    '-out',
    'v.pem',
  );
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('serverless deploy guard', () => {
  it("refuses the CI fixture's parameters, naming each one", () => {
    const r = deploy(fixture);
    expect(r.status).not.toBe(0);
    for (const param of [
      'pcaCaArn',
      'certBrokerDomainName',
      'operationalCaCertificate',
      'cognitoClientIds',
      'alertEmail',
    ]) {
      expect(r.out).toContain(`${param}: `);
    }
    expect(r.out).toContain("is the committed CI fixture's value");
  }, 120_000);

  it('refuses a packaged template that still carries the fixture, even with real-looking parameters', () => {
    const r = deploy({
      pcaCaArn:
        'arn:aws:acm-pca:eu-west-1:402938475610:certificate-authority/3c1e9a52-7d4b-4f60-9a8e-1b2c3d4e5f60',
      certBrokerDomainName: 'certs.fleet.acme-motors.net',
      certBrokerCertificateArn:
        'arn:aws:acm:eu-west-1:402938475610:certificate/8a7b6c5d-4e3f-4a1b-9c8d-7e6f5a4b3c2d',
      attestationTrustBundle: `file:${join(dir, 'att.pem')}`,
      operationalCaCertificate: `file:${join(dir, 'op.pem')}`,
      operationalCaVerificationCertificate: `file:${join(dir, 'v.pem')}`,
      cognitoUserPoolId: 'eu-west-1_Qw3rTy9Zx',
      cognitoClientIds: '4k2j8h6g5f3d1s9a7p0o2i4u6y',
      alertEmail: 'soc@acme-motors.net',
    });
    expect(r.status).not.toBe(0);
    expect(r.out).toContain('the template to deploy still carries example or CI-fixture values');
    expect(r.out).not.toContain('is not ready to deploy');
  }, 120_000);
});

/**
 * Stage parameters that cannot be mistyped (issue 14): serverless/plugins/preflight-checks.cjs with
 * certificates made here by openssl, and the committed CI fixture.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { opensslCa } from './support/openssl-ca.js';

const require = createRequire(import.meta.url);
const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const { preflightProblems } = require('../serverless/plugins/preflight-checks.cjs') as {
  preflightProblems: (
    params: Record<string, unknown>,
    context: { stage: string; region: string; allowCiFixture?: boolean; accountId?: string },
  ) => { param: string; problem: string; fix: string }[];
};
const { parsePemReference } = require('../serverless/plugins/cv-preflight.cjs') as {
  parsePemReference: (name: string, value: unknown) => { kind: string; target: string };
};

let dir: string;
const pem = (name: string) => readFileSync(join(dir, name), 'utf8');
const openssl = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
const REG_CODE = 'a'.repeat(64);

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'cv-preflight-'));
  const ca = (name: string, cn: string) => opensslCa(dir, name, cn);
  ca('op', 'Operational CA');
  ca('other', 'Someone else');
  ca('att', 'Manufacturer attestation CA');
  const leaf = (name: string, issuer: string, cn: string) => {
    openssl(
      'req',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:P-256',
      '-nodes',
      '-keyout',
      `${name}.key`,
      '-subj',
      `/CN=${cn}`,
      '-out',
      `${name}.csr`,
    );
    openssl(
      'x509',
      '-req',
      '-in',
      `${name}.csr`,
      '-CA',
      `${issuer}.pem`,
      '-CAkey',
      `${issuer}.key`,
      '-CAcreateserial',
      '-days',
      '30',
      '-out',
      `${name}.pem`,
    );
  };
  leaf('verification', 'op', REG_CODE);
  leaf('forged', 'other', REG_CODE);
  leaf('badcn', 'op', 'not-a-registration-code');
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const good = () => ({
  pcaCaArn:
    'arn:aws:acm-pca:eu-west-1:402938475610:certificate-authority/3c1e9a52-7d4b-4f60-9a8e-1b2c3d4e5f60',
  pcaTemplateArn: 'arn:aws:acm-pca:::template/EndEntityClientAuthCertificate_APIPassthrough/V1',
  pcaSigningAlgorithm: 'SHA256WITHECDSA',
  certValidityDays: 365,
  certBrokerDomainName: 'certs.fleet.acme-motors.net',
  certBrokerCertificateArn:
    'arn:aws:acm:eu-west-1:402938475610:certificate/8a7b6c5d-4e3f-4a1b-9c8d-7e6f5a4b3c2d',
  certBrokerRateLimit: 20,
  certBrokerBurstLimit: 40,
  attestationTrustBundle: pem('att.pem'),
  operationalCaCertificate: pem('op.pem'),
  operationalCaVerificationCertificate: pem('verification.pem'),
  ocspResponderUrl: 'http://ocsp.acm-pca.eu-west-1.amazonaws.com',
  ocspAllowedHosts: 'ocsp.acm-pca.eu-west-1.amazonaws.com',
  jitrRuleName: 'cv_security_prod_jitr',
  cognitoUserPoolId: 'eu-west-1_Qw3rTy9Zx',
  cognitoClientIds: '4k2j8h6g5f3d1s9a7p0o2i4u6y',
  commandScope: 'cv-security/commands',
  commandTtlSeconds: 120,
  attestationTrustBundleParam: '/cv-security/prod/attestation-trust-bundle',
  alertEmail: 'soc@acme-motors.net',
  logLevel: 'INFO',
  logRetentionInDays: 365,
  deletionProtection: true,
  retainPolicy: 'Retain',
  accountSettings: 'owned',
  iotLogLevel: 'ERROR',
  auditFrequency: 'DAILY',
  auditDayOfWeek: 'MON',
  auditDayOfMonth: '1',
  detectSecurityProfile: false,
  detectAuthzFailuresPer5Minutes: 20,
  userApiRateLimit: 50,
  userApiBurstLimit: 100,
  telemetryIngestReservedConcurrency: 50,
  jitrReservedConcurrency: 12,
});
const problemsWith = (change: Record<string, unknown>, context = {}) =>
  preflightProblems({ ...good(), ...change }, { stage: 'prod', region: 'eu-west-1', ...context }).map(
    (p) => `${p.param}: ${p.problem}`,
  );

describe('preflight checks', () => {
  it('accepts a complete, well-formed prod parameter set', () => {
    expect(problemsWith({})).toEqual([]);
  });

  it.each([
    [
      'pcaCaArn',
      'arn:aws:acm-pca:eu-west-1:123456789012:certificate-authority/3c1e9a52-7d4b-4f60-9a8e-1b2c3d4e5f60',
      'example account',
    ],
    [
      'pcaCaArn',
      'arn:aws:acm-pca:eu-west-1:111122223333:certificate-authority/3c1e9a52-7d4b-4f60-9a8e-1b2c3d4e5f60',
      'example account',
    ],
    [
      'pcaCaArn',
      'arn:aws:acm-pca:us-east-1:402938475610:certificate-authority/3c1e9a52-7d4b-4f60-9a8e-1b2c3d4e5f60',
      "not the stack's region",
    ],
    [
      'pcaCaArn',
      'arn:aws-cn:acm-pca:eu-west-1:402938475610:certificate-authority/3c1e9a52-7d4b-4f60-9a8e-1b2c3d4e5f60',
      'partition',
    ],
    [
      'pcaCaArn',
      'arn:aws:acm-pca:eu-west-1:402938475610:certificate-authority/00000000-0000-4000-8000-000000000001',
      'placeholder id',
    ],
    [
      'pcaCaArn',
      'arn:aws:acm:eu-west-1:402938475610:certificate/3c1e9a52-7d4b-4f60-9a8e-1b2c3d4e5f60',
      'not of the form',
    ],
    ['pcaTemplateArn', 'arn:aws:acm-pca:::template/EndEntityClientAuthCertificate/V1', 'not of the form'],
    ['certBrokerDomainName', 'certs.prod.cv.example.com', 'example domain'],
    ['certBrokerDomainName', 'certs internal', 'not a DNS name'],
    [
      'certBrokerCertificateArn',
      'arn:aws:acm:us-east-1:402938475610:certificate/8a7b6c5d-4e3f-4a1b-9c8d-7e6f5a4b3c2d',
      'region',
    ],
    ['cognitoUserPoolId', 'eu-west-1_Example01', 'placeholder'],
    ['cognitoUserPoolId', 'us-east-1_Qw3rTy9Zx', 'region'],
    ['cognitoClientIds', '1example23456789abcdefghij', 'placeholder'],
    ['cognitoClientIds', 'short', 'not a Cognito app client id'],
    ['alertEmail', 'security-alerts@example.com', 'example domain'],
    ['alertEmail', 'not an address', 'not an e-mail address'],
    ['ocspAllowedHosts', '127.0.0.1', 'not a DNS name'],
    ['ocspResponderUrl', 'http://ocsp.elsewhere.net', 'not in ocspAllowedHosts'],
    ['iotLogLevel', 'DISABLED', 'not one of'],
    ['auditFrequency', 'HOURLY', 'not one of'],
    ['retainPolicy', 'Delete', 'prod must retain'],
    ['pcaCaArn', '', 'is missing'],
    ['jitrReservedConcurrency', '0', 'not an integer from 1'],
    ['jitrReservedConcurrency', '12.5', 'not an integer from 1'],
    ['jitrReservedConcurrency', '', 'not an integer from 1'],
  ])('%s = %j -> refused (%s)', (param, value, problem) => {
    const problems = problemsWith({ [param]: value });
    expect(problems.some((p) => p.startsWith(`${param}:`) && p.includes(problem))).toBe(true);
  });

  it('refuses PEMs that are not what they claim: a leaf as CA, a private key, garbage, a verification certificate of another CA or without the registration code', () => {
    expect(problemsWith({ operationalCaCertificate: pem('verification.pem') })).toContain(
      'operationalCaCertificate: is not a CA certificate',
    );
    expect(problemsWith({ attestationTrustBundle: pem('att.pem') + pem('att.key') }).join('\n')).toMatch(
      /attestationTrustBundle: does not parse: holds a ".*PRIVATE KEY" block/,
    );
    expect(problemsWith({ operationalCaCertificate: '-----BEGIN CERTIFICATE-----' }).join('\n')).toContain(
      'operationalCaCertificate: does not parse',
    );
    expect(problemsWith({ operationalCaVerificationCertificate: pem('forged.pem') })).toContain(
      'operationalCaVerificationCertificate: is not signed by operationalCaCertificate',
    );
    expect(problemsWith({ operationalCaVerificationCertificate: pem('badcn.pem') }).join('\n')).toContain(
      'its CN is not an AWS IoT registration code',
    );
    expect(
      problemsWith({ attestationTrustBundle: pem('att.pem') + pem('verification.pem') }).join('\n'),
    ).toContain('is not a CA certificate');
  });

  it('with the target account known, refuses ARNs of another account', () => {
    expect(problemsWith({}, { accountId: '402938475610' })).toEqual([]);
    const problems = problemsWith({}, { accountId: '918273645501' });
    expect(problems).toContain(
      'pcaCaArn: account 402938475610 is not the account being deployed to (918273645501)',
    );
    expect(problems).toContain(
      'certBrokerCertificateArn: account 402938475610 is not the account being deployed to (918273645501)',
    );
  });

  it('refuses a trust bundle too large for its SSM parameter', () => {
    const big = pem('att.pem').repeat(Math.ceil(9000 / pem('att.pem').length));
    expect(problemsWith({ attestationTrustBundle: big }).join('\n')).toMatch(
      /more than an SSM parameter's 8192/,
    );
  });

  it('refuses the committed example certificates by fingerprint', () => {
    const example = readFileSync(join(root, 'serverless/certs/operational-ca.example.pem'), 'utf8');
    const { createHash, X509Certificate } = require('node:crypto') as typeof import('node:crypto');
    const print = createHash('sha256').update(new X509Certificate(example).raw).digest('hex');
    const problems = preflightProblems({ ...good(), operationalCaCertificate: example }, {
      stage: 'prod',
      region: 'eu-west-1',
      exampleFingerprints: new Set([print]),
    } as never).map((p) => `${p.param}: ${p.problem}`);
    expect(problems.join('\n')).toContain(
      'operationalCaCertificate: holds the throwaway example certificate',
    );
  });

  it('accepts the CI fixture only when packaging (allowCiFixture), never for a deployment', () => {
    const fixture = JSON.parse(
      readFileSync(join(root, 'test/fixtures/ci-prod/params.json'), 'utf8'),
    ) as Record<string, string>;
    const params: Record<string, unknown> = { ...good() };
    for (const [k, v] of Object.entries(fixture)) {
      if (k.startsWith('_')) continue;
      params[k] = v.startsWith('file:') ? readFileSync(join(root, v.slice(5)), 'utf8') : v;
    }
    const packaging = preflightProblems(params, { stage: 'prod', region: 'eu-west-1', allowCiFixture: true });
    expect(packaging).toEqual([]);
    const deploying = preflightProblems(params, { stage: 'prod', region: 'eu-west-1' }).map((p) => p.param);
    for (const name of [
      'pcaCaArn',
      'certBrokerDomainName',
      'certBrokerCertificateArn',
      'cognitoUserPoolId',
      'cognitoClientIds',
      'alertEmail',
      'operationalCaCertificate',
      'attestationTrustBundle',
    ]) {
      expect(deploying, name).toContain(name);
    }
  });
});

describe('PEM parameters are references', () => {
  it('takes file: and ssm: references', () => {
    expect(parsePemReference('x', 'file:ca.pem')).toEqual({ kind: 'file', target: 'ca.pem' });
    expect(parsePemReference('x', 'ssm:/cv/prod/ca')).toEqual({ kind: 'ssm', target: '/cv/prod/ca' });
  });

  it('refuses PEM text (what a multi-line --param is cut to) and anything else, saying how to pass it', () => {
    expect(() => parsePemReference('operationalCaCertificate', '-----BEGIN CERTIFICATE-----')).toThrow(
      /cut to its first line.*file:<path>/,
    );
    expect(() => parsePemReference('operationalCaCertificate', 'MIIB...')).toThrow(/file:<path> or ssm:/);
    expect(() => parsePemReference('operationalCaCertificate', undefined)).toThrow(/file:<path> or ssm:/);
  });
});

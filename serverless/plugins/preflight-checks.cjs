'use strict';

/**
 * The checks `pnpm run preflight -- --stage <stage>` runs on a stage's parameters, and that packaging
 * any stage other than dev and local runs too (cv-preflight.cjs). Pure: takes the resolved parameter
 * values (PEM references already read) and returns one problem per wrong or missing value, each with
 * how to fix it. No AWS call: what can only be checked against the account is in docs/operations.md.
 */
const { X509Certificate, createHash } = require('node:crypto');

/** Account ids of the AWS documentation and of our own placeholders: never a real deployment's. */
const EXAMPLE_ACCOUNTS = new Set([
  '123456789012',
  '111122223333',
  '444455556666',
  '123412341234',
  '210987654321',
]);
/** The committed CI fixture (test/fixtures/ci-prod): accepted when packaging, refused for a deployment. */
const CI_FIXTURE_ACCOUNT = '731948205216';
const CI_FIXTURE_MARKER = /ci[- ]?fixture/i;
const EXAMPLE_MARKER = /(^|[^a-z])(example|placeholder|changeme|todo|dummy)([^a-z]|$)|example[0-9]/i;
const EXAMPLE_DOMAIN = /(^|\.)(example\.(com|net|org)|example|test|invalid|localhost|local)$/i;

const PARTITION_OF_REGION = (region) =>
  region.startsWith('cn-') ? 'aws-cn' : region.startsWith('us-gov-') ? 'aws-us-gov' : 'aws';
const LOG_RETENTION_DAYS = new Set([
  1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653,
]);
const PCA_SIGNING_ALGORITHMS = new Set([
  'SHA256WITHECDSA',
  'SHA384WITHECDSA',
  'SHA512WITHECDSA',
  'SHA256WITHRSA',
  'SHA384WITHRSA',
  'SHA512WITHRSA',
]);
const LOG_LEVELS = new Set(['TRACE', 'DEBUG', 'INFO', 'WARN', 'ERROR', 'CRITICAL']);
const IOT_LOG_LEVELS = new Set(['ERROR', 'WARN', 'INFO', 'DEBUG']);
const AUDIT_FREQUENCIES = new Set(['DAILY', 'WEEKLY', 'BIWEEKLY', 'MONTHLY']);
const DAYS_OF_WEEK = new Set(['SUN', 'MON', 'TUE', 'WED', 'THU', 'FRI', 'SAT']);
const HOSTNAME = /^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/i;

/** The certificates of a PEM bundle; anything else in it (a private key above all) is an error. */
function parsePemBundle(text) {
  const blocks = String(text).match(/-----BEGIN ([A-Z0-9 ]+)-----[\s\S]*?-----END \1-----/g) ?? [];
  const certificates = [];
  for (const block of blocks) {
    if (!block.startsWith('-----BEGIN CERTIFICATE-----')) {
      throw new Error(
        `holds a "${/-----BEGIN ([A-Z0-9 ]+)-----/.exec(block)?.[1]}" block: only certificates belong here`,
      );
    }
    certificates.push(new X509Certificate(block));
  }
  if (certificates.length === 0) throw new Error('holds no PEM certificate');
  const rest = String(text)
    .replace(/-----BEGIN ([A-Z0-9 ]+)-----[\s\S]*?-----END \1-----/g, '')
    .trim();
  if (rest.length > 0) throw new Error('holds text outside its PEM blocks');
  return certificates;
}

/** SHA-256 fingerprints of the certificates in a PEM text (for the example and fixture lists). */
function fingerprints(text) {
  try {
    return parsePemBundle(text).map((c) => createHash('sha256').update(c.raw).digest('hex'));
  } catch {
    return [];
  }
}

/**
 * Problems with a stage's parameters.
 *
 * @param {Record<string, unknown>} params resolved parameter values (PEMs as text)
 * @param {{ stage: string, region: string, accountId?: string, now?: Date, allowCiFixture?: boolean,
 *   exampleFingerprints?: Set<string>, fixtureFingerprints?: Set<string> }} context
 * @returns {{ param: string, problem: string, fix: string }[]}
 * @example
 * const problems = preflightProblems(params, { stage: 'prod', region: 'eu-west-1' });
 * if (problems.length > 0) throw new Error(formatProblems(problems));
 */
function preflightProblems(params, context) {
  const { region, stage } = context;
  const now = context.now ?? new Date();
  const partition = PARTITION_OF_REGION(region);
  const problems = [];
  const add = (param, problem, fix) => problems.push({ param, problem, fix });
  const value = (name) => {
    const v = params[name];
    return v === undefined || v === null ? '' : String(v).trim();
  };
  const fixture = (name, v) => {
    if (context.allowCiFixture) return false;
    add(name, `"${v}" is the committed CI fixture's value`, 'set the real value for this stage');
    return true;
  };
  const noExample = (name, v, fix) => {
    if (CI_FIXTURE_MARKER.test(v)) return !fixture(name, v);
    if (EXAMPLE_MARKER.test(v)) {
      add(name, `"${v}" is a placeholder or example value`, fix);
      return false;
    }
    return true;
  };
  const required = (name, fix) => {
    const v = value(name);
    if (v === '') add(name, 'is missing', fix);
    return v;
  };
  const account = (name, id, fix) => {
    if (EXAMPLE_ACCOUNTS.has(id) || /^(\d)\1{11}$/.test(id)) {
      add(name, `account ${id} is an example account id`, fix);
    } else if (id === CI_FIXTURE_ACCOUNT) fixture(name, id);
    else if (context.accountId && id !== context.accountId) {
      add(name, `account ${id} is not the account being deployed to (${context.accountId})`, fix);
    }
  };
  const arn = (name, pattern, fix, { sameRegion = true } = {}) => {
    const v = required(name, fix);
    if (v === '') return;
    const m = pattern.exec(v);
    if (!m?.groups) {
      add(name, `"${v}" is not of the form ${pattern.source.replace(/\(\?<\w+>/g, '(')}`, fix);
      return;
    }
    if (m.groups.partition !== partition) {
      add(name, `partition ${m.groups.partition} does not match region ${region} (${partition})`, fix);
    }
    if (sameRegion && m.groups.region !== undefined && m.groups.region !== region) {
      add(name, `region ${m.groups.region} is not the stack's region ${region}`, fix);
    }
    if (m.groups.account) account(name, m.groups.account, fix);
    if (m.groups.uuid && /^0{8}-0{4}-/.test(m.groups.uuid)) add(name, `"${v}" is a placeholder id`, fix);
    noExample(name, v, fix);
  };
  const integer = (name, min, max) => {
    const v = value(name);
    if (!/^\d+$/.test(v) || Number(v) < min || Number(v) > max) {
      add(
        name,
        `"${v}" is not an integer from ${min} to ${max}`,
        `set ${name} to an integer from ${min} to ${max}`,
      );
    }
  };
  const oneOf = (name, allowed) => {
    const v = value(name);
    if (!allowed.has(v))
      add(name, `"${v}" is not one of ${[...allowed].join(', ')}`, `set ${name} to one of them`);
  };
  const pem = (name, fix, check) => {
    const v = required(name, fix);
    if (v === '') return;
    let certificates;
    try {
      certificates = parsePemBundle(v);
    } catch (error) {
      add(name, `does not parse: ${error.message}`, fix);
      return;
    }
    for (const c of certificates) {
      const print = createHash('sha256').update(c.raw).digest('hex');
      if (context.exampleFingerprints?.has(print)) {
        add(name, `holds the throwaway example certificate "${c.subject.replace(/\n/g, ', ')}"`, fix);
      } else if (context.fixtureFingerprints?.has(print) || CI_FIXTURE_MARKER.test(c.subject)) {
        fixture(name, c.subject.replace(/\n/g, ', '));
      }
      if (new Date(c.validTo) <= now) add(name, `certificate "${c.subject}" expired on ${c.validTo}`, fix);
      if (new Date(c.validFrom) > now)
        add(name, `certificate "${c.subject}" is not valid before ${c.validFrom}`, fix);
    }
    check?.(certificates, v);
  };

  const pcaFix =
    'create the Private CA first (docs/operations.md, "First deployment", step 2) and pass its ARN: --param "pcaCaArn=arn:..."';
  arn(
    'pcaCaArn',
    /^arn:(?<partition>aws(-cn|-us-gov)?):acm-pca:(?<region>[a-z0-9-]+):(?<account>\d{12}):certificate-authority\/(?<uuid>[0-9a-f-]{36})$/,
    pcaFix,
  );
  const templateFix =
    'use an APIPassthrough end-entity template, e.g. arn:aws:acm-pca:::template/EndEntityClientAuthCertificate_APIPassthrough/V1';
  arn(
    'pcaTemplateArn',
    /^arn:(?<partition>aws(-cn|-us-gov)?):acm-pca:::template\/(?<name>[A-Za-z0-9_]+_APIPassthrough)\/V\d+$/,
    templateFix,
  );
  oneOf('pcaSigningAlgorithm', PCA_SIGNING_ALGORITHMS);
  integer('certValidityDays', 1, 3650);

  const domainFix =
    'a DNS name you control, with a regional ACM certificate for it (docs/operations.md, step 3): --param "certBrokerDomainName=certs.<your domain>"';
  const domain = required('certBrokerDomainName', domainFix);
  if (domain !== '') {
    if (!HOSTNAME.test(domain)) add('certBrokerDomainName', `"${domain}" is not a DNS name`, domainFix);
    else if (EXAMPLE_DOMAIN.test(domain))
      add('certBrokerDomainName', `"${domain}" is a reserved example domain`, domainFix);
    else noExample('certBrokerDomainName', domain, domainFix);
  }
  arn(
    'certBrokerCertificateArn',
    /^arn:(?<partition>aws(-cn|-us-gov)?):acm:(?<region>[a-z0-9-]+):(?<account>\d{12}):certificate\/(?<uuid>[0-9a-f-]{36})$/,
    "request a regional ACM certificate for certBrokerDomainName in the stack's region (docs/operations.md, step 3)",
  );
  integer('certBrokerRateLimit', 1, 10000);
  integer('certBrokerBurstLimit', 1, 5000);

  const trustFix =
    'the PEM bundle of the ECU manufacturers\' attestation CAs: --param "attestationTrustBundle=file:<path>" or "ssm:<parameter name>"';
  pem('attestationTrustBundle', trustFix, (certificates, text) => {
    // The SSM parameter holds it (Intelligent-Tiering: up to 8 KiB, the advanced tier's limit).
    if (Buffer.byteLength(text, 'utf8') > 8192) {
      add(
        'attestationTrustBundle',
        `is ${Buffer.byteLength(text, 'utf8')} bytes, more than an SSM parameter's 8192`,
        trustFix,
      );
    }
    for (const c of certificates) {
      if (!c.ca) add('attestationTrustBundle', `"${c.subject}" is not a CA certificate`, trustFix);
    }
  });

  const caFix =
    'the Private CA\'s certificate: aws acm-pca get-certificate-authority-certificate ... > ca.pem, then --param "operationalCaCertificate=file:ca.pem" (docs/operations.md, step 4)';
  let operationalCa;
  pem('operationalCaCertificate', caFix, (certificates) => {
    if (certificates.length !== 1)
      add('operationalCaCertificate', `holds ${certificates.length} certificates, not 1`, caFix);
    operationalCa = certificates[0];
    if (operationalCa && !operationalCa.ca) add('operationalCaCertificate', 'is not a CA certificate', caFix);
  });
  const verificationFix =
    'a certificate issued by the operational CA whose CN is `aws iot get-registration-code` (docs/operations.md, step 4)';
  pem('operationalCaVerificationCertificate', verificationFix, (certificates) => {
    const [c] = certificates;
    if (certificates.length !== 1 || !c) {
      add(
        'operationalCaVerificationCertificate',
        `holds ${certificates.length} certificates, not 1`,
        verificationFix,
      );
      return;
    }
    if (c.ca)
      add(
        'operationalCaVerificationCertificate',
        'is a CA certificate, not a verification certificate',
        verificationFix,
      );
    if (!/^CN=[0-9a-f]{64}$/m.test(c.subject)) {
      add(
        'operationalCaVerificationCertificate',
        `its CN is not an AWS IoT registration code (64 hex digits): "${c.subject}"`,
        verificationFix,
      );
    }
    if (operationalCa && !(c.checkIssued(operationalCa) && c.verify(operationalCa.publicKey))) {
      add(
        'operationalCaVerificationCertificate',
        'is not signed by operationalCaCertificate',
        verificationFix,
      );
    }
  });

  const hostsFix = 'comma-separated OCSP responder host names, e.g. ocsp.acm-pca.<region>.amazonaws.com';
  const hosts = required('ocspAllowedHosts', hostsFix)
    .split(',')
    .map((h) => h.trim())
    .filter(Boolean);
  for (const host of hosts) {
    if (!HOSTNAME.test(host))
      add(
        'ocspAllowedHosts',
        `"${host}" is not a DNS name (loopback and IP addresses are for stage local)`,
        hostsFix,
      );
  }
  const ocspUrl = required('ocspResponderUrl', hostsFix);
  if (ocspUrl !== '') {
    let url;
    try {
      url = new URL(ocspUrl);
    } catch {
      add('ocspResponderUrl', `"${ocspUrl}" is not a URL`, hostsFix);
    }
    if (url && !hosts.includes(url.hostname))
      add('ocspResponderUrl', `host ${url.hostname} is not in ocspAllowedHosts`, hostsFix);
  }
  const rule = value('jitrRuleName');
  if (!/^[A-Za-z0-9_]{1,128}$/.test(rule))
    add('jitrRuleName', `"${rule}" has characters IoT rule names do not allow`, 'use [A-Za-z0-9_] only');

  const cognitoFix =
    'the vehicle owners\' Cognito user pool in the stack\'s region (docs/operations.md, step 5): --param "cognitoUserPoolId=<region>_<id>"';
  const pool = required('cognitoUserPoolId', cognitoFix);
  if (pool !== '') {
    const m = /^(?<region>[a-z]{2}(-gov)?-[a-z]+-\d)_(?<id>[A-Za-z0-9]{1,55})$/.exec(pool);
    if (!m?.groups) add('cognitoUserPoolId', `"${pool}" is not a user pool id (<region>_<id>)`, cognitoFix);
    else {
      if (m.groups.region !== region)
        add('cognitoUserPoolId', `region ${m.groups.region} is not the stack's region ${region}`, cognitoFix);
      if (/^local/i.test(m.groups.id))
        add('cognitoUserPoolId', `"${pool}" is the local cloud's pool`, cognitoFix);
      else noExample('cognitoUserPoolId', pool, cognitoFix);
    }
  }
  const clientFix = 'comma-separated app client ids of that pool (26 lower-case letters and digits each)';
  for (const id of required('cognitoClientIds', clientFix)
    .split(',')
    .filter((s) => s.trim() !== '')) {
    if (!/^[a-z0-9]{26}$/.test(id.trim()))
      add('cognitoClientIds', `"${id}" is not a Cognito app client id`, clientFix);
    else if (/^local/.test(id.trim()))
      add('cognitoClientIds', `"${id}" is the local cloud's client`, clientFix);
    else noExample('cognitoClientIds', id.trim(), clientFix);
  }
  const scope = value('commandScope');
  if (!/^[\x21\x23-\x5B\x5D-\x7E]{1,256}$/.test(scope))
    add('commandScope', `"${scope}" is not an OAuth scope`, 'e.g. cv-security/commands');
  integer('commandTtlSeconds', 10, 900);
  const paramName = value('attestationTrustBundleParam');
  if (!/^\/[A-Za-z0-9_.\-/]{1,1010}$/.test(paramName)) {
    add(
      'attestationTrustBundleParam',
      `"${paramName}" is not an SSM parameter name`,
      'e.g. /cv-security/<stage>/attestation-trust-bundle',
    );
  }

  const emailFix = 'a monitored mailbox of the security team: --param "alertEmail=<address>"';
  const email = required('alertEmail', emailFix);
  if (email !== '') {
    const m = /^[A-Za-z0-9._%+-]{1,64}@(?<domain>[A-Za-z0-9.-]{1,253})$/.exec(email);
    if (!m?.groups || !HOSTNAME.test(m.groups.domain))
      add('alertEmail', `"${email}" is not an e-mail address`, emailFix);
    else if (EXAMPLE_DOMAIN.test(m.groups.domain))
      add('alertEmail', `"${email}" is at a reserved example domain`, emailFix);
    else noExample('alertEmail', email, emailFix);
  }

  oneOf('logLevel', LOG_LEVELS);
  const retention = Number(value('logRetentionInDays'));
  if (!LOG_RETENTION_DAYS.has(retention)) {
    add(
      'logRetentionInDays',
      `"${value('logRetentionInDays')}" is not a CloudWatch Logs retention`,
      'e.g. 365',
    );
  }
  oneOf('deletionProtection', new Set(['true', 'false']));
  oneOf('retainPolicy', new Set(['Retain', 'Delete']));
  if (stage === 'prod' && (value('retainPolicy') !== 'Retain' || value('deletionProtection') !== 'true')) {
    add(
      'retainPolicy',
      'prod must retain its tables, keys and dead-letter queues',
      'keep retainPolicy Retain and deletionProtection true',
    );
  }
  oneOf('accountSettings', new Set(['owned', 'shared']));
  oneOf('iotLogLevel', IOT_LOG_LEVELS);
  oneOf('auditFrequency', AUDIT_FREQUENCIES);
  oneOf('auditDayOfWeek', DAYS_OF_WEEK);
  if (!/^([1-9]|1\d|2[0-8]|UNSET_VALUE)$/.test(value('auditDayOfMonth'))) {
    add('auditDayOfMonth', `"${value('auditDayOfMonth')}" is not a day from 1 to 28`, 'e.g. 1');
  }
  oneOf('detectSecurityProfile', new Set(['true', 'false']));
  integer('detectAuthzFailuresPer5Minutes', 1, 100000);
  integer('userApiRateLimit', 1, 10000);
  integer('userApiBurstLimit', 1, 5000);
  integer('telemetryIngestReservedConcurrency', 1, 10000);
  integer('jitrReservedConcurrency', 1, 1000);
  return problems;
}

/** One line per problem: what is wrong and how to fix it. */
function formatProblems(problems) {
  return problems.map((p) => `  - ${p.param}: ${p.problem}\n      fix: ${p.fix}`).join('\n');
}

module.exports = {
  preflightProblems,
  formatProblems,
  parsePemBundle,
  fingerprints,
  CI_FIXTURE_ACCOUNT,
  CI_FIXTURE_MARKER,
  EXAMPLE_ACCOUNTS,
};

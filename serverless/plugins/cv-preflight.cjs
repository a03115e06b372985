'use strict';

const fs = require('node:fs');
const path = require('node:path');
const {
  preflightProblems,
  formatProblems,
  fingerprints,
  CI_FIXTURE_ACCOUNT,
} = require('./preflight-checks.cjs');
const { trustBundleDrift, supplierCas } = require('./trust-bundle-drift.cjs');

/**
 * The AWS calls the checks make, as AWS SDK v3 commands (osls 4 removed `provider.request()`; the clients take
 * `provider.getAwsSdkV3Config()`: the deploying credentials, region and profile).
 */
const AWS_CLIENTS = {
  DynamoDB: () => require('@aws-sdk/client-dynamodb'),
  SSM: () => require('@aws-sdk/client-ssm'),
  STS: () => require('@aws-sdk/client-sts'),
};

/** Stages whose packaging stays offline with the committed placeholders (`pnpm run package`, what CI builds). */
const LENIENT_STAGES = new Set(['dev', 'local']);
/** PEM parameters: `file:<path>` (relative to the service directory) or `ssm:<parameter name>`. */
const PEM_PARAMS = [
  'attestationTrustBundle',
  'operationalCaCertificate',
  'operationalCaVerificationCertificate',
];
const EXAMPLE_PEMS = [
  'serverless/certs/operational-ca.example.pem',
  'serverless/certs/operational-ca-verification.example.pem',
  'serverless/certs/attestation-cas.example.pem',
];
const FIXTURE_PEMS = [
  'test/fixtures/ci-prod/ci-operational-ca.pem',
  'test/fixtures/ci-prod/ci-operational-ca-verification.pem',
  'test/fixtures/ci-prod/ci-attestation-cas.pem',
];

/** A PEM reference's kind and target; a PEM squeezed into `--param` is refused with the way to pass it. */
function parsePemReference(name, reference) {
  const text = String(reference ?? '').trim();
  if (text.startsWith('-----BEGIN') || text.includes('CERTIFICATE-----')) {
    throw new Error(
      `param ${name} holds PEM text: a multi-line --param is cut to its first line. Pass --param "${name}=file:<path>" or "${name}=ssm:<parameter name>"`,
    );
  }
  const m = /^(file|ssm):(.+)$/.exec(text);
  if (!m) throw new Error(`param ${name} must be file:<path> or ssm:<parameter name>, got "${text}"`);
  return { kind: m[1], target: m[2].trim() };
}

/**
 * Stage parameters that cannot be mistyped:
 * - `${cvPem:<param>}` reads a PEM parameter from the file or SSM parameter it references;
 * - `serverless preflight --stage <stage>` (`pnpm run preflight -- --stage <stage>`) checks every
 *   parameter (preflight-checks.cjs) and says what is wrong and how to fix it;
 * - packaging a stage other than dev and local runs the same checks (the committed CI fixture's
 *   values are accepted there, since a package reaches no account);
 * - `serverless deploy` of any stage but local runs them with the fixture refused, and refuses a
 *   template that still carries an example or fixture value, or a trust bundle that would undo what
 *   `cv-admin supplier add|retire` did (trust-bundle-drift.cjs; preflight checks it too when it has
 *   credentials).
 */
class CvPreflight {
  constructor(serverless, options) {
    this.serverless = serverless;
    this.options = options ?? {};
    this.commands = {
      preflight: {
        usage: 'Checks the stage parameters before a deployment (placeholders, shapes, PEMs)',
        lifecycleEvents: ['check'],
      },
    };
    this.hooks = {
      'preflight:check': () => this.check({ allowCiFixture: false, announce: true, withAccount: true }),
      'before:package:initialize': () =>
        LENIENT_STAGES.has(this.stage()) ? undefined : this.check({ allowCiFixture: true }),
      'before:deploy:deploy': () => this.guardDeploy(),
    };
    this.configurationVariablesSources = {
      cvPem: {
        resolve: async ({ address, resolveVariable }) => {
          const ref = parsePemReference(address, await resolveVariable(`param:${address}`));
          if (ref.kind === 'ssm') return { value: await resolveVariable(`ssm:${ref.target}`) };
          return { value: this.readFile(ref.target) };
        },
      },
    };
  }

  stage() {
    return this.options.stage ?? this.serverless.service.provider.stage ?? 'dev';
  }

  region() {
    return this.options.region ?? this.serverless.service.provider.region ?? 'eu-west-1';
  }

  /** Sends `<operation>Command` of a service with the deploying credentials; clients are made once. */
  async aws(service, operation, input) {
    this.clients ??= new Map();
    if (!this.clients.has(service)) {
      const sdk = AWS_CLIENTS[service]();
      const config = await this.serverless.getProvider('aws').getAwsSdkV3Config();
      this.clients.set(service, { sdk, client: new sdk[`${service}Client`](config) });
    }
    const { sdk, client } = this.clients.get(service);
    return client.send(new sdk[`${operation}Command`](input));
  }

  readFile(relative) {
    return fs.readFileSync(path.resolve(this.serverless.serviceDir, relative), 'utf8');
  }

  /** The stage's parameter values as the framework merges them: --param, then params.<stage>, then params.default. */
  params() {
    const config = this.serverless.configurationInput?.params ?? {};
    const merged = { ...(config.default ?? {}), ...(config[this.stage()] ?? {}) };
    for (const item of [].concat(this.options.param ?? [])) {
      const at = String(item).indexOf('=');
      if (at > 0)
        merged[String(item).slice(0, at)] = String(item)
          .slice(at + 1)
          .trimEnd();
    }
    return merged;
  }

  async resolvedParams() {
    const params = this.params();
    const problems = [];
    for (const name of PEM_PARAMS) {
      try {
        const ref = parsePemReference(name, params[name]);
        if (ref.kind === 'file') params[name] = this.readFile(ref.target);
        else {
          const response = await this.aws('SSM', 'GetParameter', { Name: ref.target, WithDecryption: true });
          params[name] = response?.Parameter?.Value ?? '';
        }
      } catch (error) {
        problems.push({ param: name, problem: error.message, fix: 'file:<path> or ssm:<parameter name>' });
        params[name] = '';
      }
    }
    return { params, problems };
  }

  knownPrints(files) {
    return new Set(
      files.flatMap((f) =>
        fs.existsSync(path.join(this.serverless.serviceDir, f)) ? fingerprints(this.readFile(f)) : [],
      ),
    );
  }

  /** The account the credentials belong to, when there are credentials (never for offline packaging). */
  async accountId() {
    try {
      const identity = await this.aws('STS', 'GetCallerIdentity', {});
      return identity?.Account;
    } catch {
      return undefined;
    }
  }

  async check({ allowCiFixture, announce = false, withAccount = false }) {
    const { params, problems: refProblems } = await this.resolvedParams();
    const accountId = withAccount ? await this.accountId() : undefined;
    const problems = [
      ...refProblems,
      ...preflightProblems(params, {
        stage: this.stage(),
        region: this.region(),
        allowCiFixture,
        accountId,
        exampleFingerprints: this.knownPrints(EXAMPLE_PEMS),
        fixtureFingerprints: this.knownPrints(FIXTURE_PEMS),
      }),
    ].filter((p, i, all) => !(p.problem === 'is missing' && all.findIndex((q) => q.param === p.param) !== i));
    if (announce && accountId && problems.length === 0) {
      problems.push(...(await this.trustBundleProblems(params.attestationTrustBundle)));
    }
    if (problems.length > 0) {
      throw new this.serverless.classes.Error(
        `preflight: stage ${this.stage()} (${this.region()}) is not ready to deploy, ${problems.length} problem(s):\n${formatProblems(problems)}\nSee docs/operations.md, "First deployment".`,
      );
    }
    if (announce) {
      this.serverless.cli.log(
        `preflight: stage ${this.stage()} (${this.region()}): every parameter checked, none wrong` +
          (accountId
            ? `; ARNs are in account ${accountId}`
            : '; no AWS credentials, so ARN accounts were not compared with the target account'),
      );
    }
  }

  /** Deployments: the strict checks, and no example or CI-fixture value left in the template to deploy. */
  async guardDeploy() {
    if (this.stage() === 'local') return;
    await this.check({ allowCiFixture: false, withAccount: true });
    // `deploy --package <dir>` deploys the template in that directory, whatever the params say now.
    const packaged = this.options.package
      ? path.resolve(
          this.serverless.serviceDir,
          this.options.package,
          'cloudformation-template-update-stack.json',
        )
      : undefined;
    const template =
      packaged && fs.existsSync(packaged)
        ? fs.readFileSync(packaged, 'utf8')
        : JSON.stringify(this.serverless.service.provider.compiledCloudFormationTemplate ?? {});
    const markers = [
      CI_FIXTURE_ACCOUNT,
      '123456789012',
      ...[...EXAMPLE_PEMS, ...FIXTURE_PEMS]
        .filter((f) => fs.existsSync(path.join(this.serverless.serviceDir, f)))
        .map((f) => this.readFile(f).split('\n')[1]),
    ].filter(Boolean);
    const found = markers.filter((m) => template.includes(m));
    if (found.length > 0) {
      throw new this.serverless.classes.Error(
        `preflight: the template to deploy still carries example or CI-fixture values (${found.map((m) => m.slice(0, 16)).join(', ')}); package it again with this stage's parameters`,
      );
    }
    await this.guardTrustBundle(template);
  }

  /** Refuses a template whose trust bundle would undo cv-admin's supplier changes (trust-bundle-drift.cjs). */
  async guardTrustBundle(templateText) {
    let body;
    try {
      body = JSON.parse(templateText)?.Resources?.TrustBundleObject?.Properties?.Body;
    } catch {
      body = undefined;
    }
    if (typeof body !== 'string') return;
    const problems = await this.trustBundleProblems(body);
    if (problems.length > 0) {
      throw new this.serverless.classes.Error(
        `preflight: stage ${this.stage()} (${this.region()}): the trust bundle to deploy would undo cv-admin's supplier changes:\n${formatProblems(problems)}\nSee docs/operations.md, "Suppliers".`,
      );
    }
  }

  /**
   * The suppliers table read with the deploying credentials (every page), compared with the bundle. A table
   * that does not exist yet (a first deployment) manages nothing; any other failure to read it refuses, since
   * the deployment could then undo a supplier change unseen.
   */
  async trustBundleProblems(bundleText) {
    const table =
      this.serverless.service.custom?.names?.suppliersTable ?? `cv-security-${this.stage()}-suppliers`;
    const items = [];
    let start;
    try {
      do {
        const page = await this.aws('DynamoDB', 'Scan', {
          TableName: table,
          ProjectionExpression: 'supplierId, caKeySha256, #s',
          ExpressionAttributeNames: { '#s': 'status' },
          ConsistentRead: true,
          ...(start ? { ExclusiveStartKey: start } : {}),
        });
        items.push(...(page?.Items ?? []));
        start = page?.LastEvaluatedKey;
      } while (start);
    } catch (error) {
      const code = error?.code ?? error?.name ?? 'Error';
      if (error?.name === 'ResourceNotFoundException') return [];
      return [
        {
          param: 'attestationTrustBundle',
          problem: `cannot read the suppliers table ${table} (${code}) to check that this deployment keeps the CAs cv-admin onboarded and retired`,
          fix: `deploy with credentials that may dynamodb:Scan ${table}`,
        },
      ];
    }
    try {
      return trustBundleDrift(bundleText, supplierCas(items), { stage: this.stage() });
    } catch (error) {
      return [
        { param: 'attestationTrustBundle', problem: error.message, fix: 'a PEM bundle of CA certificates' },
      ];
    }
  }
}

module.exports = CvPreflight;
module.exports.parsePemReference = parsePemReference;

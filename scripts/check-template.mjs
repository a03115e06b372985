#!/usr/bin/env node
/**
 * Third-party checks of the packaged CloudFormation template (issue 14), offline:
 * - AWS's CloudFormation validator (@aws/cloudformation-validate, the cfn-lint rules): 0 errors;
 * - cdk-nag's AwsSolutions, Serverless and NIST 800-53 rev 5 packs: every finding fixed or
 *   acknowledged with a one-line reason in serverless/template-checks/nag-suppressions.json.
 *
 *   node scripts/check-template.mjs --stage dev    the template `pnpm run package` wrote (.serverless/)
 *   node scripts/check-template.mjs --stage prod   packages prod with the CI fixture (test/fixtures/ci-prod)
 *                                                  into .serverless-ci-prod/ first
 *   --counts-only                                  print the counts, never fail (for before/after figures)
 *   --template <path> --no-acknowledgements        check another template / count every cdk-nag finding
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { RegoEngine, TemplateFile } from '@aws/cloudformation-validate';
import { App, Stack, Validations } from 'aws-cdk-lib';
import { CfnInclude } from 'aws-cdk-lib/cloudformation-include';
import { AwsSolutionsChecks, NIST80053R5Checks, ServerlessChecks } from 'cdk-nag';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const stage = args[args.indexOf('--stage') + 1] ?? 'dev';
const countsOnly = args.includes('--counts-only');
const templateArg = args.includes('--template') ? args[args.indexOf('--template') + 1] : undefined;
const withAcknowledgements = !args.includes('--no-acknowledgements');
const region = 'eu-west-1';

function packageProdWithFixture() {
  const fixture = JSON.parse(readFileSync(join(root, 'test/fixtures/ci-prod/params.json'), 'utf8'));
  const params = Object.entries(fixture)
    .filter(([k]) => !k.startsWith('_'))
    .flatMap(([k, v]) => ['--param', `${k}=${v}`]);
  const out = '.serverless-ci-prod';
  const result = spawnSync(
    join(root, 'node_modules', '.bin', 'serverless'),
    ['package', '--stage', stage, '--region', region, '--package', out, ...params],
    {
      cwd: root,
      stdio: ['ignore', 'inherit', 'inherit'],
      env: {
        ...process.env,
        SLS_TELEMETRY_DISABLED: '1',
        SLS_NOTIFICATIONS_MODE: 'off',
        AWS_EC2_METADATA_DISABLED: 'true',
      },
    },
  );
  if (result.status !== 0) throw new Error(`serverless package --stage ${stage} failed`);
  return join(root, out, 'cloudformation-template-update-stack.json');
}

/** @aws/cloudformation-validate: counts by severity, and the errors. */
function validate(path) {
  const engine = new RegoEngine();
  try {
    const report = engine.validateStandard(new TemplateFile(path), { pseudoParameterOverrides: { region } });
    const counts = { ERROR: 0, WARN: 0, INFO: 0 };
    for (const d of report.diagnostics) {
      const s = d.severity === 'FATAL' ? 'ERROR' : d.severity;
      counts[s] = (counts[s] ?? 0) + 1;
    }
    const errors = report.diagnostics.filter((d) => d.severity === 'ERROR' || d.severity === 'FATAL');
    return { status: report.status, counts, errors };
  } finally {
    engine.free();
  }
}

/** cdk-nag through CfnInclude; returns unacknowledged findings and the acknowledgement count. */
function nag(path) {
  const template = JSON.parse(readFileSync(path, 'utf8'));
  const suppressions = withAcknowledgements
    ? JSON.parse(readFileSync(join(root, 'serverless/template-checks/nag-suppressions.json'), 'utf8'))
    : { acknowledgements: [] };
  const outdir = mkdtempSync(join(tmpdir(), 'cv-nag-'));
  const file = join(outdir, 'template.json');
  writeFileSync(file, JSON.stringify(template));
  const app = new App({ outdir: join(outdir, 'cdk.out'), builtinCloudFormationValidation: false });
  const stack = new Stack(app, 'cv');
  new CfnInclude(stack, 'T', { templateFile: file });
  for (const a of suppressions.acknowledgements) {
    if (typeof a.reason !== 'string' || a.reason.trim().length < 10 || a.reason.includes('\n')) {
      throw new Error(`suppression ${a.id}: a one-line reason is required`);
    }
  }
  Validations.of(app).addPlugins(
    new AwsSolutionsChecks(app),
    new ServerlessChecks(app),
    new NIST80053R5Checks(app),
  );
  let report;
  // The CDK prints its own report of the same findings; ours follows in one line per finding.
  const [log, logError] = [console.log, console.error];
  console.log = console.error = () => {};
  // synth throws when a plugin reports findings (the message differs with NODE_ENV); the report file is
  // what counts, and a failure that left no report is rethrown.
  let synthError;
  try {
    app.synth();
  } catch (thrown) {
    synthError = thrown;
  } finally {
    [console.log, console.error] = [log, logError];
  }
  const reportFile = join(outdir, 'cdk.out', 'validation-report.json');
  if (existsSync(reportFile)) report = JSON.parse(readFileSync(reportFile, 'utf8'));
  else if (synthError) throw synthError;
  else report = { pluginReports: [] };
  rmSync(outdir, { recursive: true, force: true });
  // A finding is acknowledged by an entry with its rule id (granular ids `Rule[...]` included) whose
  // resources are "*" or name the finding's logical id.
  const findings = [];
  let acknowledged = 0;
  const used = new Set();
  for (const plugin of report.pluginReports) {
    for (const v of plugin.violations) {
      for (const c of v.violatingConstructs) {
        const id = c.constructPath.replace(/^cv\/T\//, '');
        const entry = suppressions.acknowledgements.find(
          (a) =>
            (v.ruleName === a.id || v.ruleName.startsWith(`${a.id}[`)) &&
            (a.resources === '*' || a.resources.includes(id)),
        );
        if (entry) {
          acknowledged += 1;
          used.add(entry);
        } else findings.push(`${v.ruleName} ${id}`);
      }
    }
  }
  const unused = suppressions.acknowledgements.filter((a) => !used.has(a)).map((a) => a.id);
  return { findings, acknowledged, unused };
}

const started = Date.now();
const path =
  templateArg ??
  (stage === 'dev'
    ? join(root, '.serverless', 'cloudformation-template-update-stack.json')
    : packageProdWithFixture());
const v = validate(path);
let n;
try {
  n = nag(path);
} catch (error) {
  // CfnInclude refuses templates the CDK cannot model (e.g. a missing required property).
  n = {
    findings: [`(not run: the CDK could not load the template: ${String(error.message).slice(0, 600)})`],
    acknowledged: 0,
    unused: [],
  };
}
const label = templateArg ? 'template' : stage;
console.log(
  `template checks (${label}): cloudformation-validate ${v.status} errors ${v.counts.ERROR}, warnings ${v.counts.WARN}, info ${v.counts.INFO}; ` +
    `cdk-nag unacknowledged findings ${n.findings.length}, acknowledged ${n.acknowledged}; ${Date.now() - started} ms`,
);
for (const e of v.errors)
  console.log(`  validate ${e.ruleId} ${e.entity?.logicalId ?? ''} ${e.propertyPath ?? ''}: ${e.message}`);
for (const f of n.findings) console.log(`  cdk-nag ${f}`);
if (n.unused.length > 0 && !templateArg) {
  console.log(`  suppressions that matched no resource of this template: ${n.unused.join(', ')}`);
}
if (!countsOnly && (v.counts.ERROR > 0 || v.status === 'ERROR' || n.findings.length > 0)) process.exit(1);

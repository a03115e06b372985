#!/usr/bin/env node
// `pnpm run remediate [-- <finding event>]`: runs a Security Hub finding through the remediation
// state machine's steps locally, in order, each with `serverless invoke local --stage local`
// against the running local cloud: classify, then every action of its plan (the `next` step of
// each output), then closeFinding, as serverless/stepfunctions.yml does (Retry/Catch aside).
// Default event: .local-cloud/events/remediation-steps/finding-imported.json (`pnpm run events`).
// Each step's input and output are kept in .local-cloud/remediation/. See README.md.
import { execFile } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const args = process.argv.slice(2).filter((a) => a !== '--');
if (args.includes('--help') || args.includes('-h')) {
  console.log(`usage: pnpm run remediate [-- <finding event.json>]
Runs the finding through remediationClassify and each step its plan names, then closeFinding,
with \`serverless invoke local --stage local\` against the running local cloud (pnpm run local-cloud).
Default event: .local-cloud/events/remediation-steps/finding-imported.json (written by pnpm run events).`);
  process.exit(0);
}
const statePath = process.env.CV_LOCAL_CLOUD_STATE ?? join(root, '.local-cloud/state.json');
const eventsDir = join(dirname(statePath), 'events');
const event = resolve(args[0] ?? join(eventsDir, 'remediation-steps/finding-imported.json'));
const workDir = join(dirname(statePath), 'remediation');
mkdirSync(workDir, { recursive: true });

/** The state machine's Task states (serverless/stepfunctions.yml) and their functions. */
const STEPS = {
  quarantine: 'remediationQuarantine',
  deactivateCertificate: 'remediationDeactivateCertificate',
  revokeCertificate: 'remediationRevokeCertificate',
  rotateCertificate: 'remediationRotateCertificate',
  fixPolicy: 'remediationFixPolicy',
  notify: 'remediationNotify',
  openTicket: 'remediationOpenTicket',
  closeFinding: 'remediationCloseFinding',
};

function invoke(fn, input) {
  const env = {
    ...process.env,
    SLS_TELEMETRY_DISABLED: '1',
    SLS_NOTIFICATIONS_MODE: 'off',
    AWS_EC2_METADATA_DISABLED: 'true',
  };
  const cli = join(root, 'node_modules/osls/bin/serverless.js');
  return new Promise((done) => {
    execFile(
      process.execPath,
      [cli, 'invoke', 'local', '--stage', 'local', '-f', fn, '-p', input],
      { cwd: root, env, maxBuffer: 16 * 1024 * 1024 },
      (error, stdout, stderr) => {
        const lines = stdout.split('\n');
        const start = lines.lastIndexOf('{');
        let result;
        try {
          result = start === -1 ? undefined : JSON.parse(lines.slice(start).join('\n'));
        } catch {
          result = undefined;
        }
        done({ ok: error === null, result, stdout, stderr });
      },
    );
  });
}

function fail(step, run) {
  console.error(`${step} failed:\n${run.stdout}${run.stderr}`);
  process.exit(1);
}

console.log(`finding event: ${relative(process.cwd(), event)}`);
let input = event;
let run = await invoke('remediationClassify', input);
if (!run.ok || run.result === undefined) fail('classify', run);
let state = run.result;
writeFileSync(join(workDir, '0-classify.json'), `${JSON.stringify(state, null, 2)}\n`);
if (state.skipped === true) {
  console.log('classify: skipped (suppressed, archived or already handled finding, or an audit summary)');
  process.exit(0);
}
console.log(`classify: plan ${state.plan.actions.join(', ')} for ${state.plan.findingId ?? 'the finding'}`);
for (let n = 1; n <= 12; n++) {
  const step = state.next;
  const fn = STEPS[step];
  if (fn === undefined) {
    console.error(
      `the plan names ${JSON.stringify(step)}, which the state machine does not know (UnknownAction)`,
    );
    process.exit(1);
  }
  input = join(workDir, `${n}-${step}.input.json`);
  writeFileSync(input, `${JSON.stringify(state, null, 2)}\n`);
  run = await invoke(fn, input);
  if (!run.ok) fail(step, run);
  state = run.result;
  writeFileSync(join(workDir, `${n}-${step}.json`), `${JSON.stringify(state, null, 2)}\n`);
  if (step === 'closeFinding') {
    // The state machine's Remediated state: the finding's workflow as closeFinding set it in Security Hub.
    console.log(`closeFinding: workflow ${state.closed?.status ?? 'unknown'} (${state.closed?.note ?? ''})`);
    process.exit(state.closed?.status === undefined ? 1 : 0);
  }
  const last = Array.isArray(state.results) ? state.results.at(-1) : undefined;
  console.log(`${step}: ${last === undefined ? 'done' : JSON.stringify(last)}`);
}
console.error('more than 12 steps: stopped');
process.exit(1);

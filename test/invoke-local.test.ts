/**
 * SPEC section 1 (README "Invoke a function locally"): every sample event under events/ runs
 * through the real CLI, `serverless invoke local --stage local -f <fn> -p <event>` (the
 * workspace's osls, serverless-esbuild bundling the function each time), against the seeded
 * local cloud that `pnpm run local-cloud` serves (started here as a child process on an
 * ephemeral loopback port, with its own state file). The CLI gets no credentials but the
 * local stage's dummy ones. The outcome printed for each event is checked against the table
 * below; where it differs from test/sample-events.test.ts (which mocks AWS and freezes the
 * clock), the row says why.
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SAMPLE_FINDING_PLANS } from './support/remediation-plans.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const EVENTS = join(ROOT, 'events');
const OSLS = join(ROOT, 'node_modules', 'osls', 'bin', 'serverless.js');

const dirs = (path: string) =>
  readdirSync(path, { withFileTypes: true })
    .filter((d) => d.isDirectory())
    .map((d) => d.name)
    .sort();
const eventFiles = (fn: string) =>
  readdirSync(join(EVENTS, fn))
    .filter((f) => f.endsWith('.json'))
    .sort();

/** What `invoke local` prints for an event (its last pretty-printed JSON block, if any). */
type Expected =
  | { kind: 'http'; status: number; code?: string }
  | { kind: 'error'; type: string; message: RegExp }
  | { kind: 'returns'; value: unknown }
  | { kind: 'plan'; actions: string[]; skipped?: boolean }
  | { kind: 'dropped'; reason: string; count: number; value: unknown };

/** The function (serverless/functions/*.yml) each sample event is for. */
const FUNCTION_OF: Record<string, (file: string) => string> = {
  'admin-api': () => 'adminApi',
  'authz-detector': () => 'authzDetector',
  'cert-broker': () => 'certBroker',
  'command-authorizer': () => 'commandAuthorizer',
  'command-sender': () => 'commandSender',
  'jitr-handler': () => 'jitrHandler',
  'remediation-steps': () => 'remediationClassify',
  'telemetry-ingest': (file) => (file.startsWith('sqs-') ? 'telemetryIngestBatch' : 'telemetryIngest'),
};

const EXPECTED: Record<string, Record<string, Expected>> = {
  'admin-api': {
    'get-vehicle-access.json': { kind: 'http', status: 200 },
    'put-driver-without-expiry.json': { kind: 'http', status: 400, code: 'invalid_input' },
  },
  'authz-detector': {
    // Its 4 failures (of 8 log lines) stored once each in the local DynamoDB; below the threshold (20): no finding, no output.
    'authorization-failures.json': { kind: 'returns', value: undefined },
  },
  'cert-broker': {
    // The sample attestation's signedAt is fixed (2026-11-25T09:30:00Z) and only valid for 5
    // minutes; in-process the clock is frozen at it (201), the CLI runs at the real time.
    'post-certificates-attestation.json': { kind: 'http', status: 403, code: 'attestation_not_trusted' },
    // Issued by the local Private CA for the seeded registry row.
    'post-certificates-mtls.json': { kind: 'http', status: 201 },
  },
  'command-authorizer': {
    // A placeholder token (no valid signature): API Gateway's 401.
    'request.json': { kind: 'error', type: 'Error', message: /^Unauthorized$/ },
  },
  'command-sender': {
    'get-command.json': { kind: 'http', status: 404, code: 'command_not_found' },
    // Signed and encrypted with the local KMS keys, stored, published to the local IoT data plane.
    'post-command.json': { kind: 'http', status: 202 },
  },
  'jitr-handler': {
    // Registered under a CA other than the local operational CA: not ours to activate.
    'certificate-registered.json': {
      kind: 'returns',
      value: expect.objectContaining({ outcome: 'skipped' }),
    },
  },
  'remediation-steps': {
    ...SAMPLE_FINDING_PLANS,
    'malformed-certificate-id.json': {
      kind: 'error',
      type: 'MalformedFindingError',
      message: /^Malformed finding/,
    },
    'malformed-no-resources.json': {
      kind: 'error',
      type: 'MalformedFindingError',
      message: /^Malformed finding/,
    },
  },
  'telemetry-ingest': {
    // The committed envelopes' data keys are wrapped under the key id "sample", not the local
    // TelemetryKey: dropped as wrong-key (permanent, no retry), as in-process.
    'iot-command-result.json': { kind: 'dropped', reason: 'wrong-key', count: 1, value: undefined },
    'iot-telemetry.json': { kind: 'dropped', reason: 'wrong-key', count: 1, value: undefined },
    'sqs-batch.json': { kind: 'dropped', reason: 'wrong-key', count: 2, value: { batchItemFailures: [] } },
  },
};

// ---------------------------------------------------------------------------------------
// The local cloud, as `pnpm run local-cloud` serves it.

let cloud: ChildProcess | undefined;
let stateDir: string;
let statePath: string;
let cloudOutput = '';

function stopCloud(): Promise<void> {
  const child = cloud;
  cloud = undefined;
  if (child?.pid === undefined || child.exitCode !== null || child.signalCode !== null)
    return Promise.resolve();
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  try {
    // The whole group: scripts/local-cloud.mjs runs the bundled server as its own child.
    process.kill(-child.pid, 'SIGTERM');
  } catch {
    return Promise.resolve();
  }
  return exited;
}

beforeAll(async () => {
  stateDir = mkdtempSync(join(tmpdir(), 'cv-invoke-local-'));
  statePath = join(stateDir, 'state.json');
  const child = spawn(
    process.execPath,
    [join(ROOT, 'scripts', 'local-cloud.mjs'), '--port', '0', '--state', statePath],
    { cwd: ROOT, detached: true, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  cloud = child;
  await new Promise<void>((resolve, reject) => {
    const onData = (chunk: Buffer) => {
      cloudOutput += chunk.toString();
      if (/local cloud on http:\/\/127\.0\.0\.1:\d+/.test(cloudOutput)) resolve();
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.once('error', reject);
    child.once('exit', (code) =>
      reject(new Error(`local cloud exited (${code}) before serving:\n${cloudOutput}`)),
    );
  });
}, 120_000);

afterAll(async () => {
  await stopCloud();
  if (stateDir) rmSync(stateDir, { recursive: true, force: true });
});

// ---------------------------------------------------------------------------------------
// The CLI.

interface Invocation {
  code: number | null;
  stdout: string;
  stderr: string;
  /** The printed result (the CLI prints nothing for `undefined`). */
  result: unknown;
  /** The function's structured log lines (stdout and stderr). */
  logs: Record<string, unknown>[];
}

function invokeLocal(fn: string, eventPath: string): Promise<Invocation> {
  // No credentials or AWS settings from the caller's environment: only the local stage's.
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? '',
    HOME: process.env.HOME ?? stateDir,
    SLS_TELEMETRY_DISABLED: '1',
    SLS_NOTIFICATIONS_MODE: 'off',
    AWS_EC2_METADATA_DISABLED: 'true',
    CV_LOCAL_CLOUD_STATE: statePath,
  };
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [OSLS, 'invoke', 'local', '--stage', 'local', '-f', fn, '-p', eventPath],
      { cwd: ROOT, env, maxBuffer: 16 * 1024 * 1024, timeout: 90_000 },
      (error, stdout, stderr) => {
        const lines = stdout.split('\n');
        // Log lines are one-line JSON; the result is pretty-printed, starting with a lone `{`.
        const start = lines.lastIndexOf('{');
        const result = start === -1 ? undefined : (JSON.parse(lines.slice(start).join('\n')) as unknown);
        // INFO goes to stdout, WARN and ERROR to stderr.
        const logs = [...lines.slice(0, start === -1 ? undefined : start), ...stderr.split('\n')]
          .filter((l) => l.startsWith('{"'))
          .map((l) => JSON.parse(l) as Record<string, unknown>);
        const code = error === null ? 0 : typeof error.code === 'number' ? error.code : null;
        resolve({ code, stdout, stderr, result, logs });
      },
    );
  });
}

function assess(run: Invocation, expected: Expected): void {
  const where = `stdout:\n${run.stdout}\nstderr:\n${run.stderr}`;
  switch (expected.kind) {
    case 'http': {
      expect(run.code, where).toBe(0);
      const response = run.result as { statusCode: number; body: string };
      expect(response.statusCode, where).toBe(expected.status);
      if (expected.code !== undefined) {
        expect((JSON.parse(response.body) as { error?: string }).error).toBe(expected.code);
      }
      return;
    }
    case 'error': {
      expect(run.code, where).toBe(1);
      const error = run.result as { errorType: string; errorMessage: string };
      expect(error.errorType, where).toBe(expected.type);
      expect(error.errorMessage, where).toMatch(expected.message);
      return;
    }
    case 'returns':
      expect(run.code, where).toBe(0);
      expect(run.result, where).toEqual(expected.value);
      return;
    case 'plan': {
      expect(run.code, where).toBe(0);
      const state = run.result as { plan: { actions: string[] }; skipped?: boolean };
      expect(state.plan.actions, where).toEqual(expected.actions);
      expect(state.skipped ?? false, where).toBe(expected.skipped ?? false);
      return;
    }
    case 'dropped': {
      expect(run.code, where).toBe(0);
      expect(run.result, where).toEqual(expected.value);
      const drops = run.logs.filter((l) => l.message === 'message dropped');
      expect(
        drops.map((l) => l.reason),
        where,
      ).toEqual(Array(expected.count).fill(expected.reason));
      return;
    }
  }
}

describe('serverless invoke local --stage local', () => {
  it('has an expected outcome for every sample event, and an event for every expectation', () => {
    expect(Object.keys(EXPECTED).sort()).toEqual(dirs(EVENTS));
    for (const fn of dirs(EVENTS)) {
      expect(Object.keys(EXPECTED[fn] ?? {}).sort(), fn).toEqual(eventFiles(fn));
      expect(FUNCTION_OF[fn], fn).toBeDefined();
    }
  });

  it('serves the local cloud and writes its state where the plugin reads it', () => {
    const state = JSON.parse(readFileSync(statePath, 'utf8')) as {
      endpoint: string;
      env: Record<string, string>;
    };
    expect(state.endpoint).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(state.env.AWS_ENDPOINT_URL).toBe(state.endpoint);
  });

  const cases = Object.entries(EXPECTED).flatMap(([dir, rows]) =>
    Object.entries(rows).map(([file, expected]) => ({ name: `${dir}/${file}`, dir, file, expected })),
  );
  it.each(cases)('$name', { timeout: 120_000 }, async ({ dir, file, expected }) => {
    const fn = FUNCTION_OF[dir]?.(file) ?? '';
    const run = await invokeLocal(fn, join('events', dir, file));
    assess(run, expected);
    // Every invocation ran against the local cloud, with the local stage's names.
    expect(run.stdout).not.toMatch(/amazonaws\.com|Could not load credentials|ECONNREFUSED/);
  });

  it('ran every invocation with its own role under IAM enforcement, and none was denied', () => {
    const state = JSON.parse(readFileSync(statePath, 'utf8')) as {
      functionAccessKeys?: Record<string, string>;
    };
    expect(Object.keys(state.functionAccessKeys ?? {})).toEqual(
      expect.arrayContaining([...new Set(Object.values(FUNCTION_OF).map((f) => f('x.json')))]),
    );
    expect(cloudOutput).not.toMatch(/IAM denied/);
  });
});

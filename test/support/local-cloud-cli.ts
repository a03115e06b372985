/**
 * The local cloud as `pnpm run local-cloud` serves it (a child process on an ephemeral loopback
 * port, with its own state file and fresh events beside it), and the real CLI,
 * `serverless invoke local --stage local`, run against it; used by test/invoke-local.test.ts.
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DynamoDBClient, ScanCommand } from '@aws-sdk/client-dynamodb';
import { expect } from 'vitest';

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const OSLS = join(ROOT, 'node_modules', 'osls', 'bin', 'serverless.js');

export interface RunningCloud {
  readonly stateDir: string;
  readonly statePath: string;
  /** Where the local cloud wrote its fresh events (`<state dir>/events`). */
  readonly eventsDir: string;
  readonly state: { endpoint: string; env: Record<string, string>; resolve: Record<string, string> };
  output(): string;
  stop(): Promise<void>;
}

export async function startLocalCloud(): Promise<RunningCloud> {
  const stateDir = mkdtempSync(join(tmpdir(), 'cv-invoke-local-'));
  const statePath = join(stateDir, 'state.json');
  const child: ChildProcess = spawn(
    process.execPath,
    [join(ROOT, 'scripts', 'local-cloud.mjs'), '--port', '0', '--state', statePath],
    { cwd: ROOT, detached: true, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let output = '';
  await new Promise<void>((resolve, reject) => {
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      if (/fresh events in /.test(output)) resolve();
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.once('error', reject);
    child.once('exit', (code) =>
      reject(new Error(`local cloud exited (${code}) before serving:\n${output}`)),
    );
  });
  const stop = (): Promise<void> => {
    if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) {
      rmSync(stateDir, { recursive: true, force: true });
      return Promise.resolve();
    }
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    // The whole group: scripts/local-cloud.mjs runs the bundled server as its own child.
    process.kill(-child.pid, 'SIGTERM');
    return exited.then(() => rmSync(stateDir, { recursive: true, force: true }));
  };
  return {
    stateDir,
    statePath,
    eventsDir: join(stateDir, 'events'),
    state: JSON.parse(readFileSync(statePath, 'utf8')) as RunningCloud['state'],
    output: () => output,
    stop,
  };
}

export interface Invocation {
  code: number | null;
  stdout: string;
  stderr: string;
  /** The printed result (the CLI prints nothing for `undefined`). */
  result: unknown;
  /** The function's structured log lines (stdout and stderr). */
  logs: Record<string, unknown>[];
}

/** The environment of a new user's shell: no AWS credentials or settings, only the local stage's. */
export function cliEnv(statePath: string, home: string): Record<string, string> {
  return {
    PATH: process.env.PATH ?? '',
    HOME: process.env.HOME ?? home,
    SLS_TELEMETRY_DISABLED: '1',
    SLS_NOTIFICATIONS_MODE: 'off',
    AWS_EC2_METADATA_DISABLED: 'true',
    CV_LOCAL_CLOUD_STATE: statePath,
  };
}

/** Runs a node script of the repository (the CLI, scripts/*.mjs) and collects what it printed. */
export function runNode(
  args: string[],
  env: Record<string, string>,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      args,
      { cwd: ROOT, env, maxBuffer: 16 * 1024 * 1024, timeout: 240_000 },
      (error, stdout, stderr) => {
        const code = error === null ? 0 : typeof error.code === 'number' ? error.code : null;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

export async function invokeLocal(cloud: RunningCloud, fn: string, eventPath: string): Promise<Invocation> {
  const run = await runNode(
    [OSLS, 'invoke', 'local', '--stage', 'local', '-f', fn, '-p', eventPath],
    cliEnv(cloud.statePath, cloud.stateDir),
  );
  const lines = run.stdout.split('\n');
  // Log lines are one-line JSON; the result is pretty-printed, starting with a lone `{`.
  const start = lines.lastIndexOf('{');
  const result = start === -1 ? undefined : (JSON.parse(lines.slice(start).join('\n')) as unknown);
  // INFO goes to stdout, WARN and ERROR to stderr.
  const logs = [...lines.slice(0, start === -1 ? undefined : start), ...run.stderr.split('\n')]
    .filter((l) => l.startsWith('{"'))
    .map((l) => JSON.parse(l) as Record<string, unknown>);
  return { ...run, result, logs };
}

/** What `invoke local` prints for an event. */
export type Expected =
  | { kind: 'http'; status: number; code?: string }
  | { kind: 'error'; type: string; message: RegExp }
  | { kind: 'denied'; message: string }
  | { kind: 'returns'; value: unknown }
  | { kind: 'plan'; actions: string[]; skipped?: boolean }
  | { kind: 'dropped'; reason: string; count: number; value: unknown }
  | { kind: 'stored'; count: number; value: unknown };

export function assess(run: Invocation, expected: Expected): void {
  const where = `stdout:\n${run.stdout}\nstderr:\n${run.stderr}`;
  // Every invocation ran against the local cloud, with the local stage's names.
  expect(run.stdout + run.stderr, where).not.toMatch(
    /amazonaws\.com|Could not load credentials|ECONNREFUSED/,
  );
  switch (expected.kind) {
    case 'http': {
      expect(run.code, where).toBe(0);
      const response = run.result as { statusCode: number; body: string };
      expect(response.statusCode, where).toBe(expected.status);
      if (expected.code !== undefined) {
        expect((JSON.parse(response.body) as { error?: string }).error, where).toBe(expected.code);
      }
      return;
    }
    case 'error': {
      expect(run.code, where).toBe(1);
      const error = run.result as { errorType: string; errorMessage: string; stackTrace: string[] };
      expect(error.errorType, where).toBe(expected.type);
      expect(error.errorMessage, where).toMatch(expected.message);
      return;
    }
    case 'denied': {
      // An expected denial prints as that outcome: no stack frames, no ERROR log line.
      expect(run.code, where).toBe(1);
      const error = run.result as { errorType: string; errorMessage: string; stackTrace: string[] };
      expect(error.errorMessage, where).toBe(expected.message);
      expect(error.stackTrace, where).toEqual([expect.stringMatching(/^expected denial: /)]);
      expect(run.stdout + run.stderr, where).not.toMatch(/\n\s+at |"level":"ERROR"/);
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
    case 'dropped':
    case 'stored': {
      expect(run.code, where).toBe(0);
      expect(run.result, where).toEqual(expected.value);
      const lines = run.logs.filter(
        (l) => l.message === 'message dropped' || l.message === 'message ingested',
      );
      const want = expected.kind === 'dropped' ? `dropped:${expected.reason}` : 'stored';
      expect(
        lines.map((l) =>
          l.message === 'message dropped' ? `dropped:${String(l.reason)}` : String(l.result),
        ),
        where,
      ).toEqual(Array(expected.count).fill(want));
      return;
    }
  }
}

/** Counts of what the functions can change in the local cloud (no payloads). */
export type Counts = Record<string, number>;

export async function observe(cloud: RunningCloud): Promise<Counts> {
  const response = await fetch(`${cloud.state.endpoint}/__local/observed`);
  const o = (await response.json()) as {
    published: string[];
    pcaIssued: number;
    certificates: Record<string, number>;
    findings: number;
    snsMessages: number;
    opsItems: number;
  };
  const ddb = new DynamoDBClient({
    endpoint: cloud.state.endpoint,
    region: cloud.state.env.AWS_REGION ?? 'eu-west-1',
    credentials: {
      accessKeyId: cloud.state.env.AWS_ACCESS_KEY_ID ?? '',
      secretAccessKey: cloud.state.env.AWS_SECRET_ACCESS_KEY ?? '',
    },
  });
  const rows = async (table: string) =>
    (await ddb.send(new ScanCommand({ TableName: table, Select: 'COUNT' }))).Count ?? 0;
  const counts: Counts = {
    published: o.published.length,
    pcaIssued: o.pcaIssued,
    active: o.certificates.ACTIVE ?? 0,
    pending: o.certificates.PENDING_ACTIVATION ?? 0,
    inactive: o.certificates.INACTIVE ?? 0,
    findings: o.findings,
    snsMessages: o.snsMessages,
    opsItems: o.opsItems,
    commandRows: await rows(cloud.state.resolve['Ref:CommandsTable'] ?? ''),
    telemetryRows: await rows(cloud.state.resolve['Ref:TelemetryTable'] ?? ''),
    registryRows: await rows(cloud.state.resolve['Ref:EcuRegistryTable'] ?? ''),
    provenanceRows: await rows('cv-security-local-finding-provenance'),
  };
  ddb.destroy();
  return counts;
}

/** The counters that moved between two observations. */
export function changes(before: Counts, after: Counts): Counts {
  const moved: Counts = {};
  for (const [k, v] of Object.entries(after)) if (v !== before[k]) moved[k] = v - (before[k] ?? 0);
  return moved;
}

/**
 * README "Invoke a function locally": events run through the real CLI, `serverless invoke local
 * --stage local -f <fn> -p <event>` (the workspace's osls, serverless-esbuild bundling the
 * function each time), against one local cloud as `pnpm run local-cloud` serves it (started
 * once here on an ephemeral loopback port, with its own state file). The CLI gets no
 * credentials but the local stage's dummy ones.
 * - The committed samples under events/ (documentation of the wire shapes) whose outcome the
 *   fresh events do not already show (all of them run in-process in test/sample-events.test.ts).
 * - The fresh events the local cloud writes (`pnpm run events`, demo/fleet/src/local-events.ts):
 *   every function succeeds, every documented denial is answered as designed, and each declares
 *   exactly what it changed in the local cloud (a denial: nothing stored, issued or published).
 * - `pnpm run remediate`: a finding through the state machine's steps, ending RESOLVED.
 * - Friction: a stopped local cloud with a stale state file, stack traces, the events script.
 */
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DynamoDBClient, GetItemCommand } from '@aws-sdk/client-dynamodb';
import { IoTClient, ListThingsInThingGroupCommand } from '@aws-sdk/client-iot';
import { GetFindingsCommand, SecurityHubClient } from '@aws-sdk/client-securityhub';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AUTHZ_PLAN, FRESH } from './support/fresh-events.js';
import {
  assess,
  changes,
  cliEnv,
  type Expected,
  invokeLocal,
  observe,
  ROOT,
  type RunningCloud,
  runNode,
  startLocalCloud,
} from './support/local-cloud-cli.js';
import { SAMPLE_FINDING_PLANS } from './support/remediation-plans.js';

const EVENTS = join(ROOT, 'events');
const pick = <T>(rows: Readonly<Record<string, T>>, keys: string[]): Record<string, T> =>
  Object.fromEntries(keys.map((k) => [k, rows[k] as T]));

const dirs = (path: string) =>
  readdirSync(path, { withFileTypes: true })
    .filter((d) => d.isDirectory())
    .map((d) => d.name)
    .sort();
const eventFiles = (path: string) =>
  readdirSync(path)
    .filter((f) => f.endsWith('.json'))
    .sort();

/** The function (serverless/functions/*.yml) each sample event is for. */
const FUNCTION_OF: Record<string, (file: string) => string> = {
  'admin-api': () => 'adminApi',
  'authz-detector': () => 'authzDetector',
  'behaviour-detector': (file) => (file.startsWith('presence') ? 'behaviourPresence' : 'behaviourCounters'),
  'cert-broker': () => 'certBroker',
  'command-authorizer': () => 'commandAuthorizer',
  'command-sender': () => 'commandSender',
  'jitr-handler': () => 'jitrHandler',
  'remediation-steps': () => 'remediationClassify',
  'telemetry-ingest': (file) => (file.startsWith('sqs-') ? 'telemetryIngestBatch' : 'telemetryIngest'),
};

/**
 * The committed samples whose outcome the fresh events do not show already: what each prints
 * against the local cloud. Every committed sample runs in-process in test/sample-events.test.ts;
 * docs/local-cloud.md lists what each of them prints here.
 */
const EXPECTED: Record<string, Record<string, Expected>> = {
  'admin-api': {
    'get-vehicle-access.json': { kind: 'http', status: 200 },
    'put-driver-without-expiry.json': { kind: 'http', status: 400, code: 'invalid_input' },
  },
  'authz-detector': {
    // Its 4 failures (of 8 log lines) stored once each in the local DynamoDB; below the threshold (20): no finding, no output.
    'authorization-failures.json': { kind: 'returns', value: undefined },
  },
  'behaviour-detector': {
    // Counted in the local behaviour table; no rule reached, no finding, no output.
    'presence-connected.json': { kind: 'returns', value: undefined },
    'counters-stream.json': { kind: 'returns', value: { batchItemFailures: [] } },
  },
  'command-sender': {
    // The sample's command id is not stored: no oracle, 404.
    'get-command.json': { kind: 'http', status: 404, code: 'command_not_found' },
  },
  'jitr-handler': {
    // Registered under a CA other than the local operational CA: not ours to activate.
    'certificate-registered.json': {
      kind: 'returns',
      value: expect.objectContaining({ outcome: 'skipped' }),
    },
  },
  'remediation-steps': {
    // Our own detector's finding, proven by its provenance record; a summary, skipped; a malformed one.
    ...pick(SAMPLE_FINDING_PLANS, ['own-authz-detector-finding.json', 'audit-check-summary.json']),
    'malformed-certificate-id.json': {
      kind: 'error',
      type: 'MalformedFindingError',
      message: /^Malformed finding/,
    },
  },
  'telemetry-ingest': {
    // The committed envelopes' data keys are wrapped under the key id "sample", not the local
    // TelemetryKey: dropped as wrong-key (permanent, no retry), as in-process.
    'iot-telemetry.json': { kind: 'dropped', reason: 'wrong-key', count: 1, value: undefined },
  },
};

let cloud: RunningCloud;
beforeAll(async () => {
  cloud = await startLocalCloud();
}, 120_000);
afterAll(async () => {
  await cloud?.stop();
});

const fnOf = (event: string) => {
  const [dir = '', file = ''] = event.split('/');
  return FUNCTION_OF[dir]?.(file) ?? '';
};

describe('serverless invoke local --stage local: the committed samples', () => {
  it('names committed events that exist, each for a function of the template', () => {
    for (const [dir, rows] of Object.entries(EXPECTED)) {
      expect(dirs(EVENTS), dir).toContain(dir);
      expect(eventFiles(join(EVENTS, dir)), dir).toEqual(expect.arrayContaining(Object.keys(rows)));
      expect(FUNCTION_OF[dir], dir).toBeDefined();
    }
    expect(Object.keys(FUNCTION_OF).sort()).toEqual(dirs(EVENTS));
  });

  const cases = Object.entries(EXPECTED).flatMap(([dir, rows]) =>
    Object.entries(rows).map(([file, expected]) => ({ name: `${dir}/${file}`, expected })),
  );
  it.each(cases)('$name', { timeout: 120_000 }, async ({ name, expected }) => {
    assess(await invokeLocal(cloud, fnOf(name), join('events', name)), expected);
  });
});

describe('serverless invoke local --stage local: the fresh events (pnpm run events)', () => {
  it('pnpm run events writes a fresh event for every function and scenario, signed now', {
    timeout: 60_000,
  }, async () => {
    const run = await runNode([join(ROOT, 'scripts', 'events.mjs')], cliEnv(cloud.statePath, cloud.stateDir));
    expect(run.code, run.stderr).toBe(0);
    const written = dirs(cloud.eventsDir).flatMap((d) =>
      eventFiles(join(cloud.eventsDir, d)).map((f) => `${d}/${f}`),
    );
    expect(written).toEqual(FRESH.map((f) => f.event).sort());
    for (const file of written) expect(run.stdout).toContain(file);
    // admin-api and behaviour-detector need no fresh events: their committed samples already succeed against the
    // local cloud (EXPECTED above: 200, and counted with no finding).
    const committedOnly = ['admin-api', 'behaviour-detector'];
    expect(dirs(cloud.eventsDir)).toEqual(dirs(EVENTS).filter((d) => !committedOnly.includes(d)));
    const attestation = JSON.parse(
      JSON.parse(
        readFileSync(join(cloud.eventsDir, 'cert-broker/post-certificates-attestation.json'), 'utf8'),
      ).body,
    ) as { attestation: { signedAt: string } };
    expect(Date.now() - Date.parse(attestation.attestation.signedAt)).toBeLessThan(60_000);
  });

  it.each(FRESH)('$event', { timeout: 120_000 }, async ({ event, expected, moves }) => {
    const before = await observe(cloud);
    assess(await invokeLocal(cloud, fnOf(event), join(cloud.eventsDir, event)), expected);
    expect(changes(before, await observe(cloud))).toEqual(moves);
  });

  it('the command result reached the command the GET event names: SUCCEEDED', async () => {
    const get = JSON.parse(
      readFileSync(join(cloud.eventsDir, 'command-sender/get-command.json'), 'utf8'),
    ) as {
      pathParameters: { commandId: string };
    };
    const ddb = new DynamoDBClient(sdk(cloud));
    const row = await ddb.send(
      new GetItemCommand({
        TableName: cloud.state.resolve['Ref:CommandsTable'],
        Key: { commandId: { S: get.pathParameters.commandId } },
      }),
    );
    expect(row.Item?.status?.S).toBe('SUCCEEDED');
  });
});

function sdk(c: RunningCloud) {
  return {
    endpoint: c.state.endpoint,
    region: 'eu-west-1',
    credentials: {
      accessKeyId: c.state.env.AWS_ACCESS_KEY_ID ?? '',
      secretAccessKey: c.state.env.AWS_SECRET_ACCESS_KEY ?? '',
    },
  };
}

describe('pnpm run remediate', () => {
  it('runs the imported finding through classify and each step of its plan, in order, to RESOLVED', {
    timeout: 300_000,
  }, async () => {
    const event = JSON.parse(
      readFileSync(join(cloud.eventsDir, 'remediation-steps/finding-imported.json'), 'utf8'),
    ) as {
      detail: { findings: Array<{ Id: string; ProductArn: string; Resources: Array<{ Id: string }> }> };
    };
    const finding = event.detail.findings[0];
    const thingName = finding?.Resources[0]?.Id ?? '';
    const before = await observe(cloud);

    const run = await runNode(
      [join(ROOT, 'scripts', 'remediate.mjs')],
      cliEnv(cloud.statePath, cloud.stateDir),
    );

    expect(run.code, run.stdout + run.stderr).toBe(0);
    const steps = run.stdout
      .split('\n')
      .map((l) => /^(\w+):/.exec(l)?.[1])
      .filter(Boolean);
    expect(steps).toEqual(['classify', ...AUTHZ_PLAN, 'closeFinding']);
    expect(run.stdout).toMatch(/closeFinding: workflow RESOLVED/);
    // The thing quarantined, its certificate deactivated, one alert, one OpsItem.
    expect(changes(before, await observe(cloud))).toEqual({
      active: -1,
      inactive: 1,
      snsMessages: 1,
      opsItems: 1,
    });
    const group = await new IoTClient(sdk(cloud)).send(
      new ListThingsInThingGroupCommand({ thingGroupName: 'cv-security-local-quarantine' }),
    );
    expect(group.things).toContain(thingName);
    const hub = await new SecurityHubClient(sdk(cloud)).send(
      new GetFindingsCommand({
        Filters: {
          Id: [{ Value: finding?.Id ?? '', Comparison: 'EQUALS' }],
          ProductArn: [{ Value: finding?.ProductArn ?? '', Comparison: 'EQUALS' }],
        },
      }),
    );
    expect(hub.Findings?.map((f) => f.Workflow?.Status)).toEqual(['RESOLVED']);
  });
});

describe('friction', () => {
  it('a stopped local cloud with a stale state file: invoke local says so and how to start it, runs nothing', {
    timeout: 120_000,
  }, async () => {
    const stale = join(cloud.stateDir, 'stale-state.json');
    const state = JSON.parse(readFileSync(cloud.statePath, 'utf8')) as { endpoint: string };
    // A port nothing listens on: the cloud that wrote the file is gone.
    writeFileSync(stale, JSON.stringify({ ...state, endpoint: 'http://127.0.0.1:9' }));
    const before = await observe(cloud);
    const run = await runNode(
      [
        join(ROOT, 'node_modules/osls/bin/serverless.js'),
        'invoke',
        'local',
        '--stage',
        'local',
        '-f',
        'commandSender',
        '-p',
        join(cloud.eventsDir, 'command-sender/post-command.json'),
      ],
      cliEnv(stale, cloud.stateDir),
    );
    expect(run.code).not.toBe(0);
    const printed = run.stdout + run.stderr;
    expect(printed).toMatch(/the local cloud is not running \(nothing answers at http:\/\/127\.0\.0\.1:9;/);
    expect(printed).toContain('pnpm run local-cloud');
    expect(printed).not.toMatch(/"statusCode"|internal/);
    expect(changes(before, await observe(cloud))).toEqual({});
  });

  it('no state file at all: invoke local and pnpm run events say the local cloud is not running', {
    timeout: 120_000,
  }, async () => {
    const missing = join(cloud.stateDir, 'no-such-state.json');
    const invoke = await runNode(
      [
        join(ROOT, 'node_modules/osls/bin/serverless.js'),
        'invoke',
        'local',
        '--stage',
        'local',
        '-f',
        'commandSender',
        '-p',
        'events/command-sender/get-command.json',
      ],
      cliEnv(missing, cloud.stateDir),
    );
    expect(invoke.code).not.toBe(0);
    expect(invoke.stdout + invoke.stderr).toMatch(
      /the local cloud is not running \(no .*no-such-state\.json\): start it/,
    );
    const events = await runNode([join(ROOT, 'scripts', 'events.mjs')], cliEnv(missing, cloud.stateDir));
    expect(events.code).toBe(1);
    expect(events.stderr).toMatch(/The local cloud is not running[\s\S]*pnpm run local-cloud/);
  });

  it('a crash prints a stack trace into the TypeScript sources, not the minified bundle', {
    timeout: 120_000,
  }, async () => {
    const run = await invokeLocal(
      cloud,
      'remediationClassify',
      'events/remediation-steps/malformed-no-resources.json',
    );
    const frames = (run.result as { stackTrace: string[] }).stackTrace.filter((l) => /^\s+at /.test(l));
    expect(frames.length).toBeGreaterThan(0);
    expect(frames.some((l) => /functions\/remediation-steps\/src\/[\w-]+\.ts:\d+:\d+/.test(l))).toBe(true);
    expect(frames.filter((l) => /\.esbuild\/.*\.mjs:\d+/.test(l))).toEqual([]);
  });
});

describe('IAM (after every invocation above)', () => {
  it('ran every invocation with its own role under IAM enforcement, and none was denied', () => {
    const state = JSON.parse(readFileSync(cloud.statePath, 'utf8')) as {
      functionAccessKeys?: Record<string, string>;
    };
    expect(Object.keys(state.functionAccessKeys ?? {})).toEqual(
      expect.arrayContaining([
        ...new Set(Object.values(FUNCTION_OF).map((f) => f('x.json'))),
        'telemetryIngestBatch',
        'remediationQuarantine',
        'remediationDeactivateCertificate',
        'remediationNotify',
        'remediationOpenTicket',
        'remediationCloseFinding',
      ]),
    );
    expect(cloud.output()).not.toMatch(/IAM denied/);
  });
});

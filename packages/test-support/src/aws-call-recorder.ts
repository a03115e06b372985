/**
 * Vitest setup file of every function's project: records each AWS call the function's code sends through a client
 * mocked with aws-sdk-client-mock, for the IAM proof in packages/iam (which evaluates every recorded call against the
 * function's role in the packaged template).
 *
 * `mockClient` is wrapped (vi.mock in a setup file applies to every test file of the project), and the sinon stub it
 * returns records each call at the moment it is made: the client's service id, the operation, the identifying part of
 * the input, and the files of the function's own `src/` on the call stack (which tell apart the several Lambda
 * functions one package serves, e.g. the remediation steps). Calls made from test code itself (no `src/` frame) are
 * not recorded. Each test file writes one JSON file (even with no call, so a rerun replaces what it recorded before),
 * sorted and deduplicated, under `node_modules/.cache/aws-calls/<package>/`: parallel workers never write the same
 * file, and reruns write identical files (random ids and times are replaced by fixed values of the same shape).
 */
import { createHash } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { KMSClient } from '@aws-sdk/client-kms';
import { AwsStub } from 'aws-sdk-client-mock';
import { afterAll, expect } from 'vitest';
import {
  type Command,
  configured,
  identifying,
  operationOf,
  RECORDINGS_DIR,
  type RecordedCall,
  ROOT,
  sourcesOnStack,
} from './aws-call-record.js';

const recorded = new Map<string, RecordedCall>();

function record(client: unknown, command: unknown): void {
  const stack = new Error().stack ?? '';
  const sources = sourcesOnStack(stack);
  if (sources === undefined) return;
  const config = (client as { config?: { serviceId?: unknown } } | undefined)?.config;
  const service = typeof config?.serviceId === 'string' ? config.serviceId : 'unknown';
  const { operation, input } = operationOf(command as Command);
  const call: RecordedCall = {
    service,
    operation,
    input: identifying(input),
    env: configured(input),
    sources,
  };
  recorded.set(JSON.stringify(call), call);
}

interface SinonProxy {
  invoke: (func: unknown, thisValue: unknown, args: unknown[]) => unknown;
}
const instrumented = new WeakSet<SinonProxy>();
function instrument(send: SinonProxy): void {
  if (instrumented.has(send)) return;
  instrumented.add(send);
  const invoke = send.invoke;
  send.invoke = function (this: unknown, func, thisValue, args) {
    record(thisValue, args[0]);
    return invoke.call(this, func, thisValue, args);
  };
}

// Every sinon stub of `send` an AwsStub holds (from mockClient, and the fresh one `reset()` makes) goes through this
// setter; one copy of aws-sdk-client-mock is installed in the workspace, so this is the class the tests use.
const sends = new WeakMap<object, SinonProxy>();
Object.defineProperty(AwsStub.prototype, 'send', {
  configurable: true,
  get(this: object) {
    return sends.get(this);
  },
  set(this: object, send: SinonProxy) {
    instrument(send);
    sends.set(this, send);
  },
});

// Clients that are not mocked (DynamoDB against dynalite in some suites) send through the Smithy client's `send`,
// which every SDK client inherits; mocked clients have their own stub above it, so no call is recorded twice.
const smithyClient = Object.getPrototypeOf(KMSClient.prototype) as { send: (...args: unknown[]) => unknown };
const realSend = smithyClient.send;
smithyClient.send = function (this: unknown, ...args: unknown[]) {
  record(this, args[0]);
  return realSend.apply(this, args);
};

afterAll(() => {
  const testPath = expect.getState().testPath;
  if (testPath === undefined) return;
  const rel = relative(ROOT, testPath).split(sep);
  if (rel[0] !== 'functions' || rel[1] === undefined) return;
  const calls = [...recorded.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, c]) => c);
  const dir = join(RECORDINGS_DIR, rel[1]);
  mkdirSync(dir, { recursive: true });
  const name = createHash('sha256').update(rel.join('/')).digest('hex').slice(0, 16);
  writeFileSync(
    join(dir, `${name}.json`),
    `${JSON.stringify({ testFile: rel.join('/'), calls }, null, 1)}\n`,
  );
});

import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { lambdaContext as sharedLambdaContext } from '@cv/test-support';
import type { Context } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import type { Action, RemediationState } from '../src/plan.js';
import { initialState } from '../src/state.js';
import { loadEvent, SCOPE } from './corpus.js';

export const REGION = 'eu-west-1';
export const ACCOUNT = '123456789012';
export const GROUP = 'cv-security-dev-quarantine';
export const QUARANTINE_POLICY = 'cv-security-dev-quarantine';
export const TOPIC = `arn:aws:sns:${REGION}:${ACCOUNT}:cv-security-dev-alerts`;
export const PCA = `arn:aws:acm-pca:${REGION}:${ACCOUNT}:certificate-authority/0f8e2b1c-5d4a-4e3b-9c2d-1a0b9c8d7e6f`;
export const TABLE = 'cv-security-dev-ecu-registry';
export const ALERT_LEDGER = 'cv-security-dev-alert-ledger';
export const PROVENANCE = 'cv-security-dev-finding-provenance';

/** The environment every step function gets in serverless/functions/remediation-steps.yml. */
export const STEP_ENV: Record<string, string> = {
  AWS_REGION: REGION,
  QUARANTINE_THING_GROUP: GROUP,
  QUARANTINE_POLICY_NAME: QUARANTINE_POLICY,
  PCA_CA_ARN: PCA,
  ECU_REGISTRY_TABLE: TABLE,
  IOT_POLICY_PREFIX: 'cv-security-dev',
  IOT_ROLE_ALIAS: 'cv-security-dev-ecu',
  ALERT_TOPIC_ARN: TOPIC,
  ALERT_LEDGER_TABLE: ALERT_LEDGER,
  FINDING_PROVENANCE_TABLE: PROVENANCE,
  POWERTOOLS_METRICS_DISABLED: 'true',
  LOG_LEVEL: 'SILENT',
};

export function context(name = 'remediation'): Context {
  return sharedLambdaContext({
    functionName: `cv-security-dev-${name}`,
    region: REGION,
    account: ACCOUNT,
    awsRequestId: '6f1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d',
    callbackWaitsForEmptyEventLoop: false,
    logStreamName: '2026/11/25/[$LATEST]abc',
  });
}

/** The state classify makes of a corpus event, positioned so that `first` is the next action. */
export function stateAt(eventName: string, first: Action): RemediationState {
  const state = initialState(loadEvent(eventName), SCOPE);
  const at = state.remaining.indexOf(first);
  return { ...state, remaining: at >= 0 ? state.remaining.slice(at) : [first, ...state.remaining] };
}

/** A real self-signed certificate made by openssl, with the serial openssl reports for it. */
export function opensslCertificate(cn: string): { pem: string; serial: string } {
  const dir = mkdtempSync(join(tmpdir(), 'cv-remediation-'));
  try {
    const cert = join(dir, 'cert.pem');
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'ec',
        '-pkeyopt',
        'ec_paramgen_curve:P-256',
        '-nodes',
        '-keyout',
        join(dir, 'key.pem'),
        '-out',
        cert,
        '-subj',
        `/CN=${cn}`,
        '-days',
        '2',
      ],
      { stdio: 'pipe' },
    );
    const serial = execFileSync('openssl', ['x509', '-in', cert, '-noout', '-serial'], { encoding: 'utf8' })
      .trim()
      .replace(/^serial=/, '');
    return { pem: readFileSync(cert, 'utf8'), serial };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * aws-sdk-client-mock 4.1.0's generics are compiled against an older @smithy/types than the 3.11xx clients, so its
 * typed `mockClient` does not accept them; this narrow view of the stub is all the tests use.
 */
export interface Stub {
  on(
    command: unknown,
    input?: unknown,
  ): { resolves(output: unknown): unknown; rejects(error: unknown): unknown };
  reset(): void;
  restore(): void;
  calls(): Array<{ args: [unknown] }>;
  commandCalls(command: unknown): Array<{ args: [{ input: unknown }] }>;
}

export function mock(client: unknown): Stub {
  return mockClient(client as never) as unknown as Stub;
}

/** The inputs of every call of one command a mocked client received, in order. */
export function inputs<C extends abstract new (...args: never[]) => { input: unknown }>(
  stub: Stub,
  command: C,
): Array<InstanceType<C>['input']> {
  return stub.commandCalls(command).map((c) => c.args[0].input as InstanceType<C>['input']);
}

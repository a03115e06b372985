import { randomUUID } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import { lambdaContext as sharedLambdaContext } from '@cv/test-support';
import type { Context } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';

export const ACCOUNT = '123456789012';
export const REGION = 'eu-west-1';
export const CERT = '3f9c2b7e8a1d4c6f0b5e9a2d7c4f1e8b6a3d0c9f2e5b8a1d4c7f0e3b6a9d2c5f';
export const OTHER_CERT = 'c0ffee00c0ffee00c0ffee00c0ffee00c0ffee00c0ffee00c0ffee00c0ffee00';
export const THING = 'WVWZZZ1JZXW000001_TCU-00042';

/** An AWS IoT v2 log line (log group AWSIotLogsV2) as AWS IoT writes it. */
export function iotLogLine(
  overrides: Record<string, unknown> = {},
  at = Date.UTC(2026, 10, 25, 8, 45, 1, 123),
) {
  const iso = new Date(at).toISOString();
  return {
    timestamp: `${iso.slice(0, 10)} ${iso.slice(11, 23)}`,
    logLevel: 'ERROR',
    traceId: randomUUID(),
    accountId: ACCOUNT,
    status: 'Failure',
    eventType: 'Publish-In',
    protocol: 'MQTT',
    topicName: 'ecus/WVWZZZ1JZXW000002_TCU-00007/telemetry',
    clientId: THING,
    principalId: CERT,
    sourceIp: '203.0.113.7',
    sourcePort: 43512,
    reason: 'AUTHORIZATION_FAILURE',
    details: 'Authorization Failure',
    ...overrides,
  };
}

/** A CloudWatch Logs subscription filter invocation: base64(gzip(JSON)) in awslogs.data. */
export function subscriptionEvent(lines: Array<{ line: unknown; at: number }>): {
  awslogs: { data: string };
} {
  const data = {
    messageType: 'DATA_MESSAGE',
    owner: ACCOUNT,
    logGroup: 'AWSIotLogsV2',
    logStream: 'a1b2c3d4-e5f6-4a7b-8c9d-0e1f2a3b4c5d',
    subscriptionFilters: ['cv-security-dev-authz-failures'],
    logEvents: lines.map(({ line, at }, i) => ({
      id: `3789${String(at).padStart(20, '0')}${String(i).padStart(8, '0')}`,
      timestamp: at,
      message: typeof line === 'string' ? line : JSON.stringify(line),
    })),
  };
  return { awslogs: { data: gzipSync(Buffer.from(JSON.stringify(data))).toString('base64') } };
}

/** `n` failures by `cert`, one second apart from `start`. */
export function burst(n: number, start: number, cert = CERT, overrides: Record<string, unknown> = {}) {
  return Array.from({ length: n }, (_, i) => {
    const at = start + i * 1000;
    return { line: iotLogLine({ principalId: cert, ...overrides }, at), at };
  });
}

export interface Stub {
  on(command: unknown): {
    // `never`: each fake annotates the SDK input shape it reads.
    callsFake(f: (input: never) => unknown): unknown;
    resolves(o: unknown): unknown;
  };
  reset(): void;
  restore(): void;
  commandCalls(command: unknown): Array<{ args: [{ input: unknown }] }>;
}
export function mock(client: unknown): Stub {
  return mockClient(client as never) as unknown as Stub;
}

export function context(): Context {
  return sharedLambdaContext({
    functionName: 'cv-security-dev-authzDetector',
    region: REGION,
    account: ACCOUNT,
    awsRequestId: '0b5c2d3e-4f5a-4b6c-8d7e-9f0a1b2c3d4e',
    callbackWaitsForEmptyEventLoop: false,
    logStreamName: '2026/11/25/[$LATEST]abc',
  });
}

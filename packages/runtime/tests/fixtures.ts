import { lambdaContext as sharedLambdaContext } from '@cv/test-support';
import type { APIGatewayProxyEvent, APIGatewayProxyEventV2, Context } from 'aws-lambda';
import { afterEach, beforeEach } from 'vitest';

/** A Lambda context as the runtime passes it. */
export function lambdaContext(awsRequestId = 'c0ffee00-0000-4000-8000-000000000001'): Context {
  return sharedLambdaContext({ functionName: 'cv-security-dev-test', account: '123456789012', awsRequestId });
}

/** An HTTP API (payload 2.0) event. */
export function httpApiEvent(overrides: Partial<APIGatewayProxyEventV2> = {}): APIGatewayProxyEventV2 {
  return {
    version: '2.0',
    routeKey: 'POST /certificates',
    rawPath: '/certificates',
    rawQueryString: '',
    headers: { 'content-type': 'application/json', 'x-correlation-id': 'client-supplied' },
    requestContext: {
      accountId: '123456789012',
      apiId: 'a1b2c3d4e5',
      domainName: 'devices.example.com',
      domainPrefix: 'devices',
      http: {
        method: 'POST',
        path: '/certificates',
        protocol: 'HTTP/1.1',
        sourceIp: '198.51.100.7',
        userAgent: 'ecu/1.0',
      },
      requestId: 'Ab1CdEfGhIjKlM=',
      routeKey: 'POST /certificates',
      stage: '$default',
      time: '25/Nov/2026:09:00:00 +0000',
      timeEpoch: 1_795_597_200_000,
    },
    body: '{"hello":"world"}',
    isBase64Encoded: false,
    ...overrides,
  };
}

/** A REST API proxy (payload 1.0) event. */
export function restApiEvent(overrides: Partial<APIGatewayProxyEvent> = {}): APIGatewayProxyEvent {
  return {
    resource: '/vehicles/{vin}/commands',
    path: '/vehicles/1HGCM82633A004352/commands',
    httpMethod: 'POST',
    headers: { 'Content-Type': 'application/json', 'Idempotency-Key': 'k-1' },
    multiValueHeaders: {},
    queryStringParameters: null,
    multiValueQueryStringParameters: null,
    pathParameters: { vin: '1HGCM82633A004352' },
    stageVariables: null,
    requestContext: {
      accountId: '123456789012',
      apiId: 'r1e2s3t4u5',
      authorizer: { principalId: 'user-sub' },
      protocol: 'HTTP/1.1',
      httpMethod: 'POST',
      identity: {
        accessKey: null,
        accountId: null,
        apiKey: null,
        apiKeyId: null,
        caller: null,
        clientCert: null,
        cognitoAuthenticationProvider: null,
        cognitoAuthenticationType: null,
        cognitoIdentityId: null,
        cognitoIdentityPoolId: null,
        principalOrgId: null,
        sourceIp: '198.51.100.8',
        user: null,
        userAgent: 'app/1.0',
        userArn: null,
      },
      path: '/dev/vehicles/1HGCM82633A004352/commands',
      stage: 'dev',
      requestId: 'rest-request-id-1',
      requestTimeEpoch: 1_795_597_200_000,
      resourceId: 'abc123',
      resourcePath: '/vehicles/{vin}/commands',
    },
    body: '{"command":"door.lock"}',
    isBase64Encoded: false,
    ...overrides,
  };
}

/** Captures everything written to stdout and stderr while a test runs. */
export function captureOutput(): { text: () => string; lines: () => Record<string, unknown>[] } {
  const chunks: string[] = [];
  const originals = { out: process.stdout.write, err: process.stderr.write };
  beforeEach(() => {
    chunks.length = 0;
    const capture = (chunk: unknown): boolean => {
      chunks.push(typeof chunk === 'string' ? chunk : Buffer.from(chunk as Uint8Array).toString('utf8'));
      return true;
    };
    process.stdout.write = capture as typeof process.stdout.write;
    process.stderr.write = capture as typeof process.stderr.write;
  });
  afterEach(() => {
    process.stdout.write = originals.out;
    process.stderr.write = originals.err;
  });
  const text = () => chunks.join('');
  return {
    text,
    lines: () =>
      text()
        .split('\n')
        .filter((l) => l.trim() !== '')
        .map((l) => JSON.parse(l) as Record<string, unknown>),
  };
}

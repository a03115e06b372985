import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { DynamoDBClient, ListTablesCommand } from '@aws-sdk/client-dynamodb';
import { KMSClient, ListAliasesCommand } from '@aws-sdk/client-kms';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { awsClientConfig, createLogger, errorResponse } from '../src/index.js';

const credentials = { accessKeyId: 'AKIAIOSFODNN7EXAMPLE', secretAccessKey: 'test-only-not-a-secret' };

interface Seen {
  port: string;
  target: string | undefined;
}

/** A loopback stand-in for an AWS endpoint: answers JSON, optionally throttles the first requests. */
function fakeAws(port: string, seen: Seen[], state: { throttle: number; fail: number }): Server {
  return createServer((req: IncomingMessage, res) => {
    req.resume();
    req.on('end', () => {
      seen.push({ port, target: req.headers['x-amz-target'] as string | undefined });
      res.setHeader('content-type', 'application/x-amz-json-1.1');
      if (state.throttle > 0) {
        state.throttle -= 1;
        res.statusCode = 400;
        res.end(JSON.stringify({ __type: 'ThrottlingException', message: 'Rate exceeded' }));
        return;
      }
      if (state.fail > 0) {
        state.fail -= 1;
        res.statusCode = 500;
        res.end(JSON.stringify({ __type: 'InternalServerError', message: 'try again' }));
        return;
      }
      res.end(
        JSON.stringify(
          req.headers['x-amz-target']?.includes('ListTables') ? { TableNames: ['t'] } : { Aliases: [] },
        ),
      );
    });
  });
}

describe('awsClientConfig', () => {
  const seen: Seen[] = [];
  const state = { throttle: 0, fail: 0 };
  const servers: Server[] = [];
  const urls: string[] = [];

  beforeAll(async () => {
    for (const name of ['a', 'b']) {
      const server = fakeAws(name, seen, state);
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      servers.push(server);
      urls.push(`http://127.0.0.1:${(server.address() as AddressInfo).port}`);
    }
  });
  afterAll(async () => {
    await Promise.all(servers.map((s) => new Promise((resolve) => s.close(resolve))));
  });
  afterEach(() => {
    vi.unstubAllEnvs();
    seen.length = 0;
    state.throttle = 0;
    state.fail = 0;
  });

  it('sets adaptive retries, bounded attempts and timeouts, and the region only when given', () => {
    expect(awsClientConfig({ region: 'eu-west-1' })).toEqual({
      region: 'eu-west-1',
      retryMode: 'adaptive',
      maxAttempts: 3,
      requestHandler: { connectionTimeout: 2000, requestTimeout: 10000 },
    });
    expect(awsClientConfig()).not.toHaveProperty('region');
    expect(awsClientConfig({ region: '', maxAttempts: 5 })).toMatchObject({ maxAttempts: 5 });
  });

  it('lets the SDK honour AWS_ENDPOINT_URL_<SERVICE> over AWS_ENDPOINT_URL (no endpoint code of ours)', async () => {
    vi.stubEnv('AWS_ENDPOINT_URL', urls[1]);
    vi.stubEnv('AWS_ENDPOINT_URL_DYNAMODB', urls[0]);
    const ddb = new DynamoDBClient({ ...awsClientConfig({ region: 'eu-west-1' }), credentials });
    const kms = new KMSClient({ ...awsClientConfig({ region: 'eu-west-1' }), credentials });

    const tables = await ddb.send(new ListTablesCommand({}));
    await kms.send(new ListAliasesCommand({}));

    expect(tables.TableNames).toEqual(['t']);
    expect(seen).toEqual([
      { port: 'a', target: 'DynamoDB_20120810.ListTables' },
      { port: 'b', target: 'TrentService.ListAliases' },
    ]);
  });

  it('retries transient server errors up to maxAttempts, then surfaces the error', async () => {
    vi.stubEnv('AWS_ENDPOINT_URL', urls[0]);
    const ddb = new DynamoDBClient({ ...awsClientConfig({ region: 'eu-west-1' }), credentials });

    state.fail = 2;
    await ddb.send(new ListTablesCommand({}));
    expect(seen).toHaveLength(3);

    seen.length = 0;
    state.fail = 5;
    await expect(ddb.send(new ListTablesCommand({}))).rejects.toMatchObject({ name: 'InternalServerError' });
    expect(seen).toHaveLength(3);
  });

  it('surfaces throttling errors in a shape the HTTP error mapper turns into 503 + Retry-After', async () => {
    vi.stubEnv('AWS_ENDPOINT_URL', urls[0]);
    const ddb = new DynamoDBClient({
      ...awsClientConfig({ region: 'eu-west-1', maxAttempts: 1 }),
      credentials,
    });
    state.throttle = 1;
    const error = await ddb.send(new ListTablesCommand({})).catch((e: unknown) => e);
    expect(seen).toHaveLength(1);

    const logger = createLogger({ serviceName: 'test', logLevel: 'SILENT' });
    const response = errorResponse(error, logger);
    expect(response.statusCode).toBe(503);
    expect(response.headers).toMatchObject({ 'Retry-After': '1' });
  });
});

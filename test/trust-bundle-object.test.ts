/**
 * The truststore custom resource (serverless/custom-resources/trust-bundle-object.cjs): the response it
 * PUTs to CloudFormation (over a loopback server), the version it returns, and what Delete removes.
 */
import { createServer, type IncomingMessage } from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const require = createRequire(import.meta.url);
const { handle } = require('../serverless/custom-resources/trust-bundle-object.cjs') as {
  handle: (
    event: Record<string, unknown>,
    deps: Deps,
  ) => Promise<{ status: string; data: Record<string, string> }>;
};
type Deps = {
  put: (bucket: string, key: string, body: string) => Promise<string | undefined>;
  purge: (bucket: string, key: string) => Promise<void>;
  respond: (url: string, body: string) => Promise<void>;
};

const received: { method?: string; body: string }[] = [];
let url = '';
const server = createServer((req: IncomingMessage, res) => {
  let body = '';
  req.on('data', (c) => {
    body += c;
  });
  req.on('end', () => {
    received.push({ method: req.method, body });
    res.end();
  });
});
beforeAll(async () => {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/response`;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

const respond = async (u: string, body: string) => {
  const r = await fetch(u, { method: 'PUT', body, headers: { 'content-type': '' } });
  if (!r.ok) throw new Error(String(r.status));
};
const event = (RequestType: string, props: Record<string, unknown> = {}, PhysicalResourceId?: string) => ({
  RequestType,
  ResponseURL: url,
  StackId: 'stack',
  RequestId: 'req',
  LogicalResourceId: 'TrustBundleObject',
  ...(PhysicalResourceId ? { PhysicalResourceId } : {}),
  ResourceProperties: {
    Bucket: 'b',
    Key: 'attestation-cas.pem',
    Body: 'PEM',
    PurgeOnDelete: 'true',
    ...props,
  },
});
const last = () => JSON.parse(received.at(-1)?.body ?? '{}');

describe('trust bundle object custom resource', () => {
  it('Create writes the bundle and answers SUCCESS with the object version', async () => {
    const puts: string[] = [];
    await handle(event('Create'), {
      put: async (b, k, body) => {
        puts.push(`${b}/${k}:${body}`);
        return 'v1';
      },
      purge: async () => {},
      respond,
    });
    expect(puts).toEqual(['b/attestation-cas.pem:PEM']);
    expect(received.at(-1)?.method).toBe('PUT');
    expect(last()).toMatchObject({
      Status: 'SUCCESS',
      PhysicalResourceId: 's3://b/attestation-cas.pem',
      Data: { VersionId: 'v1' },
    });
  });

  it('fails (and says why, without the bundle) when the bucket returns no version, or S3 refuses', async () => {
    await handle(event('Update', {}, 's3://b/attestation-cas.pem'), {
      put: async () => undefined,
      purge: async () => {},
      respond,
    });
    expect(last()).toMatchObject({ Status: 'FAILED', Data: {} });
    expect(last().Reason).toContain('versioning');
    const denied = Object.assign(new Error('Access Denied'), { name: 'AccessDenied' });
    await handle(event('Create', { Body: 'SECRET-LOOKING PEM' }), {
      put: async () => {
        throw denied;
      },
      purge: async () => {},
      respond,
    });
    expect(last().Status).toBe('FAILED');
    expect(received.at(-1)?.body).not.toContain('SECRET-LOOKING');
  });

  it('Delete purges the key only where PurgeOnDelete is "true" and the physical id is its own', async () => {
    const purged: string[] = [];
    const deps = {
      put: async () => 'x',
      purge: async (b: string, k: string) => void purged.push(`${b}/${k}`),
      respond,
    };
    await handle(event('Delete', { PurgeOnDelete: 'false' }, 's3://b/attestation-cas.pem'), deps);
    await handle(event('Delete', {}, 's3://other/attestation-cas.pem'), deps);
    expect(purged).toEqual([]);
    await handle(event('Delete', {}, 's3://b/attestation-cas.pem'), deps);
    expect(purged).toEqual(['b/attestation-cas.pem']);
    expect(last().Status).toBe('SUCCESS');
  });

  it('refuses properties that are not strings', async () => {
    const puts: unknown[] = [];
    await handle(event('Create', { Body: 42 }), {
      put: async (...a) => {
        puts.push(a);
        return 'v';
      },
      purge: async () => {},
      respond,
    });
    expect(puts).toEqual([]);
    expect(last().Status).toBe('FAILED');
  });
});

import { ConfigError } from '@cv/runtime';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CaCertificates, RolePolicies } from '../src/caches.js';
import { loadConfig } from '../src/config.js';
import { PolicyNotFoundError } from '../src/errors.js';
import { parseJitrEvent } from '../src/event.js';
import type { IotControlPlane } from '../src/ports.js';
import { isRetryableAwsError, withRetry } from '../src/retry.js';

const HEX64 = 'f'.repeat(64);

describe('parseJitrEvent', () => {
  it('accepts the AWS event and tolerates fields AWS may add', () => {
    const event = {
      certificateId: HEX64,
      caCertificateId: 'a'.repeat(64),
      timestamp: 1795685400123,
      certificateStatus: 'PENDING_ACTIVATION',
      awsAccountId: '123456789012',
      certificateRegistrationTimestamp: null,
      newField: true,
    };
    expect(parseJitrEvent(event)).toMatchObject({ certificateId: HEX64 });
  });

  it('rejects a status longer than 64 characters, an account id that is not 12 digits, a timestamp of another type', () => {
    const event = { certificateId: HEX64, caCertificateId: 'a'.repeat(64) };
    expect(() => parseJitrEvent({ ...event, certificateStatus: 'P'.repeat(65) })).toThrow();
    expect(() => parseJitrEvent({ ...event, awsAccountId: '12345678901' })).toThrow();
    expect(() => parseJitrEvent({ ...event, timestamp: { ms: 1 } })).toThrow();
    expect(parseJitrEvent({ ...event, timestamp: '1795685400123' }).timestamp).toBe('1795685400123');
  });

  it('property: anything that parses carries two 64-hex ids; everything else throws', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.anything(),
          fc.record({ certificateId: fc.string(), caCertificateId: fc.string() }),
          fc.record({ certificateId: fc.stringMatching(/^[0-9a-f]{64}$/), caCertificateId: fc.string() }),
        ),
        (value) => {
          let parsed: ReturnType<typeof parseJitrEvent> | undefined;
          try {
            parsed = parseJitrEvent(value);
          } catch {
            return;
          }
          expect(parsed.certificateId).toMatch(/^[0-9a-f]{64}$/);
          expect(parsed.caCertificateId).toMatch(/^[0-9a-f]{64}$/);
        },
      ),
      { numRuns: 500 },
    );
  });
});

describe('loadConfig', () => {
  const base = {
    ECU_REGISTRY_TABLE: 'cv-security-dev-ecu-registry',
    ISSUED_CERTIFICATES_TABLE: 'cv-security-dev-issued-certificates',
    OPERATIONAL_CA_CERTIFICATE_ID: HEX64,
    OCSP_ALLOWED_HOSTS: 'ocsp.acm-pca.eu-west-1.amazonaws.com, OCSP.example.com',
    IOT_POLICY_PREFIX: 'cv-security-dev',
    AWS_REGION: 'eu-west-1',
    AWS_ACCOUNT_ID: '123456789012',
  };
  const variableOf = (env: Record<string, string | undefined>) => {
    try {
      loadConfig(env);
    } catch (error) {
      if (error instanceof ConfigError) return error.variable;
      throw error;
    }
    return undefined;
  };

  it('takes the operational CA PEM when the stack provides one, and none when it is empty or absent', () => {
    const pem = '-----BEGIN CERTIFICATE-----\nMIIBAA==\n-----END CERTIFICATE-----';
    expect(loadConfig({ ...base, OPERATIONAL_CA_CERTIFICATE_PEM: pem }).operationalCaCertificatePem).toBe(
      `${pem}\n`,
    );
    expect(
      loadConfig({ ...base, OPERATIONAL_CA_CERTIFICATE_PEM: '' }).operationalCaCertificatePem,
    ).toBeUndefined();
    expect(loadConfig(base).operationalCaCertificatePem).toBeUndefined();
  });

  it('parses the hosts list (lower-cased) and defaults', () => {
    const config = loadConfig(base);
    expect(config.ocspAllowedHosts).toEqual(['ocsp.acm-pca.eu-west-1.amazonaws.com', 'ocsp.example.com']);
    expect(config.ocspResponderUrl).toBeUndefined();
    expect(config.ocspHashAlgorithm).toBe('sha1');
  });

  it.each([
    ['OPERATIONAL_CA_CERTIFICATE_ID', { OPERATIONAL_CA_CERTIFICATE_ID: 'abc' }],
    ['OCSP_ALLOWED_HOSTS', { OCSP_ALLOWED_HOSTS: undefined }],
    ['OCSP_ALLOWED_HOSTS', { OCSP_ALLOWED_HOSTS: 'http://ocsp.example.com' }],
    ['OCSP_RESPONDER_URL', { OCSP_RESPONDER_URL: 'ftp://ocsp.example.com' }],
    ['OCSP_RESPONDER_URL', { OCSP_RESPONDER_URL: 'not a url' }],
    ['IOT_POLICY_PREFIX', { IOT_POLICY_PREFIX: undefined }],
    ['ISSUED_CERTIFICATES_TABLE', { ISSUED_CERTIFICATES_TABLE: undefined }],
    ['AWS_ACCOUNT_ID', { AWS_ACCOUNT_ID: '1234' }],
    ['OCSP_HASH_ALGORITHM', { OCSP_HASH_ALGORITHM: 'md5' }],
    ['OPERATIONAL_CA_CERTIFICATE_PEM', { OPERATIONAL_CA_CERTIFICATE_PEM: 'not a pem' }],
    [
      'OPERATIONAL_CA_CERTIFICATE_PEM',
      { OPERATIONAL_CA_CERTIFICATE_PEM: '-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n' },
    ],
    [
      'OPERATIONAL_CA_CERTIFICATE_PEM',
      {
        OPERATIONAL_CA_CERTIFICATE_PEM:
          '-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n-----BEGIN CERTIFICATE-----\nBBBB\n-----END CERTIFICATE-----\n',
      },
    ],
  ])('names %s when it is missing or malformed', (variable, override) => {
    expect(variableOf({ ...base, ...override })).toBe(variable);
  });
});

function fakeIot(existing: Set<string>) {
  const calls: string[] = [];
  const iot = {
    attachPolicy: async (name: string, arn: string) => {
      calls.push(`AttachPolicy ${name} ${arn}`);
      if (!existing.has(name)) throw new PolicyNotFoundError(name);
    },
    describeCaCertificate: async (id: string) => {
      calls.push(`DescribeCACertificate ${id}`);
      return `PEM-${id}`;
    },
  } as unknown as IotControlPlane;
  return { iot, calls };
}

describe('RolePolicies', () => {
  it('attaches the stack role policy with one AttachPolicy per certificate, never looks it up', async () => {
    const { iot, calls } = fakeIot(new Set(['cv-security-dev-ecu-body', 'cv-security-dev-ecu-gateway']));
    const policies = new RolePolicies({ prefix: 'cv-security-dev' });

    expect(await policies.attach(iot, 'body', 'cert-1')).toBe('cv-security-dev-ecu-body');
    await policies.attach(iot, 'gateway', 'cert-2');
    await policies.attach(iot, 'gateway', 'cert-3');

    expect(calls).toEqual([
      'AttachPolicy cv-security-dev-ecu-body cert-1',
      'AttachPolicy cv-security-dev-ecu-gateway cert-2',
      'AttachPolicy cv-security-dev-ecu-gateway cert-3',
    ]);
  });

  it('a policy the stack did not create fails: PolicyNotFoundError, nothing created', async () => {
    const { iot, calls } = fakeIot(new Set());
    const policies = new RolePolicies({ prefix: 'cv-security-dev' });

    await expect(policies.attach(iot, 'adas', 'cert-1')).rejects.toBeInstanceOf(PolicyNotFoundError);
    await expect(policies.attach(iot, 'adas', 'cert-1')).rejects.toBeInstanceOf(PolicyNotFoundError);
    expect(calls).toEqual([
      'AttachPolicy cv-security-dev-ecu-adas cert-1',
      'AttachPolicy cv-security-dev-ecu-adas cert-1',
    ]);
    expect(Object.keys(iot)).not.toContain('createPolicy');
  });

  it('does not swallow other AttachPolicy failures', async () => {
    const { iot } = fakeIot(new Set());
    Object.assign(iot, {
      attachPolicy: async () => {
        throw Object.assign(new Error('throttled'), { name: 'ThrottlingException' });
      },
    });

    await expect(new RolePolicies({ prefix: 'p' }).attach(iot, 'body', 'cert-1')).rejects.toThrow(
      'throttled',
    );
  });
});

describe('CaCertificates', () => {
  it('never describes the CA whose PEM is pinned by configuration; other CAs are still described', async () => {
    const { iot, calls } = fakeIot(new Set());
    const cas = new CaCertificates(iot, {
      ttlMs: 0,
      maxEntries: 2,
      pinned: { caCertificateId: 'op', pem: 'PEM-configured' },
    });

    expect(await cas.pem('op')).toBe('PEM-configured');
    expect(await cas.pem('op')).toBe('PEM-configured');
    expect(await cas.pem('other')).toBe('PEM-other');
    expect(calls).toEqual(['DescribeCACertificate other']);
  });

  it('caches the CA PEM for the TTL and stays bounded', async () => {
    const { iot, calls } = fakeIot(new Set());
    let now = 0;
    const cas = new CaCertificates(iot, { ttlMs: 1_000, maxEntries: 2, now: () => now });

    await cas.pem('a');
    await cas.pem('a');
    now = 1_500;
    await cas.pem('a');
    await cas.pem('b');
    await cas.pem('c');
    await cas.pem('a');

    expect(calls).toEqual([
      'DescribeCACertificate a',
      'DescribeCACertificate a',
      'DescribeCACertificate b',
      'DescribeCACertificate c',
      'DescribeCACertificate a',
    ]);
  });
});

describe('withRetry', () => {
  const throttling = Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' });

  it('retries throttling with capped, jittered backoff and gives up after the attempts', async () => {
    const sleeps: number[] = [];
    let calls = 0;

    await expect(
      withRetry(
        async () => {
          calls += 1;
          throw throttling;
        },
        {
          attempts: 4,
          baseDelayMs: 100,
          maxDelayMs: 250,
          sleep: async (ms) => void sleeps.push(ms),
          random: () => 0.999,
        },
      ),
    ).rejects.toBe(throttling);
    expect(calls).toBe(4);
    expect(sleeps).toEqual([99, 199, 249]);
  });

  it('does not retry errors that are not transient', async () => {
    let calls = 0;
    const denied = Object.assign(new Error('denied'), {
      name: 'AccessDeniedException',
      $metadata: { httpStatusCode: 403 },
    });

    await expect(
      withRetry(
        async () => {
          calls += 1;
          throw denied;
        },
        { attempts: 4, baseDelayMs: 1, maxDelayMs: 1, sleep: async () => undefined },
      ),
    ).rejects.toBe(denied);
    expect(calls).toBe(1);
  });

  it.each([
    [{ name: 'ThrottlingException' }, true],
    [{ name: 'ServiceUnavailableException' }, true],
    [{ name: 'X', $metadata: { httpStatusCode: 503 } }, true],
    [{ name: 'X', $metadata: { httpStatusCode: 429 } }, true],
    [{ name: 'ResourceNotFoundException', $metadata: { httpStatusCode: 404 } }, false],
    ['ThrottlingException', false],
  ])('classifies %j as retryable=%s', (error, expected) => {
    expect(isRetryableAwsError(error)).toBe(expected);
  });
});

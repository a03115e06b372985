import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createLogger, createMetrics, httpHandler, REDACTED } from '../src/index.js';
import { captureOutput, httpApiEvent, lambdaContext } from './fixtures.js';
import { makeSecrets, pemBody } from './secrets.js';

const secrets = makeSecrets();
const tells = [
  pemBody(secrets.pkcs8Pem),
  pemBody(secrets.sec1Pem),
  pemBody(secrets.pkcs1Pem),
  pemBody(secrets.encryptedPem),
  secrets.jwt,
  secrets.jwt.split('.')[2] ?? '',
  secrets.opaque,
];

describe('createLogger', () => {
  const out = captureOutput();
  beforeEach(() => {
    vi.stubEnv('AWS_LAMBDA_INITIALIZATION_TYPE', 'on-demand');
    vi.stubEnv('POWERTOOLS_DEV', '');
  });
  afterEach(() => {
    vi.unstubAllEnvs();
  });

  it('writes one structured JSON object per line with level, message, service and timestamp', () => {
    const logger = createLogger({
      serviceName: 'cert-broker',
      logLevel: 'info',
      persistentKeys: { stage: 'dev' },
    });

    logger.info('certificate issued', { thingName: '1HGCM82633A004352_gw-01' });

    const [line, ...rest] = out.lines();
    expect(rest).toEqual([]);
    expect(line).toMatchObject({
      level: 'INFO',
      message: 'certificate issued',
      service: 'cert-broker',
      stage: 'dev',
      thingName: '1HGCM82633A004352_gw-01',
    });
    expect(typeof line?.timestamp).toBe('string');
  });

  it('honours the LOG_LEVEL value it is given, and falls back to INFO for nonsense', () => {
    const warnOnly = createLogger({ serviceName: 's', logLevel: 'WARN' });
    warnOnly.info('hidden');
    warnOnly.warn('shown');
    const fallback = createLogger({ serviceName: 's', logLevel: 'loud' });
    fallback.debug('hidden too');
    fallback.info('shown too');

    expect(out.lines().map((l) => l.message)).toEqual(['shown', 'shown too']);
  });

  it('never writes private keys, JWTs, bearer tokens or sensitive fields to stdout, however deep', () => {
    const logger = createLogger({ serviceName: 's', logLevel: 'DEBUG' });

    logger.info(`received key ${secrets.pkcs8Pem}`);
    logger.debug('request', {
      headers: { Authorization: `Bearer ${secrets.jwt}`, 'X-Api-Key': secrets.opaque },
      body: {
        csr: 'public',
        attestation: { privateKey: secrets.sec1Pem },
        items: [{ plaintext: secrets.opaque }],
      },
      note: `rsa ${secrets.pkcs1Pem} and ${secrets.encryptedPem}`,
      token: secrets.opaque,
      esdk: secrets.opaque,
      ciphertext: secrets.opaque,
      password: secrets.opaque,
      clientSecret: secrets.opaque,
    });
    logger.warn('jwt in text', `eyJ... no: ${secrets.jwt}`);

    const text = out.text();
    for (const tell of tells) expect(text).not.toContain(tell);
    expect(text).not.toContain('PRIVATE KEY');
    const [first, second] = out.lines();
    expect(first?.message).toBe(`received key ${REDACTED}\n`);
    expect(second).toMatchObject({
      headers: { Authorization: REDACTED, 'X-Api-Key': REDACTED },
      body: { csr: 'public', attestation: { privateKey: REDACTED }, items: [{ plaintext: REDACTED }] },
      token: REDACTED,
      esdk: REDACTED,
      ciphertext: REDACTED,
      password: REDACTED,
      clientSecret: REDACTED,
    });
  });

  it('redacts secrets carried by errors: message, stack, custom fields and causes', () => {
    const logger = createLogger({ serviceName: 's' });
    const cause = new Error(`upstream rejected ${secrets.jwt}`);
    const error = Object.assign(new Error(`decrypt failed for ${secrets.sec1Pem}`, { cause }), {
      plaintext: secrets.opaque,
    });

    logger.error('failed', error);

    const text = out.text();
    for (const tell of tells) expect(text).not.toContain(tell);
    const [line] = out.lines();
    expect(line?.error).toMatchObject({ name: 'Error', plaintext: REDACTED, cause: { name: 'Error' } });
  });

  it('adds cold_start (true only on the first invocation), the Lambda context and the correlation id', async () => {
    const logger = createLogger({ serviceName: 's' });
    const metrics = createMetrics({ serviceName: 's' });
    const handler = httpHandler(
      async () => {
        logger.info('inside');
        return { statusCode: 204 };
      },
      { logger, metrics },
    );

    await handler(httpApiEvent(), lambdaContext('req-1'));
    await handler(
      httpApiEvent({ requestContext: { ...httpApiEvent().requestContext, requestId: 'second=' } }),
      lambdaContext('req-2'),
    );

    const inside = out.lines().filter((l) => l.message === 'inside');
    expect(inside).toHaveLength(2);
    expect(inside[0]).toMatchObject({
      cold_start: true,
      function_name: 'cv-security-dev-test',
      function_request_id: 'req-1',
      correlation_id: 'Ab1CdEfGhIjKlM=',
    });
    expect(inside[1]).toMatchObject({
      cold_start: false,
      function_request_id: 'req-2',
      correlation_id: 'second=',
    });
  });
});

import type { APIGatewayProxyEvent, APIGatewayProxyEventV2 } from 'aws-lambda';
import { describe, expect, it, vi } from 'vitest';
import {
  badRequest,
  createLogger,
  createMetrics,
  type HttpRequest,
  type HttpResult,
  httpHandler,
  payloadTooLarge,
  serviceUnavailable,
  tooManyRequests,
} from '../src/index.js';
import { captureOutput, httpApiEvent, lambdaContext, restApiEvent } from './fixtures.js';
import { makeSecrets } from './secrets.js';

const secrets = makeSecrets();

function setup<E extends APIGatewayProxyEventV2 | APIGatewayProxyEvent>(
  fn: (req: HttpRequest<E>) => Promise<HttpResult>,
  maxBodyBytes?: number,
) {
  const logger = createLogger({ serviceName: 'test' });
  const metrics = createMetrics({ serviceName: 'test', logger });
  const spy = vi.fn(fn);
  const handler = httpHandler<E>(spy, {
    logger,
    metrics,
    ...(maxBodyBytes === undefined ? {} : { maxBodyBytes }),
  });
  return { handler, spy };
}

describe('httpHandler', () => {
  const out = captureOutput();

  it('serves an HTTP API (2.0) request: JSON response, correlation id from the request id', async () => {
    const { handler } = setup<APIGatewayProxyEventV2>(async (req) => ({
      statusCode: 201,
      body: {
        method: req.method,
        path: req.path,
        got: req.json(),
        mtls: req.event.requestContext.authentication,
      },
    }));

    const res = await handler(httpApiEvent(), lambdaContext());

    expect(res.statusCode).toBe(201);
    expect(res.headers).toMatchObject({
      'content-type': 'application/json; charset=utf-8',
      'cache-control': 'no-store',
      'x-correlation-id': 'Ab1CdEfGhIjKlM=',
    });
    expect(JSON.parse(res.body)).toEqual({ method: 'POST', path: '/certificates', got: { hello: 'world' } });
  });

  it('serves a REST (1.0) proxy request: lower-cased headers, path parameters, handler headers win', async () => {
    const { handler } = setup<APIGatewayProxyEvent>(async (req) => ({
      statusCode: 202,
      headers: { location: '/x' },
      body: {
        method: req.method,
        path: req.path,
        key: req.headers['idempotency-key'],
        vin: req.pathParameters.vin,
        principal: req.event.requestContext.authorizer?.principalId,
      },
    }));

    const res = await handler(restApiEvent(), lambdaContext());

    expect(res.statusCode).toBe(202);
    expect(res.headers).toMatchObject({ location: '/x', 'x-correlation-id': 'rest-request-id-1' });
    expect(JSON.parse(res.body)).toEqual({
      method: 'POST',
      path: '/vehicles/1HGCM82633A004352/commands',
      key: 'k-1',
      vin: '1HGCM82633A004352',
      principal: 'user-sub',
    });
  });

  it('decodes base64 bodies and returns an empty body when the handler has none', async () => {
    const { handler, spy } = setup(async (req) => {
      expect(req.body).toBe('{"a":"é"}');
      return { statusCode: 204 };
    });

    const res = await handler(
      httpApiEvent({ body: Buffer.from('{"a":"é"}').toString('base64'), isBase64Encoded: true }),
      lambdaContext(),
    );

    expect(spy).toHaveBeenCalledTimes(1);
    expect(res.statusCode).toBe(204);
    expect(res.body).toBe('');
  });

  it.each([
    ['plain', { body: 'x'.repeat(1025) }],
    ['multi-byte', { body: 'é'.repeat(513) }],
    ['base64', { body: Buffer.alloc(1025).toString('base64'), isBase64Encoded: true }],
  ])('rejects a %s body over the limit with 413 without calling the handler', async (_, overrides) => {
    const { handler, spy } = setup(async () => ({ statusCode: 200 }), 1024);

    const res = await handler(httpApiEvent(overrides), lambdaContext());

    expect(res.statusCode).toBe(413);
    expect(res.headers).toMatchObject({ 'x-correlation-id': 'Ab1CdEfGhIjKlM=' });
    expect(out.lines().find((l) => l.message === 'request rejected')).toMatchObject({
      correlation_id: 'Ab1CdEfGhIjKlM=',
    });
    expect(JSON.parse(res.body)).toEqual({
      error: 'payload_too_large',
      message: 'The request body is too large (at most 1024 bytes)',
    });
    expect(spy).not.toHaveBeenCalled();
  });

  it('accepts a body exactly at the limit', async () => {
    const { handler, spy } = setup(async () => ({ statusCode: 200 }), 1024);
    const res = await handler(httpApiEvent({ body: 'é'.repeat(512) }), lambdaContext());
    expect(res.statusCode).toBe(200);
    expect(spy).toHaveBeenCalledTimes(1);
  });

  it.each([
    ['missing', undefined],
    ['malformed', '{"a":'],
  ])('turns a %s JSON body into 400 invalid_json', async (_, body) => {
    const { handler } = setup(async (req) => ({ statusCode: 200, body: req.json() }));
    const res = await handler(
      httpApiEvent(body === undefined ? { body: undefined } : { body }),
      lambdaContext(),
    );
    expect(res.statusCode).toBe(400);
    expect(JSON.parse(res.body)).toEqual({
      error: 'invalid_json',
      message: 'The request body must be a JSON document',
    });
  });

  it('returns exposed 4xx errors with their code, message and headers', async () => {
    const { handler } = setup(async () => {
      throw tooManyRequests(7.2);
    });
    const res = await handler(httpApiEvent(), lambdaContext());
    expect(res.statusCode).toBe(429);
    expect(res.headers).toMatchObject({ 'Retry-After': '8' });
    expect(JSON.parse(res.body)).toEqual({
      error: 'too_many_requests',
      message: 'Too many requests, retry later',
    });
    const rejected = out.lines().find((l) => l.message === 'request rejected');
    expect(rejected).toMatchObject({
      level: 'INFO',
      statusCode: 429,
      code: 'too_many_requests',
      reason: 'Too many requests, retry later',
    });
    expect(JSON.stringify(rejected)).not.toContain('stack');
  });

  it('keeps the code and Retry-After of a 5xx HttpError but never its message or cause', async () => {
    const { handler } = setup(async () => {
      throw serviceUnavailable(3, new Error(`PCA said no to ${secrets.jwt}`));
    });
    const res = await handler(httpApiEvent(), lambdaContext());
    expect(res.statusCode).toBe(503);
    expect(res.headers).toMatchObject({ 'Retry-After': '3' });
    expect(JSON.parse(res.body)).toEqual({
      error: 'service_unavailable',
      message: 'Service unavailable, retry later',
    });
    expect(out.lines().find((l) => l.message === 'request failed')).toMatchObject({
      level: 'ERROR',
      error: { name: 'HttpError', stack: expect.stringContaining('HttpError') },
    });
    expect(out.text()).not.toContain(secrets.jwt);
  });

  it('turns anything else into a generic 500 with no internals, and logs the real error redacted', async () => {
    const { handler } = setup(async () => {
      throw new TypeError(`cannot read plaintext of ${secrets.pkcs8Pem} password=${secrets.opaque}`);
    });

    const res = await handler(httpApiEvent(), lambdaContext());

    expect(res.statusCode).toBe(500);
    expect(JSON.parse(res.body)).toEqual({ error: 'internal', message: 'Internal error' });
    expect(res.body).not.toMatch(/TypeError|plaintext|stack/);
    const logged = out.lines().find((l) => l.message === 'request failed');
    expect(logged).toMatchObject({ level: 'ERROR', error: { name: 'TypeError' } });
    expect(out.text()).not.toContain(secrets.opaque);
    expect(out.text()).not.toContain('PRIVATE KEY');
  });

  it('turns non-Error throwables into a generic 500 too', async () => {
    const { handler } = setup(async () => {
      throw 'a string';
    });
    const res = await handler(httpApiEvent(), lambdaContext());
    expect(res.statusCode).toBe(500);
    expect(JSON.parse(res.body)).toEqual({ error: 'internal', message: 'Internal error' });
  });

  it.each([
    [
      'an AWS throttling error',
      Object.assign(new Error('Rate exceeded'), {
        name: 'ProvisionedThroughputExceededException',
        $metadata: { httpStatusCode: 400 },
      }),
    ],
    ['a request timeout', Object.assign(new Error('Request timed out'), { name: 'TimeoutError' })],
    ['a connection reset', Object.assign(new Error('socket hang up'), { code: 'ECONNRESET', $metadata: {} })],
    ['a refused connection', Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' })],
    [
      'a 500 from the service',
      Object.assign(new Error('We encountered an internal error'), {
        name: 'InternalFailure',
        $metadata: { httpStatusCode: 500 },
      }),
    ],
    [
      'a 503 from the service',
      Object.assign(new Error('KMS is down in az-1'), {
        name: 'KMSInternalException',
        $metadata: { httpStatusCode: 503 },
      }),
    ],
    [
      'a timeout wrapped by our own code',
      new Error('signing failed', { cause: Object.assign(new Error('timed out'), { name: 'TimeoutError' }) }),
    ],
  ])(
    'maps %s that outlived the SDK retries to 503 with Retry-After, not to an internal error',
    async (_, error) => {
      const { handler } = setup(async () => {
        throw error;
      });
      const res = await handler(httpApiEvent(), lambdaContext());
      expect(res.statusCode).toBe(503);
      expect(res.headers).toMatchObject({ 'Retry-After': '1' });
      expect(JSON.parse(res.body)).toEqual({
        error: 'service_unavailable',
        message: 'Service unavailable, retry later',
      });
      expect(res.body).not.toContain(error.message);
    },
  );

  it.each([
    ['a programming error', new TypeError("Cannot read properties of undefined (reading 'x')")],
    [
      'an AWS client error',
      Object.assign(new Error('denied'), {
        name: 'AccessDeniedException',
        $metadata: { httpStatusCode: 400 },
      }),
    ],
    [
      'a validation error',
      Object.assign(new Error('bad'), { name: 'ValidationException', $metadata: { httpStatusCode: 400 } }),
    ],
  ])('still answers %s with a generic 500', async (_, error) => {
    const { handler } = setup(async () => {
      throw error;
    });
    const res = await handler(httpApiEvent(), lambdaContext());
    expect(res.statusCode).toBe(500);
    expect(JSON.parse(res.body)).toEqual({ error: 'internal', message: 'Internal error' });
  });

  it('takes the correlation id from a header when the request id is missing, and ignores unsafe ones', async () => {
    const { handler } = setup(async (req) => ({ statusCode: 200, body: { id: req.correlationId } }));
    const noRequestId = (headers: Record<string, string>) =>
      restApiEvent({ headers, requestContext: { ...restApiEvent().requestContext, requestId: '' } });

    const fromHeader = await handler(noRequestId({ 'X-Correlation-Id': 'abc-123' }), lambdaContext());
    const unsafe = await handler(noRequestId({ 'x-correlation-id': 'a\nb' }), lambdaContext('lambda-req'));

    expect(JSON.parse(fromHeader.body)).toEqual({ id: 'abc-123' });
    expect(JSON.parse(unsafe.body)).toEqual({ id: 'lambda-req' });
  });

  it('does not carry keys appended during one invocation into the next', async () => {
    const logger = createLogger({ serviceName: 'test' });
    const metrics = createMetrics({ serviceName: 'test', logger });
    let call = 0;
    const handler = httpHandler(
      async () => {
        call += 1;
        if (call === 1) logger.appendKeys({ vin: '1HGCM82633A004352' });
        logger.info(`call ${call}`);
        return { statusCode: 200 };
      },
      { logger, metrics },
    );

    await handler(httpApiEvent(), lambdaContext());
    await handler(httpApiEvent(), lambdaContext());

    const lines = out.lines();
    expect(lines.find((l) => l.message === 'call 1')).toHaveProperty('vin');
    expect(lines.find((l) => l.message === 'call 2')).not.toHaveProperty('vin');
  });

  it('publishes EMF metrics: error counts per class', async () => {
    const { handler } = setup(async () => {
      throw badRequest('nope', 'No');
    });
    await handler(httpApiEvent(), lambdaContext());
    const emf = out.lines().filter((l) => '_aws' in l);
    expect(emf.some((l) => l.Http4xx === 1 && l.service === 'test')).toBe(true);
  });

  it('exposes the 413 helper for handlers that stream or re-check sizes', () => {
    expect(payloadTooLarge().message).toBe('The request body is too large');
  });
});

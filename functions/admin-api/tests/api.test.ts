/**
 * The use cases' errors as HTTP (src/api.ts toHttpError), for the errors the handler tests cannot provoke on the
 * local cloud: items unprocessed through every retry are a 503 with Retry-After (the request is idempotent: retry it),
 * any other admin error or a plain error a generic 500; none exposes its message.
 */
import { AdminError, InvalidInputError, NotFoundError, RefusedError } from '@cv/admin';
import { HttpError } from '@cv/runtime';
import { describe, expect, it } from 'vitest';
import { toHttpError } from '../src/api.js';

describe('toHttpError', () => {
  it('retries exhausted (a manifest import throttled past its retries) is 503 with Retry-After, message not exposed', () => {
    const error = toHttpError(
      new AdminError('retries_exhausted', '12 items still unprocessed after the last retry'),
    );

    expect(error).toBeInstanceOf(HttpError);
    expect(error).toMatchObject({ statusCode: 503, code: 'service_unavailable', expose: false });
    expect((error as HttpError).headers).toEqual({ 'Retry-After': '5' });
  });

  it('invalid input 400, not found 404, refused 409 with their code and message; any other admin error not an HttpError (500)', () => {
    expect(toHttpError(new InvalidInputError('vin', 'bad vin'))).toMatchObject({
      statusCode: 400,
      message: 'bad vin',
    });
    expect(toHttpError(new NotFoundError('no such ECU'))).toMatchObject({
      statusCode: 404,
      code: 'not_found',
    });
    expect(toHttpError(new RefusedError('busy', 'try again'))).toMatchObject({
      statusCode: 409,
      code: 'busy',
    });
    expect(toHttpError(new AdminError('config', 'PCA_CA_ARN is required'))).not.toBeInstanceOf(HttpError);
  });
});

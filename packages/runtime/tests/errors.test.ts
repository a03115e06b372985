import { describe, expect, it } from 'vitest';
import {
  badRequest,
  ConfigError,
  conflict,
  forbidden,
  HttpError,
  notFound,
  payloadTooLarge,
  RuntimeError,
  serviceUnavailable,
  tooManyRequests,
  unauthorized,
} from '../src/index.js';

describe('HttpError', () => {
  it.each([
    [badRequest(), 400, 'bad_request'],
    [unauthorized(), 401, 'unauthorized'],
    [forbidden(), 403, 'forbidden'],
    [notFound(), 404, 'not_found'],
    [conflict(), 409, 'conflict'],
    [payloadTooLarge(16384), 413, 'payload_too_large'],
    [tooManyRequests(2), 429, 'too_many_requests'],
  ])('4xx helpers are exposed: %#', (error, status, code) => {
    expect(error).toBeInstanceOf(HttpError);
    expect(error).toBeInstanceOf(RuntimeError);
    expect(error.name).toBe('HttpError');
    expect(error.statusCode).toBe(status);
    expect(error.code).toBe(code);
    expect(error.expose).toBe(true);
  });

  it('5xx errors are never exposed', () => {
    expect(serviceUnavailable(5).expose).toBe(false);
    expect(new HttpError(500, 'internal', 'details').expose).toBe(false);
  });

  it('carries a custom code, message and cause', () => {
    const cause = new Error('root');
    const error = forbidden('ecu_not_active', 'The ECU is not active', cause);
    expect(error.message).toBe('The ECU is not active');
    expect(error.code).toBe('ecu_not_active');
    expect(error.cause).toBe(cause);
  });

  it('sets Retry-After in whole seconds, at least 1', () => {
    expect(tooManyRequests(0).headers).toEqual({ 'Retry-After': '1' });
    expect(serviceUnavailable(2.1).headers).toEqual({ 'Retry-After': '3' });
  });

  it('refuses a status that is not an error', () => {
    expect(() => new HttpError(200, 'ok', 'fine')).toThrow(RangeError);
    expect(() => new HttpError(600, 'x', 'y')).toThrow(RangeError);
  });

  it('ConfigError is a RuntimeError but not an HttpError', () => {
    const error = new ConfigError('X', 'is required but not set');
    expect(error).toBeInstanceOf(RuntimeError);
    expect(error).not.toBeInstanceOf(HttpError);
  });
});

/** Base of every error raised by @cv/runtime. */
export class RuntimeError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'RuntimeError';
  }
}

/** An environment variable is missing or malformed; raised at cold start. */
export class ConfigError extends RuntimeError {
  readonly variable: string;
  constructor(variable: string, problem: string) {
    super(`Configuration error: environment variable ${variable} ${problem}`);
    this.name = 'ConfigError';
    this.variable = variable;
  }
}

/** Options of an {@link HttpError}. */
export interface HttpErrorOptions {
  /** Extra response headers, e.g. `Retry-After`. */
  headers?: Readonly<Record<string, string>>;
  /** The underlying error; logged, never returned to the caller. */
  cause?: unknown;
}

/**
 * An error that maps to an HTTP response. `code` is the machine-readable error code
 * returned as `{ "error": code }`; `message` is returned only when `expose` is true
 * (by default for 4xx), otherwise callers see a generic text for the status.
 *
 * @example
 * throw new HttpError(409, 'conflict', 'The command was already sent');
 */
export class HttpError extends RuntimeError {
  readonly statusCode: number;
  readonly code: string;
  readonly expose: boolean;
  readonly headers: Readonly<Record<string, string>> | undefined;
  constructor(statusCode: number, code: string, message: string, options: HttpErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    if (!Number.isInteger(statusCode) || statusCode < 400 || statusCode > 599) {
      throw new RangeError(`HttpError status must be 4xx or 5xx, got ${statusCode}`);
    }
    this.name = 'HttpError';
    this.statusCode = statusCode;
    this.code = code;
    this.expose = statusCode < 500;
    this.headers = options.headers;
  }
}

function retryAfterHeader(retryAfterSeconds: number): Record<string, string> {
  return { 'Retry-After': String(Math.max(1, Math.ceil(retryAfterSeconds))) };
}

/**
 * 400: malformed input.
 * @example throw badRequest('invalid_csr', 'The CSR is not valid PEM');
 */
export function badRequest(code = 'bad_request', message = 'Bad request', cause?: unknown): HttpError {
  return new HttpError(400, code, message, { cause });
}

/**
 * 401: no (valid) proof of identity or possession.
 * @example throw unauthorized('no_proof_of_possession', 'Attestation signature or client certificate required');
 */
export function unauthorized(code = 'unauthorized', message = 'Unauthorized', cause?: unknown): HttpError {
  return new HttpError(401, code, message, { cause });
}

/**
 * 403: authenticated but not trusted or not allowed.
 * @example throw forbidden('ecu_not_active', 'The ECU is not active');
 */
export function forbidden(code = 'forbidden', message = 'Forbidden', cause?: unknown): HttpError {
  return new HttpError(403, code, message, { cause });
}

/**
 * 404: the resource does not exist (or the caller may not know it does).
 * @example throw notFound('command_not_found', 'No such command');
 */
export function notFound(code = 'not_found', message = 'Not found', cause?: unknown): HttpError {
  return new HttpError(404, code, message, { cause });
}

/**
 * 409: the request conflicts with the current state.
 * @example throw conflict('idempotency_key_reused', 'The Idempotency-Key was used for another request');
 */
export function conflict(
  code = 'conflict',
  message = 'Conflict',
  cause?: unknown,
  /** For a conflict that clears by itself (a request in progress): when to try again. */
  retryAfterSeconds?: number,
): HttpError {
  return new HttpError(409, code, message, {
    cause,
    ...(retryAfterSeconds === undefined ? {} : { headers: retryAfterHeader(retryAfterSeconds) }),
  });
}

/**
 * 413: the request body exceeds the limit.
 * @example throw payloadTooLarge(16 * 1024);
 */
export function payloadTooLarge(maxBytes?: number): HttpError {
  const limit = maxBytes === undefined ? '' : ` (at most ${maxBytes} bytes)`;
  return new HttpError(413, 'payload_too_large', `The request body is too large${limit}`);
}

/**
 * 429 with `Retry-After`: the caller (or we, towards AWS) are throttled.
 * @example throw tooManyRequests(2, err);
 */
export function tooManyRequests(retryAfterSeconds: number, cause?: unknown): HttpError {
  return new HttpError(429, 'too_many_requests', 'Too many requests, retry later', {
    headers: retryAfterHeader(retryAfterSeconds),
    cause,
  });
}

/**
 * 503 with `Retry-After`: a dependency is unavailable or throttling us.
 * @example throw serviceUnavailable(5, err);
 */
export function serviceUnavailable(retryAfterSeconds: number, cause?: unknown): HttpError {
  return new HttpError(503, 'service_unavailable', 'Service unavailable, retry later', {
    headers: retryAfterHeader(retryAfterSeconds),
    cause,
  });
}

import type { Logger } from '@aws-lambda-powertools/logger';
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { isThrottlingError, isTransientError } from '@smithy/core/retry';
import type {
  APIGatewayProxyEvent,
  APIGatewayProxyEventV2,
  APIGatewayProxyResult,
  APIGatewayProxyStructuredResultV2,
  Context,
} from 'aws-lambda';
import { badRequest, HttpError, payloadTooLarge, serviceUnavailable } from './errors.js';
import {
  type LambdaHandler,
  logError,
  type Observability,
  safeCorrelationId,
  withObservability,
} from './middleware.js';

/** API Gateway events the HTTP wrapper accepts: HTTP API (payload 2.0) and REST API proxy (1.0). */
export type HttpEvent = APIGatewayProxyEventV2 | APIGatewayProxyEvent;

/** The response both payload versions accept. */
export type HttpResponse = APIGatewayProxyResult & APIGatewayProxyStructuredResultV2;

/** The request as the handler sees it, the same for both payload versions. */
export interface HttpRequest<E extends HttpEvent = HttpEvent> {
  /** The raw event, typed (e.g. for `requestContext.authorizer` or `authentication.clientCert`). */
  readonly event: E;
  readonly method: string;
  readonly path: string;
  /** Header names lower-cased. */
  readonly headers: Readonly<Record<string, string>>;
  readonly pathParameters: Readonly<Record<string, string>>;
  readonly query: Readonly<Record<string, string>>;
  /** The decoded body (base64 undone), `undefined` when empty; its size is already checked. */
  readonly body: string | undefined;
  readonly correlationId: string;
  /** Parses the body as JSON; a missing or malformed body is a 400 `invalid_json`. */
  json(): unknown;
}

/** What the handler returns; `body` is serialised as JSON unless undefined. */
export interface HttpResult {
  statusCode: number;
  body?: unknown;
  headers?: Readonly<Record<string, string>>;
}

export interface HttpHandlerOptions extends Observability {
  /** Largest accepted decoded request body in bytes; larger is a 413. Default 64 KiB. */
  maxBodyBytes?: number;
}

const JSON_HEADERS = {
  'content-type': 'application/json; charset=utf-8',
  'cache-control': 'no-store',
  'x-content-type-options': 'nosniff',
};

const GENERIC_MESSAGES: Readonly<Record<number, string>> = {
  500: 'Internal error',
  502: 'Bad gateway',
  503: 'Service unavailable, retry later',
  504: 'Gateway timeout',
};

function isV2(event: HttpEvent): event is APIGatewayProxyEventV2 {
  return (event as { version?: unknown }).version === '2.0';
}

function compact(record: Record<string, string | undefined> | null | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(record ?? {})) if (v !== undefined) out[k] = v;
  return out;
}

function lowerCaseKeys(record: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(record)) out[k.toLowerCase()] = v;
  return out;
}

function decodeBody(event: HttpEvent, maxBodyBytes: number): string | undefined {
  const raw = event.body;
  if (raw === undefined || raw === null || raw === '') return undefined;
  if (event.isBase64Encoded) {
    // Decoded size is at most 3/4 of the encoded length: reject huge bodies before decoding.
    if (Math.floor((raw.length * 3) / 4) > maxBodyBytes + 3) throw payloadTooLarge(maxBodyBytes);
    const bytes = Buffer.from(raw, 'base64');
    if (bytes.length > maxBodyBytes) throw payloadTooLarge(maxBodyBytes);
    return bytes.toString('utf8');
  }
  if (Buffer.byteLength(raw, 'utf8') > maxBodyBytes) throw payloadTooLarge(maxBodyBytes);
  return raw;
}

/** The API Gateway request id, else a safe `x-correlation-id` / `x-request-id` header, else the Lambda request id. */
function correlationIdOf(
  event: HttpEvent,
  headers: Readonly<Record<string, string>>,
  context: Pick<Context, 'awsRequestId'>,
): string {
  return (
    safeCorrelationId(event.requestContext?.requestId) ??
    safeCorrelationId(headers['x-correlation-id']) ??
    safeCorrelationId(headers['x-request-id']) ??
    context.awsRequestId
  );
}

/**
 * Normalises an API Gateway event (either payload version) into an {@link HttpRequest};
 * a body over `maxBodyBytes` is a 413. `httpHandler` calls it for you.
 * @example const req = toHttpRequest(event, context, 16 * 1024); req.headers['idempotency-key'];
 */
export function toHttpRequest<E extends HttpEvent>(
  event: E,
  context: Pick<Context, 'awsRequestId'>,
  maxBodyBytes: number,
): HttpRequest<E> {
  const headers = lowerCaseKeys(compact(event.headers));
  const body = decodeBody(event, maxBodyBytes);
  const v2 = isV2(event);
  const method = v2 ? event.requestContext.http.method : event.httpMethod;
  const path = v2 ? event.rawPath : event.path;
  const correlationId = correlationIdOf(event, headers, context);
  return {
    event,
    method,
    path,
    headers,
    pathParameters: compact(event.pathParameters),
    query: compact(event.queryStringParameters),
    body,
    correlationId,
    json() {
      if (body === undefined) throw badRequest('invalid_json', 'The request body must be a JSON document');
      try {
        return JSON.parse(body) as unknown;
      } catch {
        throw badRequest('invalid_json', 'The request body must be a JSON document');
      }
    },
  };
}

/** An AWS SDK error the SDK itself classifies as throttling (status 429, a throttling error code, or the retryable trait). */
function isAwsThrottling(error: unknown): boolean {
  return (
    error instanceof Error &&
    typeof (error as { $metadata?: unknown }).$metadata === 'object' &&
    isThrottlingError(error as Parameters<typeof isThrottlingError>[0])
  );
}

/**
 * What the AWS SDK itself retries, seen once its attempts are spent: a request timeout
 * (`TimeoutError`, `RequestTimeout`), a connection reset, refused or broken, a network failure,
 * `$retryable`, also as the `cause` of a wrapper, or a 5xx answer from the service. Transient: the
 * caller should retry later, so it is never reported as an internal error.
 */
function isAwsTransient(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  if (isTransientError(error as Parameters<typeof isTransientError>[0])) return true;
  const status = (error as { $metadata?: { httpStatusCode?: unknown } }).$metadata?.httpStatusCode;
  return typeof status === 'number' && status >= 500;
}

/**
 * Maps any error to the public response: an {@link HttpError} keeps its status, code and
 * headers (its message only when `expose`), an AWS throttling or transient error (timeout,
 * connection failure, 5xx) that survived the SDK's retries becomes a 503 with `Retry-After`,
 * anything else a generic 500 with no internals.
 * 5xx and unexpected errors are logged at ERROR with their stack and cause (redacted by the
 * logger); a 4xx rejection is one INFO line with its status, code and (exposed) message.
 *
 * @example
 * return errorResponse(new Error('boom'), logger); // 500 {"error":"internal","message":"Internal error"}
 */
export function errorResponse(
  error: unknown,
  logger: Logger,
  extraHeaders: Record<string, string> = {},
): HttpResponse {
  const httpError =
    error instanceof HttpError
      ? error
      : isAwsThrottling(error) || isAwsTransient(error)
        ? serviceUnavailable(1, error)
        : undefined;
  if (httpError === undefined) {
    logError(logger, 'request failed', error);
    return {
      statusCode: 500,
      headers: { ...JSON_HEADERS, ...extraHeaders },
      body: JSON.stringify({ error: 'internal', message: 'Internal error' }),
    };
  }
  if (httpError.statusCode >= 500) logger.error('request failed', httpError);
  // An expected rejection: one concise line (its message is the exposed one), no stack trace.
  else
    logger.info('request rejected', {
      statusCode: httpError.statusCode,
      code: httpError.code,
      reason: httpError.message,
    });
  const message = httpError.expose
    ? httpError.message
    : (GENERIC_MESSAGES[httpError.statusCode] ?? 'Internal error');
  return {
    statusCode: httpError.statusCode,
    headers: { ...JSON_HEADERS, ...extraHeaders, ...httpError.headers },
    body: JSON.stringify({ error: httpError.code, message }),
  };
}

/**
 * Wraps an API Gateway handler (HTTP API payload 2.0 or REST proxy 1.0): structured logs with
 * Lambda context, cold start and correlation id (the API Gateway request id, else an
 * `x-correlation-id` / `x-request-id` header, else the Lambda request id), EMF metrics,
 * a body size limit (413), JSON responses, and errors mapped by {@link errorResponse}.
 *
 * @example
 * export const handler = httpHandler<APIGatewayProxyEventV2>(async (req) => {
 *   const input = RequestSchema.parse(req.json());
 *   return { statusCode: 201, body: await issue(input, deps) };
 * }, { logger, metrics, maxBodyBytes: 16 * 1024 });
 */
export function httpHandler<E extends HttpEvent = HttpEvent>(
  fn: (request: HttpRequest<E>, context: Context) => Promise<HttpResult>,
  opts: HttpHandlerOptions,
): LambdaHandler<E, HttpResponse> {
  const { logger, metrics } = opts;
  const maxBodyBytes = opts.maxBodyBytes ?? 64 * 1024;
  const inner: LambdaHandler<E, HttpResponse> = async (event, context) => {
    // Set before the body is checked, so a rejected request is logged with its id too.
    const correlationId = correlationIdOf(event, lowerCaseKeys(compact(event.headers)), context);
    logger.appendKeys({ correlation_id: correlationId });
    const correlationHeader = { 'x-correlation-id': correlationId };
    try {
      const request = toHttpRequest(event, context, maxBodyBytes);
      const result = await fn(request, context);
      return {
        statusCode: result.statusCode,
        headers: { ...JSON_HEADERS, ...correlationHeader, ...result.headers },
        body: result.body === undefined ? '' : JSON.stringify(result.body),
      };
    } catch (error) {
      const response = errorResponse(error, logger, correlationHeader);
      metrics.addMetric(response.statusCode >= 500 ? 'Http5xx' : 'Http4xx', MetricUnit.Count, 1);
      return response;
    }
  };
  return withObservability(inner, opts);
}

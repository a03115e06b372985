/** Request parsing and the error/response shapes of the AWS wire protocols the SDK v3 speaks. */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { AwsApiError } from './errors.js';

export interface ApiRequest {
  readonly method: string;
  readonly path: string;
  readonly query: URLSearchParams;
  readonly headers: IncomingMessage['headers'];
  readonly body: Buffer;
  /** awsJson `X-Amz-Target` operation (after the dot), if any. */
  readonly operation: string | undefined;
  /**
   * Set when the local cloud enforces IAM: called with the operation and its input before the operation is served;
   * throws the service's AccessDenied error.
   */
  readonly authorize?: (operation: string, input: Record<string, unknown>) => Promise<void>;
}

export interface ApiReply {
  readonly status?: number;
  readonly headers?: Record<string, string>;
  readonly body?: unknown;
}

export type Protocol = 'json' | 'rest' | 'query';

export type ServiceHandler = (request: ApiRequest) => Promise<ApiReply> | ApiReply;

export async function readBody(req: IncomingMessage, limit = 8 * 1024 * 1024): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    const b = chunk as Buffer;
    size += b.length;
    if (size > limit) throw new AwsApiError('RequestEntityTooLarge', 'request too large', 413);
    chunks.push(b);
  }
  return Buffer.concat(chunks);
}

/** JSON body of an awsJson / restJson request ({} when empty). */
export function jsonBody(request: ApiRequest): Record<string, unknown> {
  if (request.body.length === 0) return {};
  try {
    const parsed = JSON.parse(request.body.toString('utf8')) as unknown;
    if (parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed)) {
      return parsed as Record<string, unknown>;
    }
  } catch {
    // fall through
  }
  throw new AwsApiError('SerializationException', 'body is not a JSON object');
}

const xmlEscape = (s: string) =>
  s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

export function xml(s: string): string {
  return xmlEscape(s);
}

/** Writes a successful reply in the service's protocol. */
export function writeReply(
  res: ServerResponse,
  protocol: Protocol,
  reply: ApiReply,
  jsonVersion = '1.1',
): void {
  const status = reply.status ?? 200;
  const headers: Record<string, string> = { 'x-amzn-requestid': crypto.randomUUID(), ...reply.headers };
  let payload: Buffer;
  if (reply.body === undefined) {
    payload = Buffer.from(protocol === 'query' ? '' : '{}');
  } else if (Buffer.isBuffer(reply.body)) {
    payload = reply.body;
  } else if (typeof reply.body === 'string') {
    payload = Buffer.from(reply.body, 'utf8');
  } else {
    payload = Buffer.from(JSON.stringify(reply.body), 'utf8');
  }
  if (!headers['content-type']) {
    headers['content-type'] =
      protocol === 'json'
        ? `application/x-amz-json-${jsonVersion}`
        : protocol === 'query'
          ? 'text/xml'
          : 'application/json';
  }
  headers['content-length'] = String(payload.length);
  res.writeHead(status, headers);
  res.end(payload);
}

/**
 * Writes an AWS error as the real service does:
 * - awsJson: HTTP 400 with `{ "__type": "<namespace>#<Code>", "message" }`;
 * - restJson1: the `x-amzn-ErrorType` header and `{ "message" }` (IoT also sends `code`-less bodies);
 * - awsQuery: `<ErrorResponse><Error><Type>Sender</Type><Code>..</Code><Message>..</Message></Error>...`.
 */
export function writeError(
  res: ServerResponse,
  protocol: Protocol,
  error: AwsApiError,
  namespace: string,
  jsonVersion = '1.1',
): void {
  const requestId = crypto.randomUUID();
  if (protocol === 'query') {
    const body = `<ErrorResponse xmlns="http://${namespace}/doc/2010-03-31/"><Error><Type>${error.statusCode >= 500 ? 'Receiver' : 'Sender'}</Type><Code>${xml(error.code)}</Code><Message>${xml(error.awsMessage)}</Message></Error><RequestId>${requestId}</RequestId></ErrorResponse>`;
    res.writeHead(error.statusCode, { 'content-type': 'text/xml', 'x-amzn-requestid': requestId });
    res.end(body);
    return;
  }
  if (protocol === 'json') {
    const body = JSON.stringify({
      __type: `${namespace}#${error.code}`,
      message: error.awsMessage,
      ...error.extra,
    });
    res.writeHead(error.statusCode, {
      'content-type': `application/x-amz-json-${jsonVersion}`,
      'x-amzn-requestid': requestId,
    });
    res.end(body);
    return;
  }
  const body = JSON.stringify({ message: error.awsMessage, ...error.extra });
  res.writeHead(error.statusCode, {
    'content-type': 'application/json',
    'x-amzn-errortype': `${error.code}:http://internal.amazon.com/coral/${namespace}/`,
    'x-amzn-requestid': requestId,
  });
  res.end(body);
}

/** Matches a restJson1 path template like `/things/{thingName}/principals`. */
export function matchPath(template: string, path: string): Record<string, string> | undefined {
  const t = template.split('/');
  const p = path.split('/');
  if (t.length !== p.length) return undefined;
  const params: Record<string, string> = {};
  for (let i = 0; i < t.length; i++) {
    const seg = t[i] ?? '';
    const val = p[i] ?? '';
    if (seg.startsWith('{') && seg.endsWith('}')) {
      if (val === '') return undefined;
      params[seg.slice(1, -1)] = decodeURIComponent(val);
    } else if (seg !== val) {
      return undefined;
    }
  }
  return params;
}

export interface Route {
  readonly method: string;
  readonly path: string;
  /** The API operation (what IAM authorises). */
  readonly name?: string;
  readonly handle: (request: ApiRequest, params: Record<string, string>) => Promise<ApiReply> | ApiReply;
}

/** Dispatches a restJson1 request over a route table. */
export function restRouter(routes: readonly Route[]): ServiceHandler {
  return async (request) => {
    for (const route of routes) {
      if (route.method !== request.method) continue;
      const params = matchPath(route.path, request.path);
      if (!params) continue;
      if (request.authorize) {
        const principal = request.headers['x-amzn-principal'];
        let body: Record<string, unknown> = {};
        try {
          body = jsonBody(request);
        } catch {
          // not JSON: nothing IAM needs from it
        }
        await request.authorize(route.name ?? `${request.method} ${route.path}`, {
          ...Object.fromEntries(request.query),
          ...body,
          ...params,
          ...(typeof principal === 'string' ? { principal } : {}),
        });
      }
      return route.handle(request, params);
    }
    throw new AwsApiError('UnknownOperationException', `no route for ${request.method} ${request.path}`, 404);
  };
}

/** Dispatches an awsJson request by its X-Amz-Target operation. */
export function jsonRouter(
  operations: Record<string, (input: Record<string, unknown>) => Promise<unknown> | unknown>,
): ServiceHandler {
  return async (request) => {
    const op = request.operation ?? '';
    const fn = operations[op];
    if (!fn) throw new AwsApiError('UnknownOperationException', `operation ${op} is not served locally`);
    const input = jsonBody(request);
    await request.authorize?.(op, input);
    return { body: (await fn(input)) ?? {} };
  };
}

export function str(input: Record<string, unknown>, key: string, required = true): string {
  const v = input[key];
  if (typeof v === 'string' && v !== '') return v;
  if (!required && (v === undefined || v === null)) return '';
  throw new AwsApiError('ValidationException', `${key} is required and must be a string`);
}

export const epochSeconds = (d: Date = new Date()) => Math.floor(d.getTime()) / 1000;

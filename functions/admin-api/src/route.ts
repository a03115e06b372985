import { type AdminDeps, InvalidInputError } from '@cv/admin';

/** A request as a route sees it: the path's parameters, the query, and the JSON body (parsed on demand). */
export interface AdminRequest {
  readonly params: Readonly<Record<string, string>>;
  readonly query: Readonly<Record<string, string>>;
  /** Header names lower-cased. */
  readonly headers: Readonly<Record<string, string>>;
  /** Whether the request has a body at all. */
  readonly hasBody: boolean;
  /** The body as text (base64 undone), `undefined` when empty; its size is within the route's limit. */
  readonly body: string | undefined;
  /** The JSON body; a missing or malformed body is a 400 `invalid_json`. */
  json(): unknown;
}

/** The body limit of a route that does not set one: a JSON document of a few fields. */
export const DEFAULT_MAX_BODY_BYTES = 16 * 1024;

/**
 * One route of the admin API: `METHOD /literal/{param}/...` to a use case of @cv/admin. The use case validates its
 * input (the same validation as the CLI); the route only moves path, query and body into the use case's input.
 */
export interface Route {
  readonly method: 'GET' | 'POST' | 'PUT' | 'DELETE';
  readonly path: string;
  /** Largest body this route accepts, in bytes (default {@link DEFAULT_MAX_BODY_BYTES}); larger is a 413. */
  readonly maxBodyBytes?: number;
  run(request: AdminRequest, deps: AdminDeps): Promise<unknown>;
}

/**
 * A JSON object body; no body is `{}` (optional fields), a malformed body a 400, any other JSON value `{}`, which
 * the use case then refuses field by field.
 */
export function objectBody(request: AdminRequest): Record<string, unknown> {
  if (!request.hasBody) return {};
  const body = request.json();
  return typeof body === 'object' && body !== null && !Array.isArray(body)
    ? (body as Record<string, unknown>)
    : {};
}

const SEGMENT = /^[A-Za-z0-9._:-]{1,128}$/;

/**
 * Matches a request path against a route's template: literal segments equal, `{name}` segments captured. A segment
 * outside `[A-Za-z0-9._:-]` (encoded characters, `..`-only traversal is refused too) matches nothing.
 */
export function matchPath(template: string, path: string): Record<string, string> | undefined {
  const want = template.split('/').filter(Boolean);
  const got = path.split('/').filter(Boolean);
  if (want.length !== got.length) return undefined;
  const params: Record<string, string> = {};
  for (let i = 0; i < want.length; i++) {
    const w = want[i] ?? '';
    const g = got[i] ?? '';
    if (!SEGMENT.test(g) || g === '.' || g === '..') return undefined;
    if (w.startsWith('{') && w.endsWith('}')) params[w.slice(1, -1)] = g;
    else if (w !== g) return undefined;
  }
  return params;
}

/**
 * A JSON object body whose fields are all among `allowed`: a field outside them is a 400 naming it (where a misspelt
 * optional field would change what the use case does, e.g. retire every CA instead of the one named).
 */
export function strictObjectBody(request: AdminRequest, allowed: readonly string[]): Record<string, unknown> {
  const body = objectBody(request);
  const unknown = Object.keys(body).find((k) => !allowed.includes(k));
  if (unknown !== undefined) {
    throw new InvalidInputError(
      unknown.slice(0, 64),
      `unknown field ${JSON.stringify(unknown.slice(0, 64))}: the body takes ${allowed.join(', ') || 'no fields'}`,
    );
  }
  return body;
}

/** An optional string field: absent is `undefined`, any other type a 400 with `message`. */
export function optionalString(
  body: Record<string, unknown>,
  field: string,
  message: string,
): string | undefined {
  const value = body[field];
  if (value === undefined) return undefined;
  if (typeof value !== 'string') throw new InvalidInputError(field, message);
  return value;
}

import type { AdminDeps } from '@cv/admin';

/** A request as a route sees it: the path's parameters, the query, and the JSON body (parsed on demand). */
export interface AdminRequest {
  readonly params: Readonly<Record<string, string>>;
  readonly query: Readonly<Record<string, string>>;
  /** Whether the request has a body at all. */
  readonly hasBody: boolean;
  /** The JSON body; a missing or malformed body is a 400 `invalid_json`. */
  json(): unknown;
}

/**
 * One route of the admin API: `METHOD /literal/{param}/...` to a use case of @cv/admin. The use case validates its
 * input (the same validation as the CLI); the route only moves path, query and body into the use case's input.
 */
export interface Route {
  readonly method: 'GET' | 'POST' | 'PUT' | 'DELETE';
  readonly path: string;
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

import {
  type AdminDeps,
  AdminError,
  InvalidInputError,
  NotFoundError,
  RefusedError,
  UsageError,
} from '@cv/admin';
import {
  badRequest,
  conflict,
  forbidden,
  HttpError,
  type HttpRequest,
  type HttpResult,
  notFound,
  payloadTooLarge,
  serviceUnavailable,
} from '@cv/runtime';
import type { APIGatewayProxyEvent } from 'aws-lambda';
import { DEFAULT_MAX_BODY_BYTES, matchPath, type Route } from './route.js';

/** An IAM principal ARN as API Gateway reports the SigV4 caller (`requestContext.identity.userArn`). */
const PRINCIPAL_ARN = /^arn:aws[a-z-]*:(iam|sts)::\d{12}:[A-Za-z0-9+=,.@_/:-]{1,512}$/;

/**
 * The SigV4 caller, as API Gateway verified it (AWS_IAM authorisation): the audit trail's actor. Without one, the
 * request did not come through the IAM-authorised API: 403, nothing run.
 */
export function callerOf(event: APIGatewayProxyEvent): string {
  const arn = event.requestContext?.identity?.userArn;
  if (typeof arn !== 'string' || !PRINCIPAL_ARN.test(arn)) throw forbidden('no_caller', 'Forbidden');
  return arn;
}

/**
 * The use cases' errors as HTTP: invalid input 400, not found 404, refused 409 (the error's code and its
 * operator-safe message), retries exhausted 503 with Retry-After, anything else a generic 500 (the runtime's error
 * mapping keeps internals out).
 */
export function toHttpError(error: unknown): unknown {
  if (error instanceof HttpError) return error;
  if (error instanceof InvalidInputError || error instanceof UsageError)
    return badRequest(error.code, error.message);
  if (error instanceof NotFoundError) return notFound(error.code, error.message);
  if (error instanceof RefusedError) return conflict(error.code, error.message);
  // Items left unprocessed through every retry (throttling): the caller retries the request later (it is idempotent).
  if (error instanceof AdminError && error.code === 'retries_exhausted') return serviceUnavailable(5, error);
  if (error instanceof AdminError) return new Error(`admin error ${error.code}`, { cause: error });
  return error;
}

/**
 * Dispatches one request: finds the route (404 for an unknown path, 405 for a known path with another method),
 * refuses a body over the route's limit (413), runs its use case with the per-request caller, maps the result to 200 and errors as {@link toHttpError} says.
 *
 * @example return dispatch(req, ROUTES, (actor) => ({ ...deps, caller: { whoAmI: async () => actor } }));
 */
export async function dispatch(
  req: HttpRequest<APIGatewayProxyEvent>,
  routes: readonly Route[],
  depsFor: (actor: string) => AdminDeps,
): Promise<HttpResult> {
  const actor = callerOf(req.event);
  let pathMatched = false;
  for (const route of routes) {
    const params = matchPath(route.path, req.path);
    if (params === undefined) continue;
    pathMatched = true;
    if (route.method !== req.method) continue;
    const limit = route.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
    if (req.body !== undefined && Buffer.byteLength(req.body, 'utf8') > limit) throw payloadTooLarge(limit);
    try {
      const body = await route.run(
        {
          params,
          query: req.query,
          headers: req.headers,
          hasBody: req.body !== undefined,
          body: req.body,
          json: () => req.json(),
        },
        depsFor(actor),
      );
      return { statusCode: 200, body };
    } catch (error) {
      throw toHttpError(error);
    }
  }
  if (pathMatched) throw new HttpError(405, 'method_not_allowed', 'Method not allowed');
  throw notFound('route_not_found', 'Not found');
}

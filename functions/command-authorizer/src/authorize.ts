import type { APIGatewayAuthorizerResult, APIGatewayRequestAuthorizerEvent } from 'aws-lambda';
import * as z from 'zod';

/** Largest accepted `Authorization` header; Cognito access tokens are far below this. */
export const MAX_AUTHORIZATION_HEADER = 4096;

const VIN = /^[A-HJ-NPR-Z0-9]{17}$/;
const BEARER = /^Bearer ([A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+)$/;
const METHOD_ARN =
  /^arn:(aws[a-z-]*):execute-api:([a-z0-9-]+):(\d{12}):([a-z0-9]+)\/([A-Za-z0-9_-]+)\/([A-Z]+)\/(.*)$/;
/** The two routes of the user API, as they appear at the end of the method ARN. */
const ROUTE = /^vehicles\/([^/]*)\/commands(?:\/([^/]+))?$/;

/**
 * A vehicle-access row (docs/architecture.md §3, docs/commands.md "Vehicle access rows"), validated; anything else is no access.
 * The table also holds one ownership marker per vehicle (`userSub = "vehicle#<VIN>"`, `kind = "vehicle"`, no
 * `commands`): it fails this schema, so it never grants anything.
 */
export const accessRowSchema = z.object({
  userSub: z.string(),
  vin: z.string().regex(VIN),
  kind: z.literal('access').optional(),
  role: z.enum(['owner', 'driver', 'fleet-operator']).optional(),
  commands: z
    .array(
      z
        .string()
        .regex(/^(\*|[a-z]+(\.[a-z]+)*)$/)
        .max(64),
    )
    .min(1)
    .max(64),
  validUntil: z.number().int().optional(),
});
export type AccessRow = z.infer<typeof accessRowSchema>;

export interface AuthorizeDeps {
  /** Verifies a Cognito access token (signature, issuer, client id, scope, exp/nbf); throws if not valid. */
  verifyAccessToken(token: string): Promise<{ sub: string; exp: number }>;
  /** The user's vehicle-access row for one vehicle (unvalidated item), `undefined` if there is none. */
  accessRow(userSub: string, vin: string): Promise<unknown>;
  /** Milliseconds since the epoch. */
  now(): number;
}

export type AuthorizeOutcome =
  | { effect: 'Allow'; result: APIGatewayAuthorizerResult; vin: string }
  | { effect: 'Deny'; result: APIGatewayAuthorizerResult; reason: string }
  | { effect: 'Unauthorized'; reason: string };

/** The error's class name (aws-jwt-verify errors do not set `name`; esbuild keeps class names). */
function errorName(error: unknown): string {
  if (!(error instanceof Error)) return 'unknown';
  return error.name !== 'Error' ? error.name : error.constructor.name;
}

function header(event: APIGatewayRequestAuthorizerEvent, name: string): string[] {
  const values: string[] = [];
  for (const [k, v] of Object.entries(event.headers ?? {})) if (k.toLowerCase() === name && v) values.push(v);
  for (const [k, vs] of Object.entries(event.multiValueHeaders ?? {})) {
    if (k.toLowerCase() === name && vs && vs.length > 1) values.push(...vs.slice(1));
  }
  return values;
}

function deny(principalId: string, methodArn: string, reason: string): AuthorizeOutcome {
  return {
    effect: 'Deny',
    reason,
    result: {
      principalId,
      policyDocument: {
        Version: '2012-10-17',
        Statement: [{ Action: 'execute-api:Invoke', Effect: 'Deny', Resource: [methodArn] }],
      },
    },
  };
}

/**
 * The vehicle a request is for, taken from the method ARN (what API Gateway evaluates the policy against) and
 * required to equal the `vin` path parameter (what the identity source caches on and the sender reads). Only the
 * canonical form is accepted: 17 upper-case VIN characters, nothing encoded, no extra segments.
 */
function requestedVin(
  event: APIGatewayRequestAuthorizerEvent,
  method: string,
  rest: string,
): string | undefined {
  const route = ROUTE.exec(rest);
  if (route === null) return undefined;
  const [, vin = '', commandId] = route;
  if (!VIN.test(vin)) return undefined;
  if (!((method === 'POST' && commandId === undefined) || (method === 'GET' && commandId !== undefined)))
    return undefined;
  if (event.pathParameters?.vin !== vin) return undefined;
  return vin;
}

/**
 * The REQUEST authorizer's decision (docs/architecture.md §6, docs/commands.md): one decision per (token, vehicle). The identity
 * source is the `Authorization` header AND the `vin` path parameter, so API Gateway caches a decision per vehicle;
 * the policy's resources are exactly that vehicle's two command routes, so even a decision served for another
 * request can never grant another vehicle. One `GetItem` per decision, whatever the number of vehicles the user
 * has. The context carries `sub`, `vehicles` (JSON: VIN -> allowed commands), `validUntil` (JSON: VIN -> epoch
 * seconds, when the row has one) and `tokenExp`; the command-sender re-checks all of them, and re-reads the row,
 * because the cached decision may outlive them.
 */
export async function authorize(
  event: APIGatewayRequestAuthorizerEvent,
  deps: AuthorizeDeps,
): Promise<AuthorizeOutcome> {
  const arn = METHOD_ARN.exec(event.methodArn ?? '');
  if (arn === null) return { effect: 'Unauthorized', reason: 'malformed methodArn' };
  const [, partition, region, account, apiId, stage, method = '', rest = ''] = arn;

  const values = header(event, 'authorization');
  if (values.length !== 1)
    return { effect: 'Unauthorized', reason: `expected one Authorization header, got ${values.length}` };
  const value = values[0] ?? '';
  if (value.length > MAX_AUTHORIZATION_HEADER)
    return { effect: 'Unauthorized', reason: 'Authorization header too large' };
  const bearer = BEARER.exec(value);
  if (bearer === null) return { effect: 'Unauthorized', reason: 'Authorization is not "Bearer <JWT>"' };

  let sub: string;
  let exp: number;
  try {
    ({ sub, exp } = await deps.verifyAccessToken(bearer[1] ?? ''));
  } catch (error) {
    return { effect: 'Unauthorized', reason: `token rejected: ${errorName(error)}` };
  }

  const vin = requestedVin(event, method, rest);
  if (vin === undefined) return deny(sub, event.methodArn, 'not a vehicle command route');

  let item: unknown;
  try {
    item = await deps.accessRow(sub, vin);
  } catch (error) {
    return { effect: 'Unauthorized', reason: `vehicle-access lookup failed: ${errorName(error)}` };
  }
  if (item === undefined) return deny(sub, event.methodArn, 'no access to this vehicle');
  const row = accessRowSchema.safeParse(item);
  if (!row.success || row.data.userSub !== sub || row.data.vin !== vin)
    return deny(sub, event.methodArn, 'malformed vehicle-access row');
  const nowSeconds = Math.floor(deps.now() / 1000);
  if (row.data.validUntil !== undefined && row.data.validUntil <= nowSeconds)
    return deny(sub, event.methodArn, 'vehicle access expired');

  const base = `arn:${partition}:execute-api:${region}:${account}:${apiId}/${stage}`;
  return {
    effect: 'Allow',
    vin,
    result: {
      principalId: sub,
      policyDocument: {
        Version: '2012-10-17',
        Statement: [
          {
            Action: 'execute-api:Invoke',
            Effect: 'Allow',
            Resource: [`${base}/POST/vehicles/${vin}/commands`, `${base}/GET/vehicles/${vin}/commands/*`],
          },
        ],
      },
      context: {
        sub,
        vehicles: JSON.stringify({ [vin]: row.data.commands }),
        validUntil: JSON.stringify(row.data.validUntil === undefined ? {} : { [vin]: row.data.validUntil }),
        tokenExp: exp,
      },
    },
  };
}

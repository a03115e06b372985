import type { APIGatewayAuthorizerResult, APIGatewayRequestAuthorizerEvent } from 'aws-lambda';
import * as z from 'zod';

/** Largest accepted `Authorization` header; Cognito access tokens are far below this. */
export const MAX_AUTHORIZATION_HEADER = 4096;
/**
 * Most vehicles put into one policy. The authorizer response (policy + context) must stay
 * well under API Gateway's size limit (about 250 bytes per vehicle: 25 vehicles stay under
 * 8 KiB); a user with more rows gets the first ones (in VIN order) and a warning is logged.
 * Fails closed: never a wildcard instead.
 */
export const MAX_VEHICLES = 25;

const VIN = /^[A-HJ-NPR-Z0-9]{17}$/;
const BEARER = /^Bearer ([A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+)$/;
const METHOD_ARN =
  /^arn:(aws[a-z-]*):execute-api:([a-z0-9-]+):(\d{12}):([a-z0-9]+)\/([A-Za-z0-9_-]+)\/[A-Z]+\/.*$/;

/** A vehicle-access row (docs/architecture.md §3), validated; malformed rows are dropped. */
export const accessRowSchema = z.object({
  userSub: z.string(),
  vin: z.string().regex(VIN),
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
  /** All vehicle-access rows of a user (unvalidated items). */
  accessRows(userSub: string): Promise<unknown[]>;
  /** Milliseconds since the epoch. */
  now(): number;
}

export type AuthorizeOutcome =
  | {
      effect: 'Allow';
      result: APIGatewayAuthorizerResult;
      vehicles: number;
      dropped: number;
      truncated: boolean;
    }
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

/**
 * The REQUEST authorizer's decision (docs/architecture.md §6). The policy's resources are exactly the
 * permitted vehicles' command routes, so a decision cached by API Gateway for this token
 * can never grant another vehicle. The context carries `sub`, `vehicles` (JSON: VIN ->
 * allowed commands), `validUntil` (JSON: VIN -> epoch seconds, where a row has one) and
 * `tokenExp`, which the command-sender re-checks because the cached decision may outlive them.
 */
export async function authorize(
  event: APIGatewayRequestAuthorizerEvent,
  deps: AuthorizeDeps,
): Promise<AuthorizeOutcome> {
  const arn = METHOD_ARN.exec(event.methodArn ?? '');
  if (arn === null) return { effect: 'Unauthorized', reason: 'malformed methodArn' };
  const [, partition, region, account, apiId, stage] = arn;

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

  let items: unknown[];
  try {
    items = await deps.accessRows(sub);
  } catch (error) {
    return { effect: 'Unauthorized', reason: `vehicle-access lookup failed: ${errorName(error)}` };
  }
  const nowSeconds = Math.floor(deps.now() / 1000);
  const rows: AccessRow[] = [];
  let dropped = 0;
  for (const item of items) {
    const row = accessRowSchema.safeParse(item);
    if (!row.success || row.data.userSub !== sub) {
      dropped++;
      continue;
    }
    if (row.data.validUntil !== undefined && row.data.validUntil <= nowSeconds) continue;
    rows.push(row.data);
  }
  rows.sort((a, b) => (a.vin < b.vin ? -1 : a.vin > b.vin ? 1 : 0));
  const permitted = rows.slice(0, MAX_VEHICLES);

  if (permitted.length === 0) {
    return {
      effect: 'Deny',
      reason: 'no vehicles',
      result: {
        principalId: sub,
        policyDocument: {
          Version: '2012-10-17',
          Statement: [{ Action: 'execute-api:Invoke', Effect: 'Deny', Resource: [event.methodArn] }],
        },
      },
    };
  }

  const base = `arn:${partition}:execute-api:${region}:${account}:${apiId}/${stage}`;
  const vehicles: Record<string, string[]> = {};
  const validUntil: Record<string, number> = {};
  const resources: string[] = [];
  for (const row of permitted) {
    vehicles[row.vin] = row.commands;
    if (row.validUntil !== undefined) validUntil[row.vin] = row.validUntil;
    resources.push(`${base}/POST/vehicles/${row.vin}/commands`, `${base}/GET/vehicles/${row.vin}/commands/*`);
  }
  return {
    effect: 'Allow',
    vehicles: permitted.length,
    dropped,
    truncated: rows.length > permitted.length,
    result: {
      principalId: sub,
      policyDocument: {
        Version: '2012-10-17',
        Statement: [{ Action: 'execute-api:Invoke', Effect: 'Allow', Resource: resources }],
      },
      context: {
        sub,
        vehicles: JSON.stringify(vehicles),
        validUntil: JSON.stringify(validUntil),
        tokenExp: exp,
      },
    },
  };
}

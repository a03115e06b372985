import * as z from 'zod';
import { VIN } from './catalog.js';

/**
 * The caller as the command-authorizer described it in the REST API authorizer context
 * (values are strings there, hence JSON): `sub`; `vehicles`: VIN -> allowed command names
 * (or `["*"]`); `validUntil`: VIN -> epoch seconds for rows that expire; `tokenExp`: the
 * access token's expiry. The last two are re-checked here because API Gateway may serve a
 * cached authorizer decision for up to its result TTL.
 */
export interface Principal {
  sub: string;
  vehicles: ReadonlyMap<string, readonly string[]>;
  validUntil?: ReadonlyMap<string, number>;
  tokenExp?: number;
}

const epoch = z.union([z.number(), z.string().regex(/^\d{1,12}$/)]).transform(Number);
const contextSchema = z.object({
  sub: z.string().min(1).max(256),
  vehicles: z.string().max(64 * 1024),
  validUntil: z
    .string()
    .max(64 * 1024)
    .optional(),
  tokenExp: epoch.optional(),
});
const vehiclesSchema = z.record(z.string().regex(VIN), z.array(z.string().max(64)).max(64));
const validUntilSchema = z.record(z.string().regex(VIN), z.number().int());

function json(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** Parse the authorizer context; `undefined` if it is missing or malformed. */
export function parsePrincipal(authorizer: unknown): Principal | undefined {
  const ctx = contextSchema.safeParse(authorizer);
  if (!ctx.success) return undefined;
  const vehicles = vehiclesSchema.safeParse(json(ctx.data.vehicles));
  if (!vehicles.success) return undefined;
  const validUntil = validUntilSchema.safeParse(
    ctx.data.validUntil === undefined ? {} : json(ctx.data.validUntil),
  );
  if (!validUntil.success) return undefined;
  return {
    sub: ctx.data.sub,
    vehicles: new Map(Object.entries(vehicles.data)),
    validUntil: new Map(Object.entries(validUntil.data)),
    ...(ctx.data.tokenExp === undefined ? {} : { tokenExp: ctx.data.tokenExp }),
  };
}

/**
 * Whether the principal may send `command` to `vin` at `nowSeconds` (`command` undefined:
 * any command, e.g. to read a command's status).
 */
export function mayCommand(principal: Principal, vin: string, nowSeconds: number, command?: string): boolean {
  if (principal.tokenExp !== undefined && principal.tokenExp <= nowSeconds) return false;
  const until = principal.validUntil?.get(vin);
  if (until !== undefined && until <= nowSeconds) return false;
  const allowed = principal.vehicles.get(vin);
  if (allowed === undefined) return false;
  if (command === undefined) return allowed.length > 0;
  return allowed.includes('*') || allowed.includes(command);
}

/**
 * Whether the current grant (re-read on every request) still allows `command` on `vin` at `nowSeconds`; the cached
 * authorizer context alone is not enough, it may predate a revocation.
 */
export function grantAllows(
  grant: { commands: readonly string[]; validUntil?: number } | undefined,
  nowSeconds: number,
  command?: string,
): boolean {
  if (grant === undefined) return false;
  if (grant.validUntil !== undefined && grant.validUntil <= nowSeconds) return false;
  if (command === undefined) return grant.commands.length > 0;
  return grant.commands.includes('*') || grant.commands.includes(command);
}

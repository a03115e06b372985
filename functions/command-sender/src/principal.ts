import { z } from 'zod';
import { VIN } from './catalog.js';

/**
 * The caller as the command-authorizer described it in the REST API authorizer context:
 * `sub`, and `vehicles`: a JSON-encoded map VIN -> allowed command names (or `["*"]`).
 * Context values must be strings, hence the JSON encoding.
 */
export interface Principal {
  sub: string;
  vehicles: ReadonlyMap<string, readonly string[]>;
}

const contextSchema = z.object({ sub: z.string().min(1).max(256), vehicles: z.string().max(64 * 1024) });
const vehiclesSchema = z.record(z.string().regex(VIN), z.array(z.string().max(64)).max(64));

/** Parse the authorizer context; `undefined` if it is missing or malformed. */
export function parsePrincipal(authorizer: unknown): Principal | undefined {
  const ctx = contextSchema.safeParse(authorizer);
  if (!ctx.success) return undefined;
  let json: unknown;
  try {
    json = JSON.parse(ctx.data.vehicles);
  } catch {
    return undefined;
  }
  const vehicles = vehiclesSchema.safeParse(json);
  if (!vehicles.success) return undefined;
  return { sub: ctx.data.sub, vehicles: new Map(Object.entries(vehicles.data)) };
}

/** Whether the principal may send `command` to `vin` (`command` undefined: any command, e.g. to read status). */
export function mayCommand(principal: Principal, vin: string, command?: string): boolean {
  const allowed = principal.vehicles.get(vin);
  if (allowed === undefined) return false;
  if (command === undefined) return allowed.length > 0;
  return allowed.includes('*') || allowed.includes(command);
}

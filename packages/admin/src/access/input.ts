import { InvalidInputError } from '../errors.js';
import { type AccessRole, ROLES } from './ports.js';

/** A VIN as the authorizer and the sender accept it: 17 upper-case characters, no I, O or Q. */
export const VIN = /^[A-HJ-NPR-Z0-9]{17}$/;
/** A Cognito user's `sub` (a UUID, lower case): never the `vehicle#` marker's key. */
export const USER_SUB = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
/** A command name of the catalogue (docs/commands.md) or `*`, as the authorizer's row schema accepts it. */
const COMMAND = /^(\*|[a-z]+(\.[a-z]+)*)$/;
/** The longest a driver's access may run: one year. */
export const MAX_DRIVER_SECONDS = 366 * 24 * 3600;

export function vinOf(value: unknown, field = 'vin'): string {
  if (typeof value !== 'string' || !VIN.test(value)) {
    throw new InvalidInputError(field, `${field} must be a 17-character VIN (upper case, no I, O or Q)`);
  }
  return value;
}

export function userSubOf(value: unknown, field = 'userSub'): string {
  if (typeof value !== 'string' || !USER_SUB.test(value)) {
    throw new InvalidInputError(field, `${field} must be a user's sub (a lower-case UUID)`);
  }
  return value;
}

export function roleOf(value: unknown): AccessRole {
  if (typeof value !== 'string' || !(ROLES as readonly string[]).includes(value)) {
    throw new InvalidInputError('role', `role must be one of ${ROLES.join(', ')}`);
  }
  return value as AccessRole;
}

/** `undefined` -> `["*"]`; else 1 to 64 distinct command names (or `*`). */
export function commandsOf(value: unknown): string[] {
  if (value === undefined) return ['*'];
  const list = typeof value === 'string' ? value.split(',') : value;
  if (
    !Array.isArray(list) ||
    list.length === 0 ||
    list.length > 64 ||
    !list.every((c) => typeof c === 'string' && c.length <= 64 && COMMAND.test(c))
  ) {
    throw new InvalidInputError('commands', 'commands must be 1 to 64 command names (e.g. door.lock) or *');
  }
  return [...new Set(list as string[])].sort();
}

/** Epoch seconds, or an ISO 8601 date-time with a zone; `undefined` stays `undefined`. */
export function instantOf(value: unknown, field: string): number | undefined {
  if (value === undefined) return undefined;
  if (typeof value === 'number' && Number.isInteger(value) && value > 0 && value < 1e11) return value;
  if (
    typeof value === 'string' &&
    /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,3})?)?(Z|[+-]\d{2}:\d{2})$/.test(value)
  ) {
    const ms = Date.parse(value);
    if (Number.isFinite(ms)) return Math.floor(ms / 1000);
  }
  throw new InvalidInputError(field, `${field} must be an ISO 8601 date-time with a zone, or epoch seconds`);
}

/** The audit target of a vehicle action (`vehicle:<VIN>`), safe for whatever the caller sent as the VIN. */
export function vehicleTarget(vin: unknown): string {
  return `vehicle:${typeof vin === 'string' && VIN.test(vin) ? vin : 'invalid'}`;
}

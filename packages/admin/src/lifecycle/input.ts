import { InvalidInputError } from '../errors.js';

/** An ECU id as the registry and the thing names use it (`<VIN>_<ecuId>`). */
export const ECU_ID = /^[A-Za-z0-9-]{1,40}$/;
// biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what this rejects
const CONTROL = /[\u0000-\u001f\u007f]/;

export function ecuIdOf(value: unknown, field = 'ecuId'): string {
  if (typeof value !== 'string' || !ECU_ID.test(value)) {
    throw new InvalidInputError(field, `${field} must be 1 to 40 of [A-Za-z0-9-]`);
  }
  return value;
}

export function reasonOf(value: unknown): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || value.length === 0 || value.length > 512 || CONTROL.test(value)) {
    throw new InvalidInputError('reason', 'reason must be 1 to 512 printable characters');
  }
  return value;
}

/** The audit target of an ECU action (`ecu:<ecuId>`), safe for whatever the caller sent. */
export function ecuTarget(ecuId: unknown): string {
  return `ecu:${typeof ecuId === 'string' && ECU_ID.test(ecuId) ? ecuId : 'invalid'}`;
}

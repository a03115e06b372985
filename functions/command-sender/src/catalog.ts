import * as z from 'zod';

const noArgs = z.strictObject({});

/**
 * The command catalog (docs/architecture.md §6): one strict schema per command, so an unknown command or
 * any extra argument is a 400.
 */
export const COMMAND_CATALOG = {
  'door.lock': noArgs,
  'door.unlock': noArgs,
  'windows.up': noArgs,
  'windows.down': noArgs,
  'engine.start': z.strictObject({ durationMin: z.number().int().min(1).max(15) }),
  'engine.stop': noArgs,
  locate: noArgs,
  'climate.start': z.strictObject({ temperatureC: z.number().min(16).max(30) }),
  'climate.stop': noArgs,
  'horn.flash': noArgs,
} as const;

export type CommandName = keyof typeof COMMAND_CATALOG;

export function isCommandName(name: string): name is CommandName {
  return Object.hasOwn(COMMAND_CATALOG, name);
}

export const ECU_ID = /^[A-Za-z0-9-]{1,40}$/;
export const VIN = /^[A-HJ-NPR-Z0-9]{17}$/;
export const COMMAND_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
export const IDEMPOTENCY_KEY = /^[A-Za-z0-9._:-]{1,128}$/;

/** The POST body before the per-command argument check. */
export const commandRequestSchema = z.strictObject({
  command: z.string().max(64),
  args: z.record(z.string(), z.unknown()).optional(),
  ecuId: z.string().regex(ECU_ID).optional(),
});

export interface ValidCommandRequest {
  command: CommandName;
  args: Record<string, unknown>;
  ecuId?: string;
}

/** Parse the POST body: shape, known command, that command's arguments. `undefined` plus a reason if not. */
export function parseCommandRequest(
  body: unknown,
): { ok: true; value: ValidCommandRequest } | { ok: false; code: string; message: string } {
  const shape = commandRequestSchema.safeParse(body);
  if (!shape.success)
    return { ok: false, code: 'invalid_request', message: 'Expected { command, args, ecuId? }' };
  const { command, ecuId } = shape.data;
  if (!isCommandName(command)) return { ok: false, code: 'unknown_command', message: 'Unknown command' };
  const args = COMMAND_CATALOG[command].safeParse(shape.data.args ?? {});
  if (!args.success) {
    return { ok: false, code: 'invalid_args', message: `Invalid arguments for ${command}` };
  }
  return { ok: true, value: { command, args: args.data, ...(ecuId === undefined ? {} : { ecuId }) } };
}

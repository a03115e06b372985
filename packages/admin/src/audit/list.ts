import * as z from 'zod';
import type { AuditQueryPort, StoredAuditEntry } from '../audit.js';
import { InvalidInputError } from '../errors.js';
import type { Clock } from '../ports.js';

export interface AuditListInput {
  readonly target?: string | undefined;
  readonly actor?: string | undefined;
  /** ISO-8601; default: seven days before `until`. */
  readonly since?: string | undefined;
  /** ISO-8601; default: now. */
  readonly until?: string | undefined;
  /** 1 to 1000; default 100. */
  readonly limit?: string | number | undefined;
}

export interface AuditListDeps {
  readonly auditQuery: AuditQueryPort;
  readonly clock: Clock;
}

export interface AuditListResult {
  readonly entries: readonly (Omit<StoredAuditEntry, 'at'> & { at: string })[];
}

const DAY_MS = 86_400_000;
const DEFAULT_DAYS = 7;
const MAX_DAYS = 400;
// biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what this rejects
const PRINTABLE = /^[^\u0000-\u001f\u007f]{1,512}$/;
const instant = z.iso.datetime({ offset: true });

const InputSchema = z.strictObject({
  target: z.string().regex(PRINTABLE).optional(),
  actor: z.string().regex(PRINTABLE).optional(),
  since: instant.optional(),
  until: instant.optional(),
  limit: z.coerce.number().int().min(1).max(1000).optional(),
});

/**
 * Lists the admin audit trail, newest first: one target's history (`target`), one principal's actions (`actor`), or
 * everything in a time window (neither). The window defaults to the last seven days and may not exceed 400 days.
 *
 * @example await listAudit({ target: 'supplier:acme', since: '2026-12-01T00:00:00Z' }, deps);
 */
export async function listAudit(input: AuditListInput, deps: AuditListDeps): Promise<AuditListResult> {
  const parsed = InputSchema.safeParse(input);
  if (!parsed.success) {
    const field = String(parsed.error.issues[0]?.path[0] ?? 'input');
    throw new InvalidInputError(field, `${field} is invalid`);
  }
  const { target, actor, since, until, limit } = parsed.data;
  if (target !== undefined && actor !== undefined) {
    throw new InvalidInputError('target', 'give --target or --actor, not both');
  }
  const end = until === undefined ? deps.clock.now() : new Date(until);
  const start = since === undefined ? new Date(end.getTime() - DEFAULT_DAYS * DAY_MS) : new Date(since);
  if (start.getTime() > end.getTime()) throw new InvalidInputError('since', 'since is after until');
  if (end.getTime() - start.getTime() > MAX_DAYS * DAY_MS) {
    throw new InvalidInputError('since', `the window may span at most ${MAX_DAYS} days`);
  }
  const entries = await deps.auditQuery.list({
    target,
    actor,
    since: start,
    until: end,
    limit: limit ?? 100,
  });
  return { entries: entries.map((e) => ({ ...e, at: e.at.toISOString() })) };
}

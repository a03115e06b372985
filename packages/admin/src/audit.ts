/**
 * The admin audit trail: every operator action (who, what, on which target, when, with what outcome) is recorded
 * through {@link AuditLogPort}. The DynamoDB adapter is src/adapters/audit-log.ts; `cv-admin audit list` reads it back.
 */

export type AdminOutcome = 'succeeded' | 'unchanged' | 'refused' | 'failed';

export interface AdminAuditEntry {
  /** The caller's principal (an IAM ARN from STS, or the admin API's SigV4 principal). */
  readonly actor: string;
  /** What was done, `<group>.<verb>` (e.g. `supplier.add`, `manifest.import`). */
  readonly action: string;
  /** What it was done to, `<kind>:<id>` (e.g. `supplier:acme-tier1`, `manifest:<sha256>`). */
  readonly target: string;
  readonly outcome: AdminOutcome;
  readonly at: Date;
  /** Counts, reason codes, fingerprints: never a secret (see {@link safeAuditDetail}). */
  readonly detail?: Readonly<Record<string, string | number | boolean>>;
}

export interface AuditLogPort {
  record(entry: AdminAuditEntry): Promise<void>;
}

/** A recorded entry as read back (its id makes two entries of the same millisecond distinct). */
export interface StoredAuditEntry extends AdminAuditEntry {
  readonly id: string;
}

export interface AuditQuery {
  /** Entries of one target, or of one actor; neither: all entries in the time window. */
  readonly target?: string | undefined;
  readonly actor?: string | undefined;
  readonly since: Date;
  readonly until: Date;
  readonly limit: number;
}

/** Reads the trail back, newest first. */
export interface AuditQueryPort {
  list(query: AuditQuery): Promise<StoredAuditEntry[]>;
}

const MAX_DETAIL_KEYS = 32;
const MAX_TEXT = 512;
const DETAIL_KEY = /^[A-Za-z][A-Za-z0-9_.-]{0,63}$/;
/** Key names that announce a secret; a fingerprint or key id is named `...Sha256`/`...Id` and is allowed. */
const SECRET_KEY = /secret|passw|passphrase|token|credential|private|session|authorization|cookie|^key$/i;
/** Values that are secrets whatever their key: PEM blocks, JWTs. */
const SECRET_FORM = /-----BEGIN|PRIVATE KEY|eyJ[\w-]{2,}\.[\w-]{2,}\./;
/** A 40-character base64 run (an AWS secret access key's form); hex digests (SHA-1 key ids) are not it. */
const BASE64_40 = /(?<![A-Za-z0-9/+])[A-Za-z0-9/+]{40}(?![A-Za-z0-9/+])/g;

function looksSecret(value: string): boolean {
  if (SECRET_FORM.test(value)) return true;
  for (const [run] of value.matchAll(BASE64_40)) {
    if (!/^[0-9a-fA-F]+$/.test(run) && /[a-z]/.test(run) && /[A-Z]/.test(run)) return true;
  }
  return false;
}
/** C0, DEL and C1 controls, and the line and paragraph separators: nothing that starts a new log line. */
const CONTROL = /[\p{Cc}\u2028\u2029]/gu;

export const REDACTED = '[redacted]';

/** One line of text without control characters, at most 512 characters: what a log reader can trust not to forge lines. */
export function auditText(value: string): string {
  const clean = value.replace(CONTROL, ' ');
  return clean.length > MAX_TEXT ? `${clean.slice(0, MAX_TEXT - 1)}…` : clean;
}

/**
 * The detail as stored: at most 32 keys of `[A-Za-z][A-Za-z0-9_.-]*` (others dropped), strings cut to one printable
 * line of 512 characters, non-finite numbers dropped, and any value that is or looks like a secret (by its key's name
 * or by its form: a PEM block, a JWT, an AWS secret access key) replaced by `[redacted]`.
 *
 * @example safeAuditDetail({ written: 3, privateKey: '-----BEGIN ...' }) // { written: 3, privateKey: '[redacted]' }
 */
export function safeAuditDetail(
  detail: Readonly<Record<string, string | number | boolean>> | undefined,
): Record<string, string | number | boolean> {
  const out: Record<string, string | number | boolean> = {};
  if (detail === undefined) return out;
  let kept = 0;
  for (const [key, value] of Object.entries(detail)) {
    if (kept >= MAX_DETAIL_KEYS) break;
    if (!DETAIL_KEY.test(key)) continue;
    if (typeof value === 'number' && !Number.isFinite(value)) continue;
    if (typeof value !== 'string' && typeof value !== 'number' && typeof value !== 'boolean') continue;
    kept += 1;
    if (SECRET_KEY.test(key) && !/(Sha256|Id|Ids|Count)$/.test(key)) {
      out[key] = REDACTED;
    } else if (typeof value === 'string') {
      out[key] = looksSecret(value) ? REDACTED : auditText(value);
    } else {
      out[key] = value;
    }
  }
  return out;
}

/** What an audited operation reports: its outcome and the detail to record with it. */
export interface Audited<T> {
  readonly outcome: 'succeeded' | 'unchanged';
  readonly result: T;
  readonly detail?: Readonly<Record<string, string | number | boolean>>;
}

export interface AuditContext {
  readonly audit: AuditLogPort;
  readonly actor: string;
  readonly now: () => Date;
}

/**
 * Runs an operator action and records it: `succeeded`/`unchanged` as the action reports, `refused` when it throws
 * an error the `isRefusal` predicate accepts (validation, conflicts: the error's `code` is recorded), `failed` for
 * anything else (the error's class name only, no message). The action's error is rethrown after the record.
 *
 * @example
 * await audited(ctx, 'supplier.add', `supplier:${id}`, async () => ({ outcome: 'succeeded', result }), isAdminError);
 */
export async function audited<T>(
  ctx: AuditContext,
  action: string,
  target: string,
  run: () => Promise<Audited<T>>,
  isRefusal: (error: unknown) => error is Error & { code: string },
): Promise<T> {
  let done: Audited<T>;
  try {
    done = await run();
  } catch (error) {
    const refused = isRefusal(error);
    // The action's own error wins over a failure to record it: the operator must see what went wrong first.
    await ctx.audit
      .record({
        actor: ctx.actor,
        action,
        target,
        outcome: refused ? 'refused' : 'failed',
        at: ctx.now(),
        detail: refused
          ? { reason: error.code }
          : { error: error instanceof Error ? error.constructor.name : 'unknown' },
      })
      .catch(() => undefined);
    throw error;
  }
  await ctx.audit.record({
    actor: ctx.actor,
    action,
    target,
    outcome: done.outcome,
    at: ctx.now(),
    ...(done.detail === undefined ? {} : { detail: done.detail }),
  });
  return done.result;
}

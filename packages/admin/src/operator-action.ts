import { type Audited, type AuditLogPort, audited } from './audit.js';
import { type AdminError, InvalidInputError, NotFoundError, RefusedError, UsageError } from './errors.js';
import type { CallerPort, Clock } from './ports.js';

/** What every audited operator use case needs besides its own ports. */
export interface OperatorDeps {
  readonly audit: AuditLogPort;
  readonly caller: CallerPort;
  readonly clock: Clock;
}

/** A refusal (bad input, unknown target, a rule that says no) as opposed to a failure. */
export function isRefusal(error: unknown): error is AdminError {
  return (
    error instanceof InvalidInputError ||
    error instanceof NotFoundError ||
    error instanceof RefusedError ||
    error instanceof UsageError
  );
}

/**
 * Runs an operator action through the audit trail (src/audit.ts `audited`) as the caller's principal: succeeded or
 * unchanged as the action reports, refused with its code, failed with its error class.
 *
 * @example return operatorAction(deps, 'access.revoke', `vehicle:${vin}`, async () => ({ outcome: 'succeeded', result }));
 */
export async function operatorAction<T>(
  deps: OperatorDeps,
  action: string,
  target: string,
  run: () => Promise<Audited<T>>,
): Promise<T> {
  const actor = await deps.caller.whoAmI();
  return audited({ audit: deps.audit, actor, now: () => deps.clock.now() }, action, target, run, isRefusal);
}

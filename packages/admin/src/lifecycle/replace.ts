import { vinOf } from '../access/input.js';
import { NotFoundError, RefusedError } from '../errors.js';
import { operatorAction } from '../operator-action.js';
import { type DecommissionDeps, type RetiredEcu, retireEcu } from './decommission.js';
import { ecuIdOf, ecuTarget, reasonOf } from './input.js';

export interface ReplaceInput {
  readonly vin: unknown;
  readonly ecuId: unknown;
  /** The replacement: registered for this VIN and role (e.g. by the factory manifest import), not yet enrolled. */
  readonly newEcuId: unknown;
  readonly reason?: unknown;
}

export interface ReplaceResult {
  readonly outcome: 'replaced' | 'unchanged';
  readonly vin: string;
  readonly role: string;
  readonly replacement: string;
  readonly retired: RetiredEcu;
}

/**
 * Replaces an ECU of a vehicle with a new ECU id for the same role: the new ECU's registry row must exist for this
 * VIN and role and be `ACTIVE` (it then enrols through cert-broker as any new ECU); the rows are linked
 * (`replacedBy`, `replaces`) and the old ECU is decommissioned as {@link decommissionEcu} does. Refused for an ECU
 * of another vehicle (`not_found`, no oracle), another role (`role_mismatch`), or an old ECU already replaced by
 * another one (`already_replaced`). Safe to re-run after a partial failure.
 *
 * @example await replaceEcu({ vin, ecuId: 'TCU-00042', newEcuId: 'TCU-00977' }, deps);
 */
export async function replaceEcu(input: ReplaceInput, deps: DecommissionDeps): Promise<ReplaceResult> {
  return operatorAction<ReplaceResult>(deps, 'ecu.replace', ecuTarget(input.ecuId), async () => {
    const vin = vinOf(input.vin);
    const ecuId = ecuIdOf(input.ecuId);
    const newEcuId = ecuIdOf(input.newEcuId, 'newEcuId');
    const reason = reasonOf(input.reason);
    if (ecuId === newEcuId) throw new RefusedError('same_ecu', 'an ECU cannot replace itself');
    const old = await deps.lifecycle.get(ecuId);
    if (old === undefined || old.vin !== vin) throw new NotFoundError(`no ECU ${ecuId} in vehicle ${vin}`);
    const replacement = await deps.lifecycle.get(newEcuId);
    if (replacement === undefined || replacement.vin !== vin) {
      throw new NotFoundError(`no registry row for ECU ${newEcuId} in vehicle ${vin}: import it first`);
    }
    if (replacement.role !== old.role) {
      throw new RefusedError('role_mismatch', `ECU ${newEcuId} is a ${replacement.role}, not a ${old.role}`);
    }
    if (replacement.status !== 'ACTIVE') {
      throw new RefusedError('ecu_not_active', `ECU ${newEcuId} is ${replacement.status}`);
    }
    if (old.replacedBy !== undefined && old.replacedBy !== newEcuId) {
      throw new RefusedError('already_replaced', `ECU ${ecuId} was replaced by ${old.replacedBy}`);
    }
    const record = { by: await deps.caller.whoAmI(), at: deps.clock.now(), reason };
    let changed = false;
    if (old.replacedBy === undefined) {
      if (!(await deps.lifecycle.recordReplacement(ecuId, newEcuId, record))) {
        throw new RefusedError('already_replaced', `ECU ${ecuId} was replaced concurrently`);
      }
      changed = true;
    }
    const retired = await retireEcu(old, record, deps);
    changed = changed || retired.outcome === 'decommissioned';
    return {
      outcome: changed ? 'succeeded' : 'unchanged',
      result: {
        outcome: changed ? 'replaced' : 'unchanged',
        vin,
        role: old.role,
        replacement: newEcuId,
        retired,
      },
      detail: { vin, newEcuId },
    };
  });
}

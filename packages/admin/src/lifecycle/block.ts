import { NotFoundError, RefusedError } from '../errors.js';
import type { OperatorDeps } from '../operator-action.js';
import { operatorAction } from '../operator-action.js';
import { ecuIdOf, ecuTarget, reasonOf } from './input.js';
import type { EcuDevicePort, LifecycleEcuRow, LifecycleRegistryPort } from './ports.js';

export interface LifecycleDeps extends OperatorDeps {
  readonly lifecycle: LifecycleRegistryPort;
  readonly devices: EcuDevicePort;
}

export interface BlockInput {
  readonly ecuId: unknown;
  readonly reason?: unknown;
}

export interface BlockResult {
  readonly outcome: 'blocked' | 'unblocked' | 'unchanged';
  readonly ecuId: string;
  readonly status: string;
  /** Whether the ECU's thing is in the quarantine group (IoT denies it everything). */
  readonly quarantined: boolean;
}

export const thingOf = (row: LifecycleEcuRow) => row.thingName ?? `${row.vin}_${row.ecuId}`;

async function rowOf(ecuId: string, deps: LifecycleDeps): Promise<LifecycleEcuRow> {
  const row = await deps.lifecycle.get(ecuId);
  if (row === undefined) throw new NotFoundError(`no ECU registry row for ${ecuId}`);
  return row;
}

/**
 * Blocks an ECU: its registry row becomes `BLOCKED` (cert-broker refuses it, jitr-handler activates nothing for it,
 * the command-sender never targets it) and its thing joins the quarantine group (IoT denies it everything, now).
 * Its certificates are left as they are, so unblocking needs no re-enrolment. Idempotent: each step checks first.
 *
 * @example await blockEcu({ ecuId: 'TCU-00042', reason: 'INC-4711' }, deps);
 */
export async function blockEcu(input: BlockInput, deps: LifecycleDeps): Promise<BlockResult> {
  return operatorAction<BlockResult>(deps, 'ecu.block', ecuTarget(input.ecuId), async () => {
    const ecuId = ecuIdOf(input.ecuId);
    const reason = reasonOf(input.reason);
    let row = await rowOf(ecuId, deps);
    if (row.status === 'DECOMMISSIONED')
      throw new RefusedError('ecu_decommissioned', `ECU ${ecuId} is decommissioned`);
    let changed = false;
    if (row.status !== 'BLOCKED') {
      const record = { by: await deps.caller.whoAmI(), at: deps.clock.now(), reason };
      changed = await deps.lifecycle.transition(ecuId, ['ACTIVE'], 'BLOCKED', record);
      row = await rowOf(ecuId, deps);
      if (row.status !== 'BLOCKED')
        throw new RefusedError('ecu_changed', `ECU ${ecuId} is ${row.status}: try again`);
    }
    const thing = thingOf(row);
    let quarantined = await deps.devices.isQuarantined(thing);
    if (!quarantined) {
      quarantined = await deps.devices.quarantine(thing);
      changed = changed || quarantined;
    }
    return {
      outcome: changed ? 'succeeded' : 'unchanged',
      result: { outcome: changed ? 'blocked' : 'unchanged', ecuId, status: 'BLOCKED', quarantined },
      ...(reason === undefined ? {} : { detail: { reason } }),
    };
  });
}

/**
 * Unblocks an ECU: `BLOCKED` back to `ACTIVE`, so it may enrol and be commanded again. Its thing stays in the
 * quarantine group: release it with `quarantine release` after the investigation (which checks it re-enrolled if
 * its key was rotated). Unblocking an `ACTIVE` ECU changes nothing; a decommissioned one is refused.
 *
 * @example const { quarantined } = await unblockEcu({ ecuId: 'TCU-00042' }, deps);
 */
export async function unblockEcu(input: BlockInput, deps: LifecycleDeps): Promise<BlockResult> {
  return operatorAction<BlockResult>(deps, 'ecu.unblock', ecuTarget(input.ecuId), async () => {
    const ecuId = ecuIdOf(input.ecuId);
    const reason = reasonOf(input.reason);
    const row = await rowOf(ecuId, deps);
    if (row.status === 'DECOMMISSIONED')
      throw new RefusedError('ecu_decommissioned', `ECU ${ecuId} is decommissioned`);
    let changed = false;
    if (row.status !== 'ACTIVE') {
      const record = { by: await deps.caller.whoAmI(), at: deps.clock.now(), reason };
      changed = await deps.lifecycle.transition(ecuId, ['BLOCKED'], 'ACTIVE', record);
      if (!changed) throw new RefusedError('ecu_changed', `ECU ${ecuId} changed concurrently: try again`);
    }
    const quarantined = await deps.devices.isQuarantined(thingOf(row));
    return {
      outcome: changed ? 'succeeded' : 'unchanged',
      result: { outcome: changed ? 'unblocked' : 'unchanged', ecuId, status: 'ACTIVE', quarantined },
    };
  });
}

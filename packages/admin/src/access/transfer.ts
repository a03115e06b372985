import { InvalidInputError, RefusedError } from '../errors.js';
import { operatorAction } from '../operator-action.js';
import { type AccessDeps, MAX_ATTEMPTS } from './grant.js';
import { userSubOf, vehicleTarget, vinOf } from './input.js';
import type { AccessGrant } from './ports.js';

export interface TransferInput {
  readonly vin: unknown;
  /** The current owner, as the operator knows it: a transfer from anyone else is refused. */
  readonly from: unknown;
  readonly to: unknown;
}

export interface TransferResult {
  readonly outcome: 'transferred' | 'unchanged';
  readonly vin: string;
  readonly owner: string;
  /** Users whose access ended with the sale (the old owner, drivers, fleet operators). */
  readonly revoked: readonly string[];
}

/** The most users a vehicle may have for a transfer to stay one transaction (100 items, the marker included). */
export const MAX_TRANSFER_GRANTEES = 98;

/**
 * The sale of a car: in one transaction, conditional on the vehicle's marker, the old owner's row and every other
 * user's row of the vehicle (drivers, fleet operators) are deleted and the new owner's row is written. There is no
 * moment with two owners or with none, and the old owner's next command is refused (the command-sender re-reads the
 * row). Refused when `from` is not the current owner (`not_the_owner`); a re-run after success is `unchanged`.
 *
 * @example await transferOwnership({ vin, from: seller, to: buyer }, deps);
 */
export async function transferOwnership(input: TransferInput, deps: AccessDeps): Promise<TransferResult> {
  const target = vehicleTarget(input.vin);
  return operatorAction<TransferResult>(deps, 'access.transfer', target, async () => {
    const vin = vinOf(input.vin);
    const from = userSubOf(input.from, 'from');
    const to = userSubOf(input.to, 'to');
    if (from === to) throw new InvalidInputError('to', 'the new owner must differ from the current one');
    for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
      const marker = await deps.access.marker(vin);
      const fromRow = await deps.access.get(from, vin);
      if (marker.owner === to && fromRow === undefined && marker.grantees.every((g) => g === to)) {
        return { outcome: 'unchanged', result: { outcome: 'unchanged', vin, owner: to, revoked: [] } };
      }
      if (marker.owner !== from) {
        throw new RefusedError('not_the_owner', `${from} is not the owner of vehicle ${vin}`);
      }
      const revoked = [...new Set([from, ...marker.grantees])].filter((g) => g !== to).sort();
      if (revoked.length > MAX_TRANSFER_GRANTEES) {
        throw new RefusedError('too_many_users', `vehicle ${vin} has too many users: revoke some first`);
      }
      const grant: AccessGrant = {
        userSub: to,
        vin,
        role: 'owner',
        commands: ['*'],
        grantedBy: await deps.caller.whoAmI(),
        grantedAt: deps.clock.now().toISOString(),
      };
      const committed = await deps.access.commit({
        vin,
        expectedVersion: marker.version,
        owner: to,
        grantees: [to],
        put: [grant],
        remove: revoked,
      });
      if (committed) {
        return {
          outcome: 'succeeded',
          result: { outcome: 'transferred', vin, owner: to, revoked },
          detail: { from, to, revoked: revoked.length },
        };
      }
    }
    throw new RefusedError('concurrent_change', `vehicle ${vin} changed concurrently: try again`);
  });
}

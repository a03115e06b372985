import { InvalidInputError, RefusedError } from '../errors.js';
import { type OperatorDeps, operatorAction } from '../operator-action.js';
import {
  commandsOf,
  instantOf,
  MAX_DRIVER_SECONDS,
  roleOf,
  userSubOf,
  vehicleTarget,
  vinOf,
} from './input.js';
import type { AccessGrant, VehicleAccessPort, VehicleMarker } from './ports.js';

export interface AccessDeps extends OperatorDeps {
  readonly access: VehicleAccessPort;
}

export interface GrantInput {
  readonly vin: unknown;
  readonly userSub: unknown;
  readonly role: unknown;
  /** Command names or `*` (default `*`); a comma-separated string is accepted. */
  readonly commands?: unknown;
  /** Required for a driver, optional for a fleet operator, refused for an owner. */
  readonly validUntil?: unknown;
}

export interface GrantResult {
  readonly outcome: 'granted' | 'unchanged';
  readonly grant: AccessGrant;
}

/** How often a change is retried when another change of the same vehicle won the race. */
export const MAX_ATTEMPTS = 3;

const same = (a: AccessGrant | undefined, b: AccessGrant) =>
  a !== undefined &&
  a.role === b.role &&
  a.validUntil === b.validUntil &&
  a.commands.length === b.commands.length &&
  a.commands.every((c, i) => c === b.commands[i]);

/** Validates a grant at the edge of the use case (the CLI and the admin API pass what they were given). */
export function parseGrantInput(input: GrantInput, nowSeconds: number) {
  const vin = vinOf(input.vin);
  const userSub = userSubOf(input.userSub);
  const role = roleOf(input.role);
  const commands = commandsOf(input.commands);
  const validUntil = instantOf(input.validUntil, 'validUntil');
  if (role === 'owner' && validUntil !== undefined)
    throw new InvalidInputError('validUntil', 'an owner has no expiry');
  if (role === 'driver' && validUntil === undefined)
    throw new InvalidInputError('validUntil', 'a driver needs an expiry (validUntil)');
  if (validUntil !== undefined && (validUntil <= nowSeconds || validUntil > nowSeconds + MAX_DRIVER_SECONDS))
    throw new InvalidInputError('validUntil', 'validUntil must be in the future and at most a year away');
  return { vin, userSub, role, commands, validUntil };
}

/**
 * Grants a user access to a vehicle: as its owner (one per vehicle: a vehicle with another owner is refused,
 * `vehicle_has_owner`; use transfer), as a driver until `validUntil`, or as a fleet operator. Granting what is
 * already granted changes nothing (`unchanged`); a different role, command list or expiry replaces the row. The
 * owner cannot also be a driver or fleet operator of the car (`user_is_owner`). One transaction with the vehicle's
 * marker; a concurrent change of the same vehicle is retried, then refused (`concurrent_change`).
 *
 * @example await grantAccess({ vin, userSub, role: 'driver', validUntil: '2026-12-24T18:00:00Z' }, deps);
 */
export async function grantAccess(input: GrantInput, deps: AccessDeps): Promise<GrantResult> {
  const nowSeconds = Math.floor(deps.clock.now().getTime() / 1000);
  const target = vehicleTarget(input.vin);
  return operatorAction<GrantResult>(deps, 'access.grant', target, async () => {
    const { vin, userSub, role, commands, validUntil } = parseGrantInput(input, nowSeconds);
    for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
      const marker: VehicleMarker = await deps.access.marker(vin);
      if (role === 'owner' && marker.owner !== undefined && marker.owner !== userSub)
        throw new RefusedError('vehicle_has_owner', `vehicle ${vin} has another owner: transfer it instead`);
      if (role !== 'owner' && marker.owner === userSub)
        throw new RefusedError('user_is_owner', `the user owns vehicle ${vin}`);
      const existing = await deps.access.get(userSub, vin);
      const grant: AccessGrant = {
        userSub,
        vin,
        role,
        commands,
        ...(validUntil === undefined ? {} : { validUntil }),
        grantedBy: await deps.caller.whoAmI(),
        grantedAt: deps.clock.now().toISOString(),
      };
      if (
        same(existing, grant) &&
        marker.grantees.includes(userSub) &&
        (role !== 'owner' || marker.owner === userSub)
      ) {
        return {
          outcome: 'unchanged',
          result: { outcome: 'unchanged', grant: existing ?? grant },
          detail: { userSub, role },
        };
      }
      const committed = await deps.access.commit({
        vin,
        expectedVersion: marker.version,
        owner: role === 'owner' ? userSub : marker.owner,
        grantees: [...new Set([...marker.grantees, userSub])].sort(),
        put: [grant],
        remove: [],
      });
      if (committed)
        return { outcome: 'succeeded', result: { outcome: 'granted', grant }, detail: { userSub, role } };
    }
    throw new RefusedError('concurrent_change', `vehicle ${vin} changed concurrently: try again`);
  });
}

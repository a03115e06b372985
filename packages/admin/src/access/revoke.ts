import { RefusedError } from '../errors.js';
import { operatorAction } from '../operator-action.js';
import { type AccessDeps, MAX_ATTEMPTS } from './grant.js';
import { userSubOf, vehicleTarget, vinOf } from './input.js';

export interface RevokeInput {
  readonly vin: unknown;
  readonly userSub: unknown;
}

export interface RevokeResult {
  readonly outcome: 'revoked' | 'unchanged';
  readonly vin: string;
  readonly userSub: string;
}

/**
 * Takes a user's access to a vehicle away: the row is deleted (with the marker's update, in one transaction), so the
 * command-sender's re-read refuses the very next command, whatever decision API Gateway has cached. Revoking the
 * owner leaves the vehicle without one. Revoking what is not granted changes nothing (`unchanged`).
 *
 * @example await revokeAccess({ vin, userSub }, deps);
 */
export async function revokeAccess(input: RevokeInput, deps: AccessDeps): Promise<RevokeResult> {
  const target = vehicleTarget(input.vin);
  return operatorAction<RevokeResult>(deps, 'access.revoke', target, async () => {
    const vin = vinOf(input.vin);
    const userSub = userSubOf(input.userSub);
    for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
      const marker = await deps.access.marker(vin);
      const existing = await deps.access.get(userSub, vin);
      if (existing === undefined && !marker.grantees.includes(userSub) && marker.owner !== userSub) {
        return { outcome: 'unchanged', result: { outcome: 'unchanged', vin, userSub } };
      }
      const committed = await deps.access.commit({
        vin,
        expectedVersion: marker.version,
        owner: marker.owner === userSub ? undefined : marker.owner,
        grantees: marker.grantees.filter((g) => g !== userSub),
        put: [],
        remove: [userSub],
      });
      if (committed) {
        return {
          outcome: 'succeeded',
          result: { outcome: 'revoked', vin, userSub },
          detail: { userSub, role: existing?.role ?? 'unknown' },
        };
      }
    }
    throw new RefusedError('concurrent_change', `vehicle ${vin} changed concurrently: try again`);
  });
}

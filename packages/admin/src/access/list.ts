import { InvalidInputError } from '../errors.js';
import type { AccessDeps } from './grant.js';
import { userSubOf, vinOf } from './input.js';
import type { AccessGrant } from './ports.js';

export interface ListInput {
  readonly vin?: unknown;
  readonly userSub?: unknown;
  /** Page size for a user's vehicles (1 to 1000, default 100). */
  readonly limit?: unknown;
  readonly cursor?: unknown;
}

export interface ListResult {
  readonly owner?: string | undefined;
  readonly grants: readonly AccessGrant[];
  readonly cursor?: string | undefined;
}

/**
 * Lists access: of a vehicle (its owner and every user with a row, from the marker; rows written by hand before
 * cv-admin are adopted by granting them again) or of a user (their vehicles in VIN order, paginated). Reading is
 * not an action: it is not recorded in the audit trail.
 *
 * @example const { grants } = await listAccess({ vin }, deps);
 */
export async function listAccess(input: ListInput, deps: Pick<AccessDeps, 'access'>): Promise<ListResult> {
  if ((input.vin === undefined) === (input.userSub === undefined)) {
    throw new InvalidInputError('vin', 'give either a vin or a userSub');
  }
  if (input.vin !== undefined) {
    const vin = vinOf(input.vin);
    const marker = await deps.access.marker(vin);
    const grants: AccessGrant[] = [];
    for (const userSub of marker.grantees) {
      const grant = await deps.access.get(userSub, vin);
      if (grant !== undefined) grants.push(grant);
    }
    return { owner: marker.owner, grants };
  }
  const userSub = userSubOf(input.userSub);
  const limit = input.limit === undefined ? 100 : Number(input.limit);
  if (!Number.isInteger(limit) || limit < 1 || limit > 1000) {
    throw new InvalidInputError('limit', 'limit must be an integer from 1 to 1000');
  }
  if (
    input.cursor !== undefined &&
    (typeof input.cursor !== 'string' || !/^[A-HJ-NPR-Z0-9]{17}$/.test(input.cursor))
  ) {
    throw new InvalidInputError('cursor', 'cursor must be the cursor of the previous page');
  }
  const page = await deps.access.listByUser(userSub, { limit, cursor: input.cursor as string | undefined });
  return { grants: page.grants, ...(page.cursor === undefined ? {} : { cursor: page.cursor }) };
}

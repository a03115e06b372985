/**
 * Vehicle access (docs/commands.md, "Vehicle access rows"): one row per (user, vehicle) in the vehicle-access table,
 * the row the command-authorizer and the command-sender read, and one ownership marker per vehicle
 * (`userSub = "vehicle#<VIN>"`, `kind = "vehicle"`) holding the owner, the users with a row, and a version. Every
 * change is one DynamoDB transaction conditional on the marker's version, so a vehicle never has two owners, and a
 * transfer leaves no moment where the old owner still has access or nobody owns the car.
 */

export const ROLES = ['owner', 'driver', 'fleet-operator'] as const;
export type AccessRole = (typeof ROLES)[number];

/** A vehicle-access row. `commands`: command names or `*`; `validUntil`: epoch seconds (drivers). */
export interface AccessGrant {
  readonly userSub: string;
  readonly vin: string;
  readonly role: AccessRole;
  readonly commands: readonly string[];
  readonly validUntil?: number | undefined;
  readonly grantedBy?: string | undefined;
  readonly grantedAt?: string | undefined;
}

/** The ownership marker of a vehicle; `version` 0 means there is none yet. */
export interface VehicleMarker {
  readonly vin: string;
  readonly owner: string | undefined;
  /** The users with a row for this vehicle (written through these use cases). */
  readonly grantees: readonly string[];
  readonly version: number;
}

/** One atomic change of a vehicle's access: rows written, rows deleted, the marker's new owner and grantees. */
export interface AccessChange {
  readonly vin: string;
  /** The marker version read; the change applies only if it is still the current one. */
  readonly expectedVersion: number;
  readonly owner: string | undefined;
  readonly grantees: readonly string[];
  readonly put: readonly AccessGrant[];
  readonly remove: readonly string[];
}

export interface VehicleAccessPort {
  /** The vehicle's marker (strongly consistent); version 0 and no grantees when there is none. */
  marker(vin: string): Promise<VehicleMarker>;
  /** One user's row for one vehicle (strongly consistent), `undefined` if there is none or it is malformed. */
  get(userSub: string, vin: string): Promise<AccessGrant | undefined>;
  /** All rows of a user, in VIN order, paginated (`cursor` from the previous page). */
  listByUser(
    userSub: string,
    page: { limit: number; cursor?: string | undefined },
  ): Promise<{ grants: AccessGrant[]; cursor: string | undefined }>;
  /**
   * Applies the change in one transaction, conditional on the marker's version.
   * @returns false if the marker changed since it was read (nothing was written).
   */
  commit(change: AccessChange): Promise<boolean>;
}

/** VIN per ISO 3779 without I, O, Q (docs/architecture.md §2). */
export const VIN_PATTERN = /^[A-HJ-NPR-Z0-9]{17}$/;
/** ECU hardware serial, the CN of its attestation certificate (docs/architecture.md §2). */
export const ECU_ID_PATTERN = /^[A-Za-z0-9-]{1,40}$/;

/** `<VIN>_<ecuId>`: the thing name, MQTT client id and operational certificate CN. */
export function thingNameOf(vin: string, ecuId: string): string {
  return `${vin}_${ecuId}`;
}

/** The URI SAN binding the operational certificate to its vehicle and ECU. */
export function identityUriOf(vin: string, ecuId: string): string {
  return `urn:cv:vin:${vin}:ecu:${ecuId}`;
}

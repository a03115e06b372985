/**
 * The ECU lifecycle's ports (block, unblock, replace, decommission). The registry row is the one cert-broker,
 * jitr-handler and the command-sender read (docs/protocol.md "ECU registry"); only `ACTIVE` enrols or is commanded.
 */
import type { ActionRecord } from '../ports.js';

export type LifecycleStatus = 'ACTIVE' | 'BLOCKED' | 'DECOMMISSIONED';

export interface LifecycleEcuRow {
  readonly ecuId: string;
  readonly vin: string;
  readonly role: string;
  readonly status: string;
  readonly thingName: string | undefined;
  /** Certificates found on the thing when its decommissioning started (so a re-run finds them after detaching). */
  readonly decommissionCertificateIds: readonly string[];
  /** Set once every decommissioning step is done. */
  readonly decommissionedAt: string | undefined;
  readonly replacedBy: string | undefined;
}

export interface LifecycleRegistryPort {
  get(ecuId: string): Promise<LifecycleEcuRow | undefined>;
  /** The ECUs of a vehicle (the registry's `byVin` index). */
  ecusOfVehicle(vin: string): Promise<LifecycleEcuRow[]>;
  /**
   * Sets `status` to `to` if it is one of `from` (conditional write), recording who, when and why.
   * @returns false when the row's status is not one of `from` (or the row is gone).
   */
  transition(
    ecuId: string,
    from: readonly string[],
    to: LifecycleStatus,
    record: ActionRecord,
  ): Promise<boolean>;
  /** Adds certificate ids to the row's `decommissionCertificateIds` (a set). */
  rememberCertificates(ecuId: string, certificateIds: readonly string[]): Promise<void>;
  /** Marks the decommissioning complete (`decommissionedAt`, by). */
  completeDecommission(ecuId: string, record: ActionRecord): Promise<void>;
  /**
   * Links the replaced and the replacing ECU (`replacedBy` on the old row, `replaces` on the new one).
   * @returns false when the old row already names another replacement.
   */
  recordReplacement(oldEcuId: string, newEcuId: string, record: ActionRecord): Promise<boolean>;
}

export interface DeviceCertificate {
  readonly certificateId: string;
  /** AWS IoT status: ACTIVE, INACTIVE, REVOKED, PENDING_ACTIVATION, ... */
  readonly status: string;
  /** Serial number, hex as X509Certificate reports it (upper case, no separators). */
  readonly serialHex: string;
}

/** The thing and its certificates in AWS IoT. Every method treats "already gone" as done. */
export interface EcuDevicePort {
  /** Certificate ids attached to the thing; [] when the thing does not exist. */
  principalsOf(thingName: string): Promise<string[]>;
  certificate(certificateId: string): Promise<DeviceCertificate | undefined>;
  setCertificateStatus(certificateId: string, status: 'INACTIVE' | 'REVOKED'): Promise<void>;
  detach(thingName: string, certificateId: string): Promise<void>;
  deleteThing(thingName: string): Promise<void>;
  /** Adds the thing to the quarantine group (false when there is no such thing). */
  quarantine(thingName: string): Promise<boolean>;
  isQuarantined(thingName: string): Promise<boolean>;
}

/** AWS Private CA, the issuer of the operational certificates. */
export interface CertificateAuthorityPort {
  /**
   * Revokes the certificate with this serial (reason: the ECU is retired).
   * @returns `revoked`, `already` (revoked before), or `not-issued` (this CA did not issue it).
   */
  revoke(serialHex: string): Promise<'revoked' | 'already' | 'not-issued'>;
}

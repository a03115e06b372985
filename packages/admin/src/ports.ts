/**
 * The ports the operator use cases need. Use cases take them in one `deps` object and never import an adapter;
 * src/adapters/*.ts implement them with the AWS SDK (the same code talks to a deployed stage or to the local cloud).
 */

/** The ECU registry row, as far as the operator use cases read it (docs/architecture.md §3 and docs/cert-lifecycle.md). */
export interface EcuRow {
  readonly ecuId: string;
  readonly vin: string;
  readonly status: string;
  readonly thingName: string | undefined;
  /** Set by remediation's rotateCertificate: `job` or `reenrol`. */
  readonly rotationMethod: string | undefined;
  readonly rotationRequestedAt: string | undefined;
  /** The certificates a re-enrolment rotation took out of service (the copied ones). */
  readonly rotationRetiredCertificateIds: readonly string[];
}

/** Who did it, when, why: recorded with every operator action. */
export interface ActionRecord {
  readonly by: string;
  readonly at: Date;
  readonly reason: string | undefined;
}

export interface EcuRegistryPort {
  get(ecuId: string): Promise<EcuRow | undefined>;
  /**
   * Records a quarantine release on the ECU's row (conditional on the row still binding this thing).
   * @returns false when the row no longer binds the thing.
   */
  recordQuarantineRelease(ecuId: string, thingName: string, record: ActionRecord): Promise<boolean>;
}

export interface QuarantinePort {
  /** Whether the thing is a member of the quarantine thing group. */
  isQuarantined(thingName: string): Promise<boolean>;
  /** Removes the thing from the quarantine thing group (a non-member is no error). */
  release(thingName: string): Promise<void>;
}

export interface DeviceCertificatesPort {
  /** The certificates attached to the thing, with their AWS IoT status. */
  certificatesOf(thingName: string): Promise<{ certificateId: string; status: string }[]>;
}

/** The operator's identity (the AWS principal the CLI runs as). */
export interface CallerPort {
  whoAmI(): Promise<string>;
}

export interface Clock {
  now(): Date;
}

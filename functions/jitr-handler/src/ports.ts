/** Ports of the JITR use case; AWS implementations live in ./adapters. */

export type CertificateStatus =
  | 'ACTIVE'
  | 'INACTIVE'
  | 'REVOKED'
  | 'PENDING_TRANSFER'
  | 'REGISTER_INACTIVE'
  | 'PENDING_ACTIVATION';

export interface CertificateDescription {
  readonly certificateId: string;
  readonly certificateArn: string;
  readonly caCertificateId: string | undefined;
  readonly status: string;
  readonly certificatePem: string;
}

export interface ThingAttributes {
  readonly vin: string;
  readonly ecuId: string;
  readonly role: string;
}

/** The AWS IoT control plane, as far as registration needs it. Every method is idempotent. */
export interface IotControlPlane {
  describeCertificate(certificateId: string): Promise<CertificateDescription>;
  /** The CA certificate's PEM. */
  describeCaCertificate(caCertificateId: string): Promise<string>;
  setCertificateStatus(certificateId: string, status: 'ACTIVE' | 'INACTIVE' | 'REVOKED'): Promise<void>;
  /** Creates the thing, or accepts an existing one with the same attributes; throws on a conflict. */
  ensureThing(thingName: string, attributes: ThingAttributes): Promise<'created' | 'existed'>;
  /** Reads an existing thing (a read, no write) and throws `ThingConflictError` unless its attributes match. */
  checkThing(thingName: string, attributes: ThingAttributes): Promise<void>;
  /** Attaches the policy to the certificate; throws `PolicyNotFoundError` when the policy does not exist (the stack creates them). */
  attachPolicy(policyName: string, certificateArn: string): Promise<void>;
  /** Attaches the certificate to the thing as its exclusive principal. */
  attachThingPrincipalExclusive(thingName: string, certificateArn: string): Promise<void>;
  /** Every principal (ARN or id) attached to the thing, all pages; `undefined` when the thing does not exist. */
  listThingPrincipals(thingName: string): Promise<string[] | undefined>;
  /** Names of the IoT policies attached to the certificate (`GetEffectivePolicies` on the certificate alone). */
  certificatePolicyNames(certificateArn: string): Promise<string[]>;
  /**
   * Describes another certificate of the thing; `undefined` when it no longer exists.
   * Unlike `describeCertificate`, tolerates a missing PEM (only the status is needed).
   */
  certificateStatus(certificateId: string): Promise<string | undefined>;
  /** Detaches the policy from the certificate; already detached (or gone) is fine. */
  detachPolicy(policyName: string, certificateArn: string): Promise<void>;
  /** Detaches the principal from the thing; already detached (or gone) is fine. */
  detachThingPrincipal(thingName: string, principal: string): Promise<void>;
}

/** cert-broker's record of a certificate it issued (docs/cert-lifecycle.md, "The issued-certificate record"). */
export interface IssuedCertificateRecord {
  readonly certificateId: string;
  readonly ecuId: string;
  readonly thingName: string;
  readonly certificatePem: string;
}

/** The issued-certificate records, by IoT certificate id (a strongly consistent read). */
export interface IssuedCertificates {
  get(certificateId: string): Promise<IssuedCertificateRecord | undefined>;
}

export interface EcuRecord {
  readonly ecuId: string;
  readonly vin: string;
  readonly role: string;
  readonly status: string;
  readonly thingName?: string | undefined;
  readonly certificateSerial?: string | undefined;
  /** The certificate the last registration recorded. */
  readonly certificateId?: string | undefined;
}

export interface EcuRegistry {
  get(ecuId: string): Promise<EcuRecord | undefined>;
  /**
   * Records the registered certificate while the ECU is still `ACTIVE` with this VIN, and returns the
   * certificate the row named until then (read atomically with the write); `{ recorded: false }` when the
   * ECU is no longer `ACTIVE` with this VIN.
   */
  recordCertificate(
    ecuId: string,
    vin: string,
    record: { readonly certificateId: string; readonly thingName: string; readonly updatedAt: string },
  ): Promise<RecordedCertificate>;
}

export type RecordedCertificate =
  | { readonly recorded: false }
  | { readonly recorded: true; readonly previousCertificateId: string | undefined };

/** Ports of the issue-certificate use case; AWS implementations live in ./adapters. */

export type EcuStatus = 'ACTIVE' | 'BLOCKED' | 'DECOMMISSIONED';

/** The registry row of one ECU (SPEC 3), as far as the broker needs it. */
export interface EcuRecord {
  readonly ecuId: string;
  readonly vin: string;
  readonly role: string;
  readonly status: string;
  readonly thingName?: string | undefined;
}

/** What the broker records once a certificate has been issued. */
export interface IssuedCertificateRecord {
  readonly thingName: string;
  readonly certificateSerial: string;
  readonly certificateNotAfter: string;
  readonly updatedAt: string;
}

export interface EcuRegistry {
  /** The ECU's row, or `undefined` when it is not registered. */
  get(ecuId: string): Promise<EcuRecord | undefined>;
  /**
   * Records the issued certificate, only while the ECU is still `ACTIVE`
   * with the same VIN; resolves `false` when that condition no longer holds.
   */
  recordIssued(ecuId: string, vin: string, record: IssuedCertificateRecord): Promise<boolean>;
}

/** A request to the private CA: the subject comes from the attested identity, never from the CSR. */
export interface IssueRequest {
  readonly csrPem: string;
  readonly subjectCommonName: string;
  readonly subjectAlternativeNameUri: string;
  readonly validityDays: number;
  readonly idempotencyToken: string;
}

export interface IssuedCertificate {
  readonly certificatePem: string;
  readonly certificateChainPem: string;
}

export interface CertificateAuthority {
  /** Issues and waits until the certificate can be fetched. */
  issue(request: IssueRequest): Promise<IssuedCertificate>;
}

/** The manufacturers' attestation CAs (PEM bundle). */
export interface TrustBundleSource {
  get(): Promise<string>;
}

/** Ports of the issue-certificate use case; AWS implementations live in ./adapters. */

export type EcuStatus = 'ACTIVE' | 'BLOCKED' | 'DECOMMISSIONED';

/** The registry row of one ECU (docs/architecture.md §3), as far as the broker needs it. */
export interface EcuRecord {
  readonly ecuId: string;
  readonly vin: string;
  readonly role: string;
  readonly status: string;
  readonly thingName?: string | undefined;
  /**
   * Supplier binding: lowercase hex SHA-256 of the SubjectPublicKeyInfo (DER) of the CA that
   * issued this ECU's attestation certificate. Absent or malformed: the ECU cannot enrol.
   */
  readonly attestationIssuerKeySha256?: string | undefined;
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
   * Records the issued certificate, only while the ECU is still `ACTIVE` with the same VIN and
   * the same supplier binding; resolves `false` when that condition no longer holds.
   */
  recordIssued(
    ecuId: string,
    expected: { readonly vin: string; readonly attestationIssuerKeySha256: string },
    record: IssuedCertificateRecord,
  ): Promise<boolean>;
}

/**
 * What jitr-handler needs to register an issued certificate without DescribeCertificate
 * (docs/cert-lifecycle.md, "The issued-certificate record"): keyed by the certificate id AWS IoT
 * gives it, the lowercase hex SHA-256 of its DER.
 */
export interface IssuedCertificateEntry {
  readonly certificateId: string;
  readonly ecuId: string;
  readonly thingName: string;
  readonly certificatePem: string;
  readonly serialNumber: string;
  /** ISO 8601; the entry expires with the certificate. */
  readonly notAfter: string;
  readonly issuedAt: string;
}

/** The issued-certificate records (one item per certificate, written once issuance is complete). */
export interface IssuedCertificateLog {
  record(entry: IssuedCertificateEntry): Promise<void>;
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
  /** Asks the CA to issue; resolves the new certificate's ARN (issuance may still be in progress). */
  request(request: IssueRequest): Promise<string>;
  /** Waits until the certificate `arn` can be fetched, then returns it (issues nothing). */
  fetch(certificateArn: string): Promise<IssuedCertificate>;
}

/** Where a proof's one issuance stands. */
export type ProofState = 'CLAIMED' | 'ISSUED' | 'COMPLETED';

/** The certificate a completed proof was answered with (returned again for a replay). */
export interface LedgerCertificate {
  readonly certificatePem: string;
  readonly certificateChainPem: string;
  readonly serialNumber: string;
  readonly notAfter: string;
}

/** One used proof of possession (the replay ledger's row). */
export interface ProofRecord {
  readonly proofId: string;
  readonly state: ProofState;
  readonly ecuId: string;
  readonly thingName: string;
  /** Invocation holding the proof, and until when (epoch ms); 0 = released. */
  readonly leaseOwner: string;
  readonly leaseUntil: number;
  /** Set once the CA accepted the request (state ISSUED and later). */
  readonly certificateArn?: string | undefined;
  /** Set once the issuance is complete (state COMPLETED). */
  readonly certificate?: LedgerCertificate | undefined;
}

export interface NewProof {
  readonly proofId: string;
  readonly proofKind: 'signature' | 'mtls';
  readonly ecuId: string;
  readonly thingName: string;
  readonly leaseOwner: string;
  readonly leaseUntil: number;
  readonly createdAt: string;
  /** Epoch seconds after which the row may be deleted (DynamoDB TTL). */
  readonly expiresAt: number;
}

/**
 * The replay ledger: each proof of possession is used for one issuance. Every write is
 * conditional, so concurrent invocations with the same proof never both issue.
 */
export interface ReplayLedger {
  /** Records an unused proof as CLAIMED by `proof.leaseOwner`; resolves the existing row when the proof was used. */
  claim(
    proof: NewProof,
  ): Promise<{ readonly claimed: true } | { readonly claimed: false; readonly record: ProofRecord }>;
  /** Takes over a row whose lease has lapsed; `false` when another invocation changed it first. */
  takeOver(
    proofId: string,
    seen: { readonly leaseOwner: string; readonly leaseUntil: number },
    next: { readonly leaseOwner: string; readonly leaseUntil: number },
  ): Promise<boolean>;
  /** CLAIMED -> ISSUED with the CA's certificate ARN, while `leaseOwner` holds the lease. */
  recordRequested(proofId: string, leaseOwner: string, certificateArn: string): Promise<void>;
  /** -> COMPLETED with the certificate; resolves the row that won when another invocation completed first. */
  complete(proofId: string, certificate: LedgerCertificate): Promise<ProofRecord | undefined>;
  /** Gives the lease up after a failure, so a retry can continue at once (no-op once COMPLETED). */
  release(proofId: string, leaseOwner: string): Promise<void>;
}

/** The manufacturers' attestation CAs (PEM bundle). */
export interface TrustBundleSource {
  get(): Promise<string>;
}

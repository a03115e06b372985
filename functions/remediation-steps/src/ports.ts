import type { FindingProvenance } from '@cv/runtime';

/**
 * The collaborators the steps need, as narrow ports. The use cases take them in a `deps` object and never import
 * an adapter; src/adapters/*.ts implement them with the AWS SDK.
 */

export type CertificateStatus =
  | 'ACTIVE'
  | 'INACTIVE'
  | 'REVOKED'
  | 'PENDING_TRANSFER'
  | 'REGISTER_INACTIVE'
  | 'PENDING_ACTIVATION'
  | (string & {});

export interface IotPolicyVersion {
  versionId: string;
  isDefault: boolean;
  createdAt?: Date;
}

export interface IotPort {
  /** Things the certificate is attached to. */
  thingsForCertificate(certificateId: string): Promise<string[]>;
  /** Certificate ids attached to the thing (other principal kinds are ignored). */
  certificatesForThing(thingName: string): Promise<string[]>;
  /** Names of the thing groups the thing is a member of. */
  thingGroupsOf(thingName: string): Promise<string[]>;
  addThingToGroup(thingName: string, groupName: string): Promise<void>;
  /** Whether the policy is attached to the thing group (read from the policy's targets). */
  groupHasPolicy(policyName: string, groupName: string): Promise<boolean>;
  attachPolicyToGroup(policyName: string, groupName: string): Promise<void>;
  /** `undefined` when the certificate does not exist. */
  describeCertificate(certificateId: string): Promise<{ status: CertificateStatus; pem: string } | undefined>;
  setCertificateStatus(certificateId: string, status: 'INACTIVE' | 'REVOKED'): Promise<void>;
  /** Creates the job; `'exists'` when a job with this id already exists (a retry). */
  createJob(job: {
    jobId: string;
    thingNames: string[];
    document: string;
    description: string;
  }): Promise<'created' | 'exists'>;
  getPolicy(policyName: string): Promise<{ defaultVersionId: string; document: string }>;
  listPolicyVersions(policyName: string): Promise<IotPolicyVersion[]>;
  deletePolicyVersion(policyName: string, versionId: string): Promise<void>;
  createDefaultPolicyVersion(policyName: string, document: string): Promise<{ versionId: string }>;
}

export interface PrivateCaPort {
  /** Revokes by serial (colon-separated hex); `'already'` when the CA reports it already revoked. */
  revoke(serialHex: string): Promise<'revoked' | 'already'>;
}

/** How a rotation reaches the ECU (see rotate-certificate.ts): an AWS IoT job, or re-enrolment on refusal. */
export type RotationMethod = 'job' | 'reenrol';

export interface RotationRequest {
  /** Stable per finding (`cv-rotate-<digest>`); the IoT job id on the job path. */
  rotationId: string;
  method: RotationMethod;
  /** Certificates this remediation took out of service (re-enrolment path); none on the job path. */
  retiredCertificateIds: readonly string[];
}

export interface RegistryPort {
  /**
   * Records that a rotation was requested for the ECU behind the thing. `'already'` when the row already carries
   * this rotation id; `'missing'` when no registry row belongs to the thing.
   */
  markRotationRequested(
    thingName: string,
    rotation: RotationRequest,
    at: Date,
  ): Promise<'marked' | 'already' | 'missing'>;
}

/** The provenance records our detectors write (see @cv/runtime provenance). */
export interface ProvenancePort {
  /** The record for this finding id (strongly consistent read); `undefined` when there is none. */
  recordOf(findingId: string): Promise<FindingProvenance | undefined>;
}

/** Which alerts were already sent, so that one finding and plan gives one alert however often the workflow runs. */
export interface AlertLedgerPort {
  /**
   * Claims the alert `key` for this run: `claimed` (send it, then {@link markSent}), `sent` (an earlier run sent
   * it: send nothing), `busy` (another run claimed it less than the lease ago and has not finished).
   */
  claim(
    key: string,
    findingId: string,
    now: Date,
  ): Promise<{ state: 'claimed' } | { state: 'sent'; messageId: string } | { state: 'busy' }>;
  markSent(key: string, messageId: string, now: Date): Promise<void>;
}

export interface AlertPort {
  publish(alert: { subject: string; message: string; dedupeKey: string }): Promise<{ messageId: string }>;
}

export interface TicketPort {
  /** The open (or in-progress) OpsItem carrying this finding id, if any. */
  findOpen(findingId: string): Promise<string | undefined>;
  /** Creates the OpsItem; returns the existing one's id when OpsCenter deduplicates it. */
  create(ticket: {
    findingId: string;
    productArn: string;
    dedupString: string;
    title: string;
    description: string;
    severity: '1' | '2' | '3' | '4';
  }): Promise<{ opsItemId: string; created: boolean }>;
}

export interface FindingsPort {
  /** BatchUpdateFindings for one finding; throws when Security Hub reports it unprocessed. */
  update(finding: {
    findingId: string;
    productArn: string;
    status: 'RESOLVED' | 'NOTIFIED';
    note: string;
  }): Promise<void>;
}

/** What fixPolicy needs from the policy library (@cv/policy). */
export interface PolicyAnalyzerPort {
  /** Problems of a policy document; empty when it is least-privilege. */
  analyze(document: unknown): readonly { code: string; message?: string }[];
  /** The ECU role a managed policy name belongs to, or `undefined` for a policy we do not manage. */
  roleFromPolicyName(policyName: string): string | undefined;
  /** The least-privilege document for a role. */
  proposeLeastPrivilege(role: string): unknown;
}

export interface Clock {
  now(): Date;
}

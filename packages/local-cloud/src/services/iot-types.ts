/** AWS IoT control plane: the resources' shapes and the validation shared by its modules. */
import { AwsApiError } from '../errors.js';
import { x509 } from '../pki.js';

export type CertificateStatus =
  | 'ACTIVE'
  | 'INACTIVE'
  | 'REVOKED'
  | 'PENDING_TRANSFER'
  | 'REGISTER_INACTIVE'
  | 'PENDING_ACTIVATION';

export interface IotCertificate {
  readonly certificateId: string;
  readonly certificateArn: string;
  readonly certificatePem: string;
  readonly caCertificateId: string | undefined;
  status: CertificateStatus;
  readonly creationDate: Date;
  lastModifiedDate: Date;
  customerVersion: number;
  readonly notBefore: Date;
  readonly notAfter: Date;
}

export interface IotCaCertificate {
  readonly certificateId: string;
  readonly certificateArn: string;
  readonly certificatePem: string;
  status: 'ACTIVE' | 'INACTIVE';
  autoRegistrationStatus: 'ENABLE' | 'DISABLE';
  readonly creationDate: Date;
}

export interface IotThing {
  readonly thingName: string;
  readonly thingArn: string;
  readonly thingId: string;
  attributes: Record<string, string>;
  version: number;
}

export interface IotPolicyVersion {
  readonly versionId: string;
  readonly document: string;
  readonly createDate: Date;
}

export interface IotPolicy {
  readonly policyName: string;
  readonly policyArn: string;
  versions: IotPolicyVersion[];
  defaultVersionId: string;
  nextVersion: number;
  readonly creationDate: Date;
  lastModifiedDate: Date;
}

export interface IotJob {
  readonly jobId: string;
  readonly jobArn: string;
  readonly targets: readonly string[];
  readonly document: string | undefined;
  readonly description: string | undefined;
  readonly createdAt: Date;
}

export const THING_NAME = /^[a-zA-Z0-9:_-]{1,128}$/;
export const POLICY_NAME = /^[\w+=,.@-]{1,128}$/;

/** The JITR event AWS IoT publishes on `$aws/events/certificates/registered/<caCertificateId>`. */
export interface JitrEvent {
  readonly certificateId: string;
  readonly caCertificateId: string;
  readonly timestamp: number;
  readonly certificateStatus: 'PENDING_ACTIVATION';
  readonly awsAccountId: string;
  readonly certificateRegistrationTimestamp: string;
}

export function parseCertificate(pem: string): x509.X509Certificate {
  try {
    return new x509.X509Certificate(pem);
  } catch {
    throw new AwsApiError('CertificateValidationException', 'Certificate is not valid.');
  }
}

export function validatePolicyDocument(document: string): void {
  let parsed: unknown;
  try {
    parsed = JSON.parse(document);
  } catch {
    throw new AwsApiError('MalformedPolicyException', 'Policy document is not valid JSON');
  }
  const statements = (parsed as { Statement?: unknown }).Statement;
  if (!parsed || typeof parsed !== 'object' || statements === undefined) {
    throw new AwsApiError('MalformedPolicyException', 'Policy document must have a Statement');
  }
  if (document.replace(/\s/g, '').length > 2048) {
    throw new AwsApiError('MalformedPolicyException', 'Policy document exceeds 2048 characters');
  }
}

export function sortKeys(o: Record<string, string>): [string, string][] {
  return Object.entries(o).sort(([a], [b]) => (a < b ? -1 : 1));
}

export interface PublishProperties {
  readonly qos: number;
  readonly retain: boolean;
  readonly contentType?: string;
  readonly responseTopic?: string;
  readonly messageExpiry?: number;
  readonly correlationData?: Buffer;
  readonly userProperties?: Record<string, string | string[]>;
}

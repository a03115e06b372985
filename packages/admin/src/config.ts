import { AdminConfigError } from './errors.js';

export type Env = Readonly<Record<string, string | undefined>>;

export interface AdminConfig {
  readonly stage: string;
  readonly region: string;
  /** `cv-security-<stage>-quarantine` unless `QUARANTINE_THING_GROUP` says otherwise. */
  readonly quarantineGroup: string;
  /** `cv-security-<stage>-ecu-registry` unless `ECU_REGISTRY_TABLE` says otherwise. */
  readonly registryTable: string;
  /** `cv-security-<stage>-admin-audit` unless `ADMIN_AUDIT_TABLE` says otherwise. */
  readonly auditTable: string;
  /** `cv-security-<stage>-suppliers` unless `SUPPLIERS_TABLE` says otherwise. */
  readonly suppliersTable: string;
  /** `/cv-security/<stage>/attestation-trust-bundle` unless `ATTESTATION_TRUST_BUNDLE_PARAM` says otherwise. */
  readonly trustBundleParameter: string;
  /** cert-broker's mTLS domain: `certs.<stage>.cv.example.com` unless `CERT_BROKER_DOMAIN` says otherwise. */
  readonly certBrokerDomain: string;
  /** `TRUSTSTORE_BUCKET` (optional: the CLI reads the bucket from the domain's truststore URI). */
  readonly truststoreBucket: string | undefined;
  /** `cv-security-<stage>-vehicle-access` unless `VEHICLE_ACCESS_TABLE` says otherwise. */
  readonly vehicleAccessTable: string;
  /** `PCA_CA_ARN`: the Private CA of the operational certificates; required to decommission. */
  readonly pcaCaArn: string | undefined;
}

const STAGE = /^[a-z0-9-]{1,20}$/;
const REGION = /^[a-z]{2}(-[a-z]+)+-\d$/;
const GROUP = /^[a-zA-Z0-9:_-]{1,128}$/;
const TABLE = /^[a-zA-Z0-9_.-]{3,255}$/;
const BUCKET = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;
const PARAMETER = /^\/[a-zA-Z0-9_./-]{1,1010}$/;
const DOMAIN = /^(?=.{4,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/;
const PCA_ARN = /^arn:aws[a-z-]*:acm-pca:[a-z0-9-]+:\d{12}:certificate-authority\/[0-9a-f-]{36}$/;

function valid(name: string, value: string | undefined, pattern: RegExp): string {
  if (value === undefined || value === '') throw new AdminConfigError(`${name} is required`);
  if (!pattern.test(value)) throw new AdminConfigError(`${name} is malformed`);
  return value;
}

/**
 * The front door's configuration: the stage (`--stage`, else `CV_STAGE`) and the region (`AWS_REGION`, else
 * `AWS_DEFAULT_REGION`) name the deployed resources. Credentials and `AWS_ENDPOINT_URL` (the local cloud) are the AWS
 * SDK's own. Fails naming the missing or malformed setting.
 */
export function loadAdminConfig(env: Env, flags: { stage?: string | undefined }): AdminConfig {
  const stage = valid(flags.stage === undefined ? 'CV_STAGE' : '--stage', flags.stage ?? env.CV_STAGE, STAGE);
  const region = valid(
    env.AWS_REGION === undefined ? 'AWS_DEFAULT_REGION' : 'AWS_REGION',
    env.AWS_REGION ?? env.AWS_DEFAULT_REGION,
    REGION,
  );
  const quarantineGroup =
    env.QUARANTINE_THING_GROUP === undefined
      ? `cv-security-${stage}-quarantine`
      : valid('QUARANTINE_THING_GROUP', env.QUARANTINE_THING_GROUP, GROUP);
  const registryTable =
    env.ECU_REGISTRY_TABLE === undefined
      ? `cv-security-${stage}-ecu-registry`
      : valid('ECU_REGISTRY_TABLE', env.ECU_REGISTRY_TABLE, TABLE);
  const auditTable =
    env.ADMIN_AUDIT_TABLE === undefined
      ? `cv-security-${stage}-admin-audit`
      : valid('ADMIN_AUDIT_TABLE', env.ADMIN_AUDIT_TABLE, TABLE);
  const suppliersTable =
    env.SUPPLIERS_TABLE === undefined
      ? `cv-security-${stage}-suppliers`
      : valid('SUPPLIERS_TABLE', env.SUPPLIERS_TABLE, TABLE);
  const trustBundleParameter =
    env.ATTESTATION_TRUST_BUNDLE_PARAM === undefined
      ? `/cv-security/${stage}/attestation-trust-bundle`
      : valid('ATTESTATION_TRUST_BUNDLE_PARAM', env.ATTESTATION_TRUST_BUNDLE_PARAM, PARAMETER);
  const certBrokerDomain =
    env.CERT_BROKER_DOMAIN === undefined
      ? `certs.${stage}.cv.example.com`
      : valid('CERT_BROKER_DOMAIN', env.CERT_BROKER_DOMAIN, DOMAIN);
  const vehicleAccessTable =
    env.VEHICLE_ACCESS_TABLE === undefined
      ? `cv-security-${stage}-vehicle-access`
      : valid('VEHICLE_ACCESS_TABLE', env.VEHICLE_ACCESS_TABLE, TABLE);
  const pcaCaArn =
    env.PCA_CA_ARN === undefined || env.PCA_CA_ARN === ''
      ? undefined
      : valid('PCA_CA_ARN', env.PCA_CA_ARN, PCA_ARN);
  const truststoreBucket =
    env.TRUSTSTORE_BUCKET === undefined || env.TRUSTSTORE_BUCKET === ''
      ? undefined
      : valid('TRUSTSTORE_BUCKET', env.TRUSTSTORE_BUCKET, BUCKET);
  return {
    truststoreBucket,
    stage,
    region,
    quarantineGroup,
    registryTable,
    auditTable,
    vehicleAccessTable,
    pcaCaArn,
    suppliersTable,
    trustBundleParameter,
    certBrokerDomain,
  };
}

import { arn, ConfigError, type Env, integer, optionalString, requireString } from '@cv/runtime';

export interface BrokerConfig {
  readonly registryTable: string;
  /** The replay ledger of used proofs of possession. */
  readonly replayLedgerTable: string;
  /** Issued certificates by IoT certificate id, read by jitr-handler. */
  readonly issuedCertificatesTable: string;
  /** How long a used proof is remembered (TTL), in seconds. */
  readonly replayLedgerRetentionSeconds: number;
  readonly pcaCaArn: string;
  readonly pcaTemplateArn: string;
  readonly pcaSigningAlgorithm: PcaSigningAlgorithm;
  readonly certValidityDays: number;
  readonly pcaMaxWaitSeconds: number;
  readonly retryAfterSeconds: number;
  /** Exactly one of the two is set. */
  readonly trustBundle: { readonly pem: string } | { readonly parameterName: string };
  readonly trustBundleTtlSeconds: number;
}

/** The Private CA signing algorithms the broker may be configured with (no SHA-1). */
export type PcaSigningAlgorithm =
  | 'SHA256WITHECDSA'
  | 'SHA384WITHECDSA'
  | 'SHA512WITHECDSA'
  | 'SHA256WITHRSA'
  | 'SHA384WITHRSA'
  | 'SHA512WITHRSA';

const SIGNING_ALGORITHMS =
  /^(SHA256WITHECDSA|SHA384WITHECDSA|SHA512WITHECDSA|SHA256WITHRSA|SHA384WITHRSA|SHA512WITHRSA)$/;
const SSM_PARAMETER_NAME =
  /^(\/[A-Za-z0-9_.-]+)+$|^[A-Za-z0-9_.-]+$|^arn:aws[a-z-]*:ssm:[a-z0-9-]+:\d{12}:parameter\/.+$/;

/**
 * Reads and validates the broker's environment once, at cold start.
 * @example const config = loadConfig(process.env);
 */
export function loadConfig(env: Env): BrokerConfig {
  const inline = env.ATTESTATION_TRUST_BUNDLE?.trim();
  const param = env.ATTESTATION_TRUST_BUNDLE_PARAM?.trim();
  if (inline && param) {
    throw new ConfigError(
      'ATTESTATION_TRUST_BUNDLE',
      'and ATTESTATION_TRUST_BUNDLE_PARAM are both set; set one',
    );
  }
  let trustBundle: BrokerConfig['trustBundle'];
  if (inline) {
    if (!inline.includes('-----BEGIN CERTIFICATE-----')) {
      throw new ConfigError('ATTESTATION_TRUST_BUNDLE', 'is malformed (expected PEM certificates)');
    }
    trustBundle = { pem: inline };
  } else {
    trustBundle = { parameterName: requireString(env, 'ATTESTATION_TRUST_BUNDLE_PARAM', SSM_PARAMETER_NAME) };
  }
  return {
    registryTable: requireString(env, 'ECU_REGISTRY_TABLE', /^[A-Za-z0-9_.-]{3,255}$/),
    replayLedgerTable: requireString(env, 'REPLAY_LEDGER_TABLE', /^[A-Za-z0-9_.-]{3,255}$/),
    issuedCertificatesTable: requireString(env, 'ISSUED_CERTIFICATES_TABLE', /^[A-Za-z0-9_.-]{3,255}$/),
    // At least an hour: a proof is acceptable for 10 minutes (signedAt +/- 5 minutes).
    replayLedgerRetentionSeconds: integer(env, 'REPLAY_LEDGER_RETENTION_SECONDS', {
      min: 3600,
      max: 31_536_000,
      fallback: 604_800,
    }),
    pcaCaArn: arn(env, 'PCA_CA_ARN', 'acm-pca'),
    pcaTemplateArn: arn(env, 'PCA_TEMPLATE_ARN', 'acm-pca'),
    pcaSigningAlgorithm: optionalString(
      env,
      'PCA_SIGNING_ALGORITHM',
      'SHA256WITHECDSA',
      SIGNING_ALGORITHMS,
    ) as PcaSigningAlgorithm,
    certValidityDays: integer(env, 'CERT_VALIDITY_DAYS', { min: 1, max: 3650, fallback: 365 }),
    pcaMaxWaitSeconds: integer(env, 'PCA_MAX_WAIT_SECONDS', { min: 2, max: 25, fallback: 10 }),
    retryAfterSeconds: integer(env, 'RETRY_AFTER_SECONDS', { min: 1, max: 300, fallback: 5 }),
    trustBundle,
    trustBundleTtlSeconds: integer(env, 'TRUST_BUNDLE_TTL_SECONDS', { min: 0, max: 86_400, fallback: 300 }),
  };
}

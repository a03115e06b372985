import { ConfigError, type Env, integer, list, optionalString, requireString } from '@cv/runtime';

export interface JitrConfig {
  readonly registryTable: string;
  /** cert-broker's issued-certificate records (first enrolment without DescribeCertificate). */
  readonly issuedCertificatesTable: string;
  readonly operationalCaCertificateId: string;
  readonly ocspAllowedHosts: readonly string[];
  readonly ocspResponderUrl: string | undefined;
  readonly ocspTimeoutMs: number;
  readonly ocspHashAlgorithm: 'sha1' | 'sha256';
  readonly policyPrefix: string;
  readonly region: string;
  readonly accountId: string;
  readonly caCacheTtlSeconds: number;
  /** The operational CA's PEM when the stack provides it (no DescribeCACertificate); else undefined. */
  readonly operationalCaCertificatePem: string | undefined;
}

const PEM_CERTIFICATE = /^-----BEGIN CERTIFICATE-----\r?\n[A-Za-z0-9+/=\r\n]+-----END CERTIFICATE-----\s*$/;

const HOSTNAME =
  /^(?=.{1,253}$)([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/;

/**
 * Reads and validates the JITR handler's environment once, at cold start.
 * @example const config = loadConfig(process.env);
 */
export function loadConfig(env: Env): JitrConfig {
  const responder = env.OCSP_RESPONDER_URL?.trim() || undefined;
  if (responder !== undefined) {
    let url: URL;
    try {
      url = new URL(responder);
    } catch {
      throw new ConfigError('OCSP_RESPONDER_URL', 'is malformed (expected an http(s) URL)');
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') {
      throw new ConfigError('OCSP_RESPONDER_URL', 'is malformed (expected an http(s) URL)');
    }
  }
  return {
    registryTable: requireString(env, 'ECU_REGISTRY_TABLE', /^[A-Za-z0-9_.-]{3,255}$/),
    issuedCertificatesTable: requireString(env, 'ISSUED_CERTIFICATES_TABLE', /^[A-Za-z0-9_.-]{3,255}$/),
    operationalCaCertificateId: requireString(env, 'OPERATIONAL_CA_CERTIFICATE_ID', /^[0-9a-f]{64}$/),
    ocspAllowedHosts: list(env, 'OCSP_ALLOWED_HOSTS', { pattern: HOSTNAME }).map((h) => h.toLowerCase()),
    ocspResponderUrl: responder,
    ocspTimeoutMs: integer(env, 'OCSP_TIMEOUT_MS', { min: 100, max: 20_000, fallback: 3_000 }),
    ocspHashAlgorithm: optionalString(env, 'OCSP_HASH_ALGORITHM', 'sha1', /^(sha1|sha256)$/) as
      | 'sha1'
      | 'sha256',
    policyPrefix: requireString(env, 'IOT_POLICY_PREFIX', /^[\w+=,.@-]{1,100}$/),
    region: requireString(env, 'AWS_REGION', /^[a-z]{2}(-[a-z]+)+-\d$/),
    accountId: requireString(env, 'AWS_ACCOUNT_ID', /^\d{12}$/),
    caCacheTtlSeconds: integer(env, 'CA_CACHE_TTL_SECONDS', { min: 0, max: 86_400, fallback: 3_600 }),
    operationalCaCertificatePem: caPem(env.OPERATIONAL_CA_CERTIFICATE_PEM),
  };
}

/** One PEM certificate, or nothing (empty: the CA is described at run time). */
function caPem(value: string | undefined): string | undefined {
  const pem = value?.trim();
  if (!pem) return undefined;
  if (!PEM_CERTIFICATE.test(pem)) {
    throw new ConfigError('OPERATIONAL_CA_CERTIFICATE_PEM', 'is not one PEM certificate');
  }
  return `${pem}\n`;
}

import { ConfigError } from '@cv/runtime';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config.js';

const base = {
  ECU_REGISTRY_TABLE: 'cv-security-dev-ecu-registry',
  REPLAY_LEDGER_TABLE: 'cv-security-dev-enrolment-proofs',
  ISSUED_CERTIFICATES_TABLE: 'cv-security-dev-issued-certificates',
  PCA_CA_ARN:
    'arn:aws:acm-pca:eu-west-1:123456789012:certificate-authority/0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0',
  PCA_TEMPLATE_ARN: 'arn:aws:acm-pca:::template/EndEntityClientAuthCertificate_APIPassthrough/V1',
  ATTESTATION_TRUST_BUNDLE_PARAM: '/cv-security/dev/attestation-trust-bundle',
};

function configError(env: Record<string, string | undefined>): ConfigError {
  try {
    loadConfig(env);
  } catch (error) {
    if (error instanceof ConfigError) return error;
    throw error;
  }
  throw new Error('no ConfigError');
}

describe('loadConfig', () => {
  it('applies the defaults (365 days, SHA256WITHECDSA) and reads the SSM parameter name', () => {
    const config = loadConfig(base);
    expect(config.certValidityDays).toBe(365);
    expect(config.pcaSigningAlgorithm).toBe('SHA256WITHECDSA');
    expect(config.trustBundle).toEqual({ parameterName: '/cv-security/dev/attestation-trust-bundle' });
    expect(config.replayLedgerTable).toBe('cv-security-dev-enrolment-proofs');
    expect(config.replayLedgerRetentionSeconds).toBe(604_800);
  });

  it('accepts an inline PEM bundle instead of the parameter', () => {
    const pem = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----';
    const config = loadConfig({
      ...base,
      ATTESTATION_TRUST_BUNDLE_PARAM: undefined,
      ATTESTATION_TRUST_BUNDLE: pem,
    });
    expect(config.trustBundle).toEqual({ pem });
  });

  it.each([
    ['ECU_REGISTRY_TABLE', { ECU_REGISTRY_TABLE: undefined }],
    ['REPLAY_LEDGER_TABLE', { REPLAY_LEDGER_TABLE: undefined }],
    ['ISSUED_CERTIFICATES_TABLE', { ISSUED_CERTIFICATES_TABLE: undefined }],
    ['ISSUED_CERTIFICATES_TABLE', { ISSUED_CERTIFICATES_TABLE: 'a b' }],
    // Shorter than an hour could forget a proof while it is still acceptable: refused.
    ['REPLAY_LEDGER_RETENTION_SECONDS', { REPLAY_LEDGER_RETENTION_SECONDS: '600' }],
    ['PCA_CA_ARN', { PCA_CA_ARN: 'arn:aws:kms:eu-west-1:123456789012:key/x' }],
    ['PCA_TEMPLATE_ARN', { PCA_TEMPLATE_ARN: 'template' }],
    ['CERT_VALIDITY_DAYS', { CERT_VALIDITY_DAYS: '0' }],
    ['CERT_VALIDITY_DAYS', { CERT_VALIDITY_DAYS: 'a year' }],
    ['PCA_SIGNING_ALGORITHM', { PCA_SIGNING_ALGORITHM: 'SHA1WITHRSA' }],
    ['ATTESTATION_TRUST_BUNDLE_PARAM', { ATTESTATION_TRUST_BUNDLE_PARAM: undefined }],
    ['ATTESTATION_TRUST_BUNDLE', { ATTESTATION_TRUST_BUNDLE: '-----BEGIN CERTIFICATE-----' }],
    [
      'ATTESTATION_TRUST_BUNDLE',
      { ATTESTATION_TRUST_BUNDLE_PARAM: undefined, ATTESTATION_TRUST_BUNDLE: 'not pem' },
    ],
  ])('names %s when it is missing or malformed', (variable, override) => {
    expect(configError({ ...base, ...override }).variable).toBe(variable);
  });
});

import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { lintIamStatements } from '@cv/policy';
import { ConfigError } from '@cv/runtime';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { loadConfig, type StepName } from '../src/config.js';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const cfnTags = [
  { tag: '!GetAtt', resolve: (s: string) => ({ 'Fn::GetAtt': s.split('.') }) },
  { tag: '!Sub', resolve: (s: string) => ({ 'Fn::Sub': s }) },
  { tag: '!Ref', resolve: (s: string) => ({ Ref: s }) },
];
const functions = parse(readFileSync(`${ROOT}serverless/functions/remediation-steps.yml`, 'utf8'), {
  customTags: cfnTags,
}) as Record<
  string,
  { handler: string; environment?: Record<string, unknown>; iamRoleStatements: unknown[] }
>;

/** What the intrinsics and params resolve to in a deployment, shaped like the real values. */
const RESOLVED: Record<string, string> = {
  QUARANTINE_THING_GROUP: 'cv-security-dev-quarantine',
  QUARANTINE_POLICY_NAME: 'cv-security-dev-quarantine',
  PCA_CA_ARN:
    'arn:aws:acm-pca:eu-west-1:123456789012:certificate-authority/00000000-0000-4000-8000-000000000001',
  ECU_REGISTRY_TABLE: 'cv-security-dev-ecu-registry',
  // values that are plain strings in the file are taken as they are
  IOT_POLICY_PREFIX: 'cv-security-dev',
  IOT_ROLE_ALIAS: 'cv-security-dev-ecu',
  ALERT_TOPIC_ARN: 'arn:aws:sns:eu-west-1:123456789012:cv-security-dev-security-alerts',
  ALERT_LEDGER_TABLE: 'cv-security-dev-alert-ledger',
  FINDING_PROVENANCE_TABLE: 'cv-security-dev-finding-provenance',
};

const entries = Object.entries(functions).map(([key, fn]) => {
  const step = fn.handler.slice(fn.handler.lastIndexOf('.') + 1) as StepName;
  const env = Object.fromEntries(
    Object.keys(fn.environment ?? {}).map((k) => [k, RESOLVED[k] ?? 'unresolved']),
  );
  return { key, step, env, statements: fn.iamRoleStatements };
});

describe('serverless/functions/remediation-steps.yml', () => {
  it.each(entries)('$key sets what its step configuration needs', ({ step, env }) => {
    expect(() => loadConfig(step, { AWS_REGION: 'eu-west-1', ...env }, '123456789012')).not.toThrow();
  });

  it.each(entries)('$key sets nothing its step does not read', ({ step, env }) => {
    for (const name of Object.keys(env)) {
      const without = { AWS_REGION: 'eu-west-1', ...env, [name]: undefined };
      expect(() => loadConfig(step, without, '123456789012'), name).toThrow(ConfigError);
    }
  });

  it.each(entries)('$key has a least-privilege role (@cv/policy lintIamStatements)', ({ statements }) => {
    expect(lintIamStatements(statements)).toEqual([]);
  });
});

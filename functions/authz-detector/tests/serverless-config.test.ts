import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { lintIamStatements } from '@cv/policy';
import { ConfigError } from '@cv/runtime';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { accountIdOf, loadConfig } from '../src/config.js';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const cfnTags = [
  { tag: '!GetAtt', resolve: (s: string) => ({ 'Fn::GetAtt': s.split('.') }) },
  { tag: '!Sub', resolve: (s: string) => ({ 'Fn::Sub': s }) },
  { tag: '!Ref', resolve: (s: string) => ({ Ref: s }) },
];
const fn = (
  parse(readFileSync(`${ROOT}serverless/functions/authz-detector.yml`, 'utf8'), {
    customTags: cfnTags,
  }) as Record<
    string,
    {
      environment: Record<string, unknown>;
      iamRoleStatements: unknown[];
      events: Array<{ cloudwatchLog?: { filter: string } }>;
    }
  >
).authzDetector;
/** The Serverless variables the file uses, as `serverless package --stage dev` resolves them. */
const resolve = (v: unknown) =>
  typeof v === 'string'
    ? v.replace(/\$\{self:service\}/g, 'cv-security').replace(/\$\{sls:stage\}/g, 'dev')
    : 'unresolved';
const env = Object.fromEntries(Object.entries(fn?.environment ?? {}).map(([k, v]) => [k, resolve(v)]));

describe('serverless/functions/authz-detector.yml', () => {
  it('sets what loadConfig needs; the required variables are required', () => {
    expect(loadConfig({ AWS_REGION: 'eu-west-1', ...env })).toMatchObject({
      threshold: 20,
      windowSeconds: 300,
    });
    for (const name of ['AUTHZ_FAILURES_TABLE', 'FINDING_PROVENANCE_TABLE']) {
      expect(() => loadConfig({ AWS_REGION: 'eu-west-1', ...env, [name]: undefined }), name).toThrow(
        ConfigError,
      );
    }
  });

  it('takes the account id from the function ARN, else from ACCOUNT_ID, else fails naming it', () => {
    const arn = 'arn:aws:lambda:eu-west-1:123456789012:function:cv-security-dev-authzDetector';
    expect(accountIdOf(arn, {})).toBe('123456789012');
    expect(accountIdOf(undefined, { ACCOUNT_ID: '210987654321' })).toBe('210987654321');
    expect(() => accountIdOf(undefined, {})).toThrow(/ACCOUNT_ID/);
    expect(() => accountIdOf('not-an-arn', { ACCOUNT_ID: '12' })).toThrow(ConfigError);
  });

  it('has a least-privilege role (@cv/policy lintIamStatements)', () => {
    expect(lintIamStatements(fn?.iamRoleStatements ?? [])).toEqual([]);
  });

  it('subscribes to the authorization failures of the three event types', () => {
    const filter = fn?.events[0]?.cloudwatchLog?.filter ?? '';
    for (const part of [
      '$.status = "Failure"',
      '$.reason = "AUTHORIZATION_FAILURE"',
      '"Connect"',
      '"Publish-In"',
      '"Subscribe"',
    ]) {
      expect(filter).toContain(part);
    }
  });
});

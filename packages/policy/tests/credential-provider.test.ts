// biome-ignore-all lint/suspicious/noTemplateCurlyInString: IAM / Serverless variables are literal ${...} strings
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { ecuCredentialResources } from '../scripts/ecu-credentials.js';
import {
  escapePolicyVariablesForCloudFormation,
  InvalidPolicyContextError,
  lintIamStatements,
  renderCredentialProviderResources,
  renderCredentialProviderRolePolicy,
  renderCredentialProviderTrustPolicy,
} from '../src/index.js';

const COMMAND_KEY = 'arn:aws:kms:eu-west-1:123456789012:key/11111111-2222-3333-4444-555555555555';
const TELEMETRY_KEY = 'arn:aws:kms:eu-west-1:123456789012:key/66666666-7777-8888-9999-000000000000';
const keys = { commandEncryptionKeyArn: COMMAND_KEY, telemetryKeyArn: TELEMETRY_KEY };

describe('renderCredentialProviderRolePolicy', () => {
  it('allows kms:Decrypt on the command key only for ciphertexts addressed to the calling thing', () => {
    const doc = renderCredentialProviderRolePolicy(keys);
    const decrypt = doc.Statement.filter((s) => [s.Action].flat().includes('kms:Decrypt'));
    expect(decrypt).toEqual([
      {
        Sid: 'DecryptOwnCommands',
        Effect: 'Allow',
        Action: 'kms:Decrypt',
        Resource: COMMAND_KEY,
        Condition: {
          StringEquals: { 'kms:EncryptionContext:aud': '${credentials-iot:ThingName}' },
          'ForAllValues:StringEquals': { 'kms:EncryptionContextKeys': ['aud', 'jti'] },
        },
      },
    ]);
  });

  it('allows only kms:GenerateDataKey on the telemetry key, with the thing pinned in the encryption context', () => {
    const doc = renderCredentialProviderRolePolicy(keys);
    const onTelemetryKey = doc.Statement.filter((s) => s.Resource === TELEMETRY_KEY);
    expect(onTelemetryKey).toHaveLength(1);
    expect(onTelemetryKey[0]?.Action).toBe('kms:GenerateDataKey');
    expect(onTelemetryKey[0]?.Condition?.StringEquals).toEqual({
      'kms:EncryptionContext:thing': '${credentials-iot:ThingName}',
      'kms:EncryptionContext:kind': ['telemetry', 'command-result'],
    });
  });

  it('grants nothing else: two Allow statements, no wildcard, no Deny needed', () => {
    const doc = renderCredentialProviderRolePolicy(keys);
    expect(doc.Version).toBe('2012-10-17');
    expect(doc.Statement.map((s) => [s.Effect, s.Action, s.Resource])).toEqual([
      ['Allow', 'kms:Decrypt', COMMAND_KEY],
      ['Allow', 'kms:GenerateDataKey', TELEMETRY_KEY],
    ]);
    expect(JSON.stringify(doc)).not.toMatch(/"\*"|kms:\*|kms:Encrypt"/);
    expect(lintIamStatements(doc.Statement)).toEqual([]);
  });

  it('accepts CloudFormation intrinsics for the keys', () => {
    const doc = renderCredentialProviderRolePolicy({
      commandEncryptionKeyArn: { 'Fn::GetAtt': ['CommandEncryptionKey', 'Arn'] },
      telemetryKeyArn: { Ref: 'TelemetryKeyArn' },
    });
    expect(doc.Statement[0]?.Resource).toEqual({ 'Fn::GetAtt': ['CommandEncryptionKey', 'Arn'] });
    expect(lintIamStatements(doc.Statement)).toEqual([]);
  });

  it.each([
    ['*'],
    ['arn:aws:kms:eu-west-1:123456789012:key/*'],
    ['arn:aws:kms:eu-west-1:123456789012:alias/cv-command'],
    ['11111111-2222-3333-4444-555555555555'],
    [''],
    [{ 'Fn::GetAtt': ['A', 'Arn'], Ref: 'B' }],
    [{ Other: 'x' }],
    [['arn']],
    [null],
  ])('rejects the key %j', (bad) => {
    expect(() =>
      renderCredentialProviderRolePolicy({ ...keys, commandEncryptionKeyArn: bad as never }),
    ).toThrow(InvalidPolicyContextError);
    expect(() => renderCredentialProviderRolePolicy({ ...keys, telemetryKeyArn: bad as never })).toThrow(
      InvalidPolicyContextError,
    );
  });
});

describe('renderCredentialProviderTrustPolicy', () => {
  it('trusts only the AWS IoT credential provider', () => {
    expect(renderCredentialProviderTrustPolicy()).toEqual({
      Version: '2012-10-17',
      Statement: [
        {
          Effect: 'Allow',
          Principal: { Service: 'credentials.iot.amazonaws.com' },
          Action: 'sts:AssumeRole',
        },
      ],
    });
    expect(lintIamStatements(renderCredentialProviderTrustPolicy().Statement)).toEqual([]);
  });
});

describe('renderCredentialProviderResources', () => {
  it('renders the role and the role alias, with serverless-safe policy variables', () => {
    const fragment = renderCredentialProviderResources({ ...keys, roleAliasName: 'cv-security-dev-ecu' });
    const role = fragment.Resources.EcuCredentialProviderRole;
    const alias = fragment.Resources.EcuRoleAlias;
    expect(role?.Type).toBe('AWS::IAM::Role');
    expect(alias?.Type).toBe('AWS::IoT::RoleAlias');
    expect(alias?.Properties).toEqual({
      RoleAlias: 'cv-security-dev-ecu',
      RoleArn: { 'Fn::GetAtt': ['EcuCredentialProviderRole', 'Arn'] },
      CredentialDurationSeconds: 3600,
    });
    const text = JSON.stringify(role);
    expect(text).toContain('"Fn::Sub":"${!credentials-iot:ThingName}"');
    expect(text).not.toMatch(/\$\{credentials-iot/);
  });

  it.each([899, 43201, 1.5])('rejects a credential duration of %s seconds', (seconds) => {
    expect(() =>
      renderCredentialProviderResources({ ...keys, roleAliasName: 'a', credentialDurationSeconds: seconds }),
    ).toThrow(InvalidPolicyContextError);
  });

  it('raises the role session limit with long credential durations', () => {
    const fragment = renderCredentialProviderResources({
      ...keys,
      roleAliasName: 'a',
      credentialDurationSeconds: 7200,
    });
    expect(fragment.Resources.EcuCredentialProviderRole?.Properties.MaxSessionDuration).toBe(7200);
  });
});

describe('escapePolicyVariablesForCloudFormation', () => {
  it('wraps strings with ${...} in Fn::Sub with ${!...}, and leaves intrinsics alone', () => {
    expect(
      escapePolicyVariablesForCloudFormation({
        a: '${credentials-iot:ThingName}',
        b: ['x', 'p/${aws:username}/${aws:userid}'],
        c: { 'Fn::GetAtt': ['K', 'Arn'] },
        d: 3,
      }),
    ).toEqual({
      a: { 'Fn::Sub': '${!credentials-iot:ThingName}' },
      b: ['x', { 'Fn::Sub': 'p/${!aws:username}/${!aws:userid}' }],
      c: { 'Fn::GetAtt': ['K', 'Arn'] },
      d: 3,
    });
  });
});

describe('serverless/resources/ecu-credentials.yml', () => {
  const path = fileURLToPath(new URL('../../../serverless/resources/ecu-credentials.yml', import.meta.url));
  const text = readFileSync(path, 'utf8');

  it('is exactly what the library renders (regenerate with pnpm --filter @cv/policy run render-resources)', () => {
    expect(parse(text)).toEqual(ecuCredentialResources());
    expect(text.startsWith('# GENERATED')).toBe(true);
  });

  it('has no ${...} the Serverless Framework would try to resolve, other than its own sources', () => {
    const variables = text.match(/\$\{[^}]*\}/g) ?? [];
    expect(variables.length).toBeGreaterThan(0);
    for (const v of variables) expect(v).toMatch(/^\$\{(!|self:|sls:)/);
  });

  it('quotes the policy Version so no YAML 1.1 parser reads it as a date', () => {
    expect(text).not.toMatch(/Version: 2012-10-17/);
    expect(text).toMatch(/Version: "2012-10-17"/);
  });

  it('passes the IAM lint', () => {
    const role = ecuCredentialResources().Resources.EcuCredentialProviderRole;
    const policies = role?.Properties.Policies as { PolicyDocument: { Statement: unknown[] } }[];
    for (const p of policies) expect(lintIamStatements(p.PolicyDocument.Statement)).toEqual([]);
  });
});

/** The template checkers themselves: each check must be able to fail. */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { specProblems } from './template/cfn-spec.js';
import { type CfnResource, type CfnTemplate, iamFindings } from './template/iam.js';

const templatePath = join(
  dirname(fileURLToPath(import.meta.url)),
  '..',
  '.serverless',
  'cloudformation-template-update-stack.json',
);

const role = (statements: unknown[]): CfnTemplate => ({
  Resources: {
    R: {
      Type: 'AWS::IAM::Role',
      Properties: {
        AssumeRolePolicyDocument: {},
        Policies: [{ PolicyName: 'p', PolicyDocument: { Version: '2012-10-17', Statement: statements } }],
      },
    },
  },
});

describe('iamFindings', () => {
  it('accepts scoped statements, partial wildcards and unscopable actions on "*"', () => {
    expect(
      iamFindings(
        role([
          { Effect: 'Allow', Action: ['dynamodb:GetItem'], Resource: { 'Fn::GetAtt': ['T', 'Arn'] } },
          {
            Effect: 'Allow',
            Action: 'kms:GenerateDataKey*',
            Resource: 'arn:aws:kms:eu-west-1:123456789012:key/k',
          },
          { Effect: 'Allow', Action: ['xray:PutTraceSegments', 'iot:DescribeEndpoint'], Resource: '*' },
          { Effect: 'Deny', Action: '*', Resource: '*' },
        ]),
      ),
    ).toEqual([]);
  });

  it.each([
    [{ Effect: 'Allow', Action: '*', Resource: 'arn:aws:s3:::b' }, 'IAM_WILDCARD_ACTION'],
    [
      { Effect: 'Allow', Action: ['iot:*'], Resource: 'arn:aws:iot:eu-west-1:1:thing/x' },
      'IAM_SERVICE_WILDCARD_ACTION',
    ],
    [{ Effect: 'Allow', Action: ['dynamodb:PutItem'], Resource: '*' }, 'IAM_WILDCARD_RESOURCE'],
    [{ Effect: 'Allow', Action: ['xray:PutTraceSegments', 'kms:Sign'], Resource: ['*'] }, 'kms:Sign'],
    [{ Effect: 'Allow', NotAction: 'iam:*', Resource: 'arn:aws:s3:::b' }, 'IAM_ALLOW_NOT_ACTION'],
    [
      { Effect: 'Allow', Action: 'sns:Publish', NotResource: 'arn:aws:sns:eu-west-1:1:t' },
      'IAM_ALLOW_NOT_RESOURCE',
    ],
  ])('flags %j', (statement, problem) => {
    const findings = iamFindings(role([statement]));
    expect(findings).toHaveLength(1);
    expect(findings[0]?.problem).toContain(problem);
  });

  it('takes extra unscopable actions through options only', () => {
    const statement = { Effect: 'Allow', Action: 'sts:GetCallerIdentity', Resource: '*' };
    expect(iamFindings(role([statement]))).toHaveLength(1);
    expect(iamFindings(role([statement]), { unscopableActions: ['sts:GetCallerIdentity'] })).toEqual([]);
  });

  describe.runIf(existsSync(templatePath))('on the packaged template', () => {
    const packaged = () => JSON.parse(readFileSync(templatePath, 'utf8')) as CfnTemplate;
    /** The packaged template (clean: template.test.ts) with one statement added to a function role's first policy. */
    const injected = (statement: unknown): CfnTemplate => {
      const template = packaged();
      const fnRole = Object.entries(template.Resources ?? {}).find(
        ([id, r]) => r.Type === 'AWS::IAM::Role' && id.endsWith('IamRoleLambdaExecution'),
      )?.[1] as CfnResource;
      const policies = fnRole.Properties?.Policies as Array<{ PolicyDocument: { Statement: unknown[] } }>;
      policies[0]?.PolicyDocument.Statement.push(statement);
      return template;
    };

    it.each([
      [{ Effect: 'Allow', Action: '*', Resource: 'arn:aws:s3:::b' }, 'IAM_WILDCARD_ACTION'],
      [{ Effect: 'Allow', Action: 'iot:*', Resource: 'arn:aws:iot:eu-west-1:1:thing/x' }, 'iot:*'],
      [{ Effect: 'Allow', Action: ['dynamodb:GetItem'], Resource: '*' }, 'IAM_WILDCARD_RESOURCE'],
    ])('fails when %j is injected', (statement, problem) => {
      const findings = iamFindings(injected(statement));
      expect(findings).toHaveLength(1);
      expect(findings[0]?.problem).toContain(problem);
    });
  });

  it('checks AWS::IAM::Policy documents and KMS key policies too', () => {
    const template: CfnTemplate = {
      Resources: {
        P: {
          Type: 'AWS::IAM::Policy',
          Properties: { PolicyDocument: { Statement: [{ Effect: 'Allow', Action: 's3:*', Resource: 'x' }] } },
        },
        K: {
          Type: 'AWS::KMS::Key',
          Properties: {
            KeyPolicy: {
              Statement: [
                {
                  Effect: 'Allow',
                  Principal: { AWS: 'arn:aws:iam::123456789012:root' },
                  Action: 'kms:*',
                  Resource: '*',
                },
                { Effect: 'Allow', Principal: { AWS: '*' }, Action: 'kms:Decrypt', Resource: '*' },
                {
                  Effect: 'Allow',
                  Principal: { AWS: 'arn:aws:iam::123456789012:role/r' },
                  Action: 'kms:*',
                  Resource: '*',
                },
                {
                  Effect: 'Allow',
                  Principal: { AWS: '*' },
                  Action: 'kms:Decrypt',
                  Resource: '*',
                  Condition: { StringEquals: { 'kms:CallerAccount': '123456789012' } },
                },
              ],
            },
          },
        },
      },
    };
    expect(
      iamFindings(template).map((f) => `${f.resource}: ${f.problem.replace(/^(IAM_[A-Z_]+): .*$/, '$1')}`),
    ).toEqual([
      'P: IAM_SERVICE_WILDCARD_ACTION',
      'K: Principal "*" without conditions',
      'K: kms:* for a principal other than the account root',
    ]);
  });
});

describe('specProblems', () => {
  it('accepts a valid template with intrinsics', async () => {
    const template: CfnTemplate = {
      Resources: {
        Key: { Type: 'AWS::KMS::Key', Properties: { EnableKeyRotation: true, KeyPolicy: {} } },
        Table: {
          Type: 'AWS::DynamoDB::Table',
          DeletionPolicy: 'Retain',
          Properties: {
            KeySchema: [{ AttributeName: 'id', KeyType: 'HASH' }],
            AttributeDefinitions: [{ AttributeName: 'id', AttributeType: 'S' }],
            BillingMode: 'PAY_PER_REQUEST',
            SSESpecification: { SSEEnabled: true, KMSMasterKeyId: { 'Fn::GetAtt': ['Key', 'Arn'] } },
            DeletionProtectionEnabled: 'false',
          },
        },
      },
      Outputs: { T: { Value: { Ref: 'Table' } }, R: { Value: { Ref: 'AWS::Region' } } },
    };
    expect(await specProblems(template)).toEqual([]);
  });

  it('reports unknown types, unknown and missing properties (nested too), bad values and dangling references', async () => {
    const template: CfnTemplate = {
      Resources: {
        Bogus: { Type: 'AWS::DynamoDB::Tabel', Properties: {} },
        Table: {
          Type: 'AWS::DynamoDB::Table',
          DeletionPolicy: 'Keep',
          Properties: {
            KeySchema: [{ AttributeName: 'id', KeyType: 'HASH' }],
            PointInTimeRecoverySpecification: { PointInTimeRecoveryEnable: true },
            SSESpecification: { KMSMasterKeyId: { 'Fn::GetAtt': ['Missing', 'Arn'] } },
            TableNam: 'x',
            DeletionProtectionEnabled: 'sometimes',
          },
        },
        Key: { Type: 'AWS::KMS::Key', Properties: {} },
      },
      Outputs: { K: { Value: { 'Fn::GetAtt': ['Key', 'Nope'] } }, R: { Value: { Ref: 'Ghost' } } },
    };

    const problems = (await specProblems(template)).join('\n');

    expect(problems).toContain('Bogus: unknown resource type AWS::DynamoDB::Tabel');
    expect(problems).toContain('Table.DeletionPolicy: invalid value "Keep"');
    expect(problems).toContain('Table.TableNam: unknown property');
    expect(problems).toContain(
      'Table.PointInTimeRecoverySpecification.PointInTimeRecoveryEnable: unknown property',
    );
    expect(problems).toContain('Table.SSESpecification.SSEEnabled: required property missing');
    expect(problems).toContain('Table.DeletionProtectionEnabled: value "sometimes" does not fit its type');
    expect(problems).toContain('Fn::GetAtt on unknown Missing');
    expect(problems).toContain('AWS::KMS::Key has no attribute Nope');
    expect(problems).toContain('Ref to unknown Ghost');
  });
});

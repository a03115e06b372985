// biome-ignore-all lint/suspicious/noTemplateCurlyInString: CloudFormation Fn::Sub strings are literal ${...}
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ecuCredentialResources } from '../scripts/ecu-credentials.js';
import type { PolicyFindingCode } from '../src/index.js';
import {
  lintCloudFormationIam,
  lintIamStatements,
  MalformedPolicyError,
  UNSCOPABLE_ACTIONS,
} from '../src/index.js';

const TABLE = { 'Fn::GetAtt': ['CommandsTable', 'Arn'] };

describe('lintIamStatements: flagged', () => {
  it.each<[string, unknown, PolicyFindingCode]>([
    ['Action "*"', { Effect: 'Allow', Action: '*', Resource: '*' }, 'IAM_WILDCARD_ACTION'],
    [
      'Action "*" on a scoped resource',
      { Effect: 'Allow', Action: ['*'], Resource: TABLE },
      'IAM_WILDCARD_ACTION',
    ],
    [
      'iot:*',
      { Effect: 'Allow', Action: 'iot:*', Resource: 'arn:aws:iot:eu-west-1:1:thing/x' },
      'IAM_SERVICE_WILDCARD_ACTION',
    ],
    [
      'kms:*',
      { Effect: 'Allow', Action: ['kms:Decrypt', 'kms:*'], Resource: TABLE },
      'IAM_SERVICE_WILDCARD_ACTION',
    ],
    [
      'partial wildcard kms:Gen*',
      { Effect: 'Allow', Action: 'kms:Gen*', Resource: TABLE },
      'IAM_PARTIAL_WILDCARD_ACTION',
    ],
    [
      'Resource "*" on a scopable action',
      { Effect: 'Allow', Action: 'dynamodb:PutItem', Resource: '*' },
      'IAM_WILDCARD_RESOURCE',
    ],
    [
      'Resource "*" on a mix of scopable and unscopable actions',
      { Effect: 'Allow', Action: ['xray:PutTraceSegments', 'sns:Publish'], Resource: ['*'] },
      'IAM_WILDCARD_RESOURCE',
    ],
    [
      'securityhub:BatchUpdateFindings on "*" (scopable to hub/default)',
      { Effect: 'Allow', Action: 'securityhub:BatchUpdateFindings', Resource: '*' },
      'IAM_WILDCARD_RESOURCE',
    ],
    [
      'arn:*:*:*:*:* counts as "*"',
      { Effect: 'Allow', Action: 'kms:Decrypt', Resource: 'arn:*:*:*:*:*' },
      'IAM_WILDCARD_RESOURCE',
    ],
    [
      'a wildcard action on "*" even if it could match unscopable actions',
      { Effect: 'Allow', Action: 'xray:Put*', Resource: '*' },
      'IAM_WILDCARD_RESOURCE',
    ],
    ['Allow with NotAction', { Effect: 'Allow', NotAction: 'iam:*', Resource: '*' }, 'IAM_ALLOW_NOT_ACTION'],
    [
      'Allow with NotResource',
      { Effect: 'Allow', Action: 'kms:Decrypt', NotResource: TABLE },
      'IAM_ALLOW_NOT_RESOURCE',
    ],
  ])('%s', (_name, statement, code) => {
    const findings = lintIamStatements([statement]);
    expect(findings.map((f) => f.code)).toContain(code);
    expect(findings.every((f) => f.statement === 0)).toBe(true);
  });

  it('points at the right statement', () => {
    const findings = lintIamStatements([
      { Effect: 'Allow', Action: 'dynamodb:GetItem', Resource: TABLE },
      { Effect: 'Allow', Action: 'dynamodb:GetItem', Resource: '*' },
    ]);
    expect(findings.map((f) => [f.code, f.statement])).toEqual([['IAM_WILDCARD_RESOURCE', 1]]);
  });
});

describe('lintIamStatements: clean', () => {
  it.each<[string, unknown[]]>([
    [
      'scoped actions on intrinsics',
      [
        {
          Effect: 'Allow',
          Action: ['dynamodb:GetItem', 'dynamodb:PutItem'],
          Resource: [TABLE, { 'Fn::Sub': '${CommandsTable.Arn}/index/*' }],
        },
      ],
    ],
    [
      'tracing on "*"',
      [{ Effect: 'Allow', Action: ['xray:PutTraceSegments', 'xray:PutTelemetryRecords'], Resource: '*' }],
    ],
    ['iot:DescribeEndpoint on "*"', [{ Effect: 'Allow', Action: 'iot:DescribeEndpoint', Resource: '*' }]],
    ['ssm:CreateOpsItem on "*"', [{ Effect: 'Allow', Action: 'ssm:CreateOpsItem', Resource: '*' }]],
    [
      'cloudwatch:PutMetricData on "*" with a namespace condition',
      [
        {
          Effect: 'Allow',
          Action: 'cloudwatch:PutMetricData',
          Resource: '*',
          Condition: { StringEquals: { 'cloudwatch:namespace': 'cv-security' } },
        },
      ],
    ],
    ['case-insensitive action names', [{ Effect: 'Allow', Action: 'XRAY:PUTTRACESEGMENTS', Resource: '*' }]],
    [
      'a log-group ARN ending in :*',
      [
        {
          Effect: 'Allow',
          Action: 'logs:PutLogEvents',
          Resource: 'arn:aws:logs:eu-west-1:123456789012:log-group:/aws/lambda/x:*',
        },
      ],
    ],
    [
      'Deny with wildcards',
      [
        { Effect: 'Deny', Action: '*', Resource: '*' },
        { Effect: 'Deny', NotAction: 'kms:*', NotResource: '*' },
      ],
    ],
    [
      'a trust statement without Resource',
      [{ Effect: 'Allow', Principal: { Service: 'lambda.amazonaws.com' }, Action: 'sts:AssumeRole' }],
    ],
    [
      'an extra unscopable action passed in options',
      [{ Effect: 'Allow', Action: 'ec2:DescribeNetworkInterfaces', Resource: '*' }],
    ],
  ])('%s', (_name, statements) => {
    expect(lintIamStatements(statements, { unscopableActions: ['EC2:DescribeNetworkInterfaces'] })).toEqual(
      [],
    );
  });

  it('keeps its table of unscopable actions in lower case', () => {
    for (const a of UNSCOPABLE_ACTIONS) expect(a).toBe(a.toLowerCase());
    expect(UNSCOPABLE_ACTIONS).not.toContain('securityhub:batchupdatefindings');
  });
});

describe('lintIamStatements: malformed', () => {
  it.each<[string, unknown]>([
    ['not a list', { Effect: 'Allow' }],
    ['a string statement', ['kms:Decrypt']],
    ['no Effect', [{ Action: 'kms:Decrypt', Resource: '*' }]],
    ['no Resource and no Principal', [{ Effect: 'Allow', Action: 'kms:Decrypt' }]],
    ['a numeric Resource', [{ Effect: 'Allow', Action: 'kms:Decrypt', Resource: 5 }]],
    [
      'an intrinsic with two keys',
      [{ Effect: 'Allow', Action: 'kms:Decrypt', Resource: { Ref: 'a', 'Fn::GetAtt': ['b', 'Arn'] } }],
    ],
  ])('%s -> MalformedPolicyError', (_name, statements) => {
    expect(() => lintIamStatements(statements as unknown[])).toThrow(MalformedPolicyError);
  });

  it('never crashes on arbitrary input', () => {
    fc.assert(
      fc.property(fc.array(fc.anything()), (statements) => {
        try {
          expect(Array.isArray(lintIamStatements(statements))).toBe(true);
        } catch (error) {
          expect(error).toBeInstanceOf(MalformedPolicyError);
        }
      }),
      { numRuns: 500 },
    );
  });
});

describe('lintCloudFormationIam', () => {
  const trust = {
    Version: '2012-10-17',
    Statement: [
      { Effect: 'Allow', Principal: { Service: 'lambda.amazonaws.com' }, Action: 'sts:AssumeRole' },
    ],
  };

  it('finds problems in inline role policies and policy resources, with their location', () => {
    const template = {
      Resources: {
        SenderRole: {
          Type: 'AWS::IAM::Role',
          Properties: {
            AssumeRolePolicyDocument: trust,
            Policies: [
              {
                PolicyName: 'ok',
                PolicyDocument: {
                  Statement: [{ Effect: 'Allow', Action: 'xray:PutTraceSegments', Resource: '*' }],
                },
              },
              {
                PolicyName: 'bad',
                PolicyDocument: { Statement: { Effect: 'Allow', Action: 'kms:*', Resource: TABLE } },
              },
            ],
          },
        },
        Extra: {
          Type: 'AWS::IAM::ManagedPolicy',
          Properties: {
            PolicyDocument: { Statement: [{ Effect: 'Allow', Action: 'sns:Publish', Resource: '*' }] },
          },
        },
        Table: { Type: 'AWS::DynamoDB::Table', Properties: { TableName: 'x' } },
      },
    };
    expect(lintCloudFormationIam(template).map((f) => [f.location, f.code])).toEqual([
      ['SenderRole.Policies[1]', 'IAM_SERVICE_WILDCARD_ACTION'],
      ['Extra', 'IAM_WILDCARD_RESOURCE'],
    ]);
  });

  it('passes the credential-provider resources of this service', () => {
    expect(lintCloudFormationIam(ecuCredentialResources())).toEqual([]);
  });

  it('ignores a template without resources, and rejects a malformed policy document', () => {
    expect(lintCloudFormationIam({})).toEqual([]);
    expect(() =>
      lintCloudFormationIam({
        Resources: { R: { Type: 'AWS::IAM::Policy', Properties: { PolicyDocument: 'x' } } },
      }),
    ).toThrow(MalformedPolicyError);
  });
});

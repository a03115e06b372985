/**
 * The packaged CloudFormation template (`pnpm run package`, which `pnpm run check` runs
 * before the unit tests) against SPEC section 9 and the CloudFormation specification.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { specProblems } from './template/cfn-spec.js';
import { type CfnResource, type CfnTemplate, iamFindings } from './template/iam.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const templatePath = join(root, '.serverless', 'cloudformation-template-update-stack.json');

let template: CfnTemplate;
const resources = () => Object.entries(template.Resources ?? {});
const ofType = (type: string) => resources().filter(([, r]) => r.Type === type);
const props = (r: CfnResource) => r.Properties ?? {};

/** The logical id an intrinsic `{ Ref: X }` or `{ Fn::GetAtt: [X, ...] }` points to. */
function target(value: unknown): string | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const v = value as { Ref?: unknown; 'Fn::GetAtt'?: unknown };
  if (typeof v.Ref === 'string') return v.Ref;
  const getAtt = v['Fn::GetAtt'];
  if (Array.isArray(getAtt) && typeof getAtt[0] === 'string') return getAtt[0];
  if (typeof getAtt === 'string') return getAtt.split('.')[0];
  return undefined;
}

/** A KMS key reference is customer-managed if it points to a key of this template or a key ARN (not an aws/ alias). */
function isCustomerManagedKey(value: unknown): boolean {
  const id = target(value);
  if (id !== undefined) return template.Resources?.[id]?.Type === 'AWS::KMS::Key';
  return typeof value === 'string' && /^arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{12}:key\//.test(value);
}

beforeAll(() => {
  if (!existsSync(templatePath)) {
    throw new Error(`${templatePath} is missing: run \`pnpm run package\` first (\`pnpm run check\` does)`);
  }
  template = JSON.parse(readFileSync(templatePath, 'utf8')) as CfnTemplate;
});

describe('packaged template: shape', () => {
  it('conforms to the CloudFormation resource specification', async () => {
    expect(await specProblems(template)).toEqual([]);
  });

  it('has the shared tables and keys under their contract logical ids', () => {
    const expected: Record<string, string> = {
      EcuRegistryTable: 'AWS::DynamoDB::Table',
      VehicleAccessTable: 'AWS::DynamoDB::Table',
      CommandsTable: 'AWS::DynamoDB::Table',
      TelemetryTable: 'AWS::DynamoDB::Table',
      DataAtRestKey: 'AWS::KMS::Key',
      CommandSigningKey: 'AWS::KMS::Key',
      CommandEncryptionKey: 'AWS::KMS::Key',
      TelemetryKey: 'AWS::KMS::Key',
    };
    for (const [id, type] of Object.entries(expected)) expect(template.Resources?.[id]?.Type, id).toBe(type);
  });

  it('keys the tables as SPEC section 3 says, with TTL on commands and telemetry', () => {
    const r = template.Resources ?? {};
    const keys = (id: string) => props(r[id] as CfnResource).KeySchema;
    expect(keys('EcuRegistryTable')).toEqual([{ AttributeName: 'ecuId', KeyType: 'HASH' }]);
    expect(props(r.EcuRegistryTable as CfnResource).GlobalSecondaryIndexes).toEqual([
      expect.objectContaining({
        IndexName: 'byVin',
        KeySchema: [
          { AttributeName: 'vin', KeyType: 'HASH' },
          { AttributeName: 'ecuId', KeyType: 'RANGE' },
        ],
      }),
    ]);
    expect(keys('VehicleAccessTable')).toEqual([
      { AttributeName: 'userSub', KeyType: 'HASH' },
      { AttributeName: 'vin', KeyType: 'RANGE' },
    ]);
    expect(keys('CommandsTable')).toEqual([{ AttributeName: 'commandId', KeyType: 'HASH' }]);
    expect(keys('TelemetryTable')).toEqual([
      { AttributeName: 'thingName', KeyType: 'HASH' },
      { AttributeName: 'sk', KeyType: 'RANGE' },
    ]);
    // cert-broker's replay ledger (issue 12 item 6): one row per used proof, expiring by TTL.
    expect(keys('EnrolmentProofsTable')).toEqual([{ AttributeName: 'proofId', KeyType: 'HASH' }]);
    for (const id of ['CommandsTable', 'TelemetryTable', 'EnrolmentProofsTable']) {
      expect(props(r[id] as CfnResource).TimeToLiveSpecification).toEqual({
        AttributeName: 'ttl',
        Enabled: true,
      });
    }
    for (const [, table] of ofType('AWS::DynamoDB::Table')) {
      expect(props(table).BillingMode).toBe('PAY_PER_REQUEST');
      expect(String(props(table).TableName)).toMatch(/^cv-security-dev-[a-z-]+$/);
    }
  });

  it('packages at least one function, and every function of the service', () => {
    const state = JSON.parse(readFileSync(join(root, '.serverless', 'serverless-state.json'), 'utf8')) as {
      service: { functions: Record<string, { name: string }> };
    };
    const declared = Object.values(state.service.functions).map((f) => f.name);
    // Custom resource handlers declared under resources (inline code) are not the service's functions.
    const packaged = ofType('AWS::Lambda::Function')
      .filter(([, f]) => (f.Metadata as Record<string, unknown> | undefined)?.['cv:inlineCode'] === undefined)
      .map(([, f]) => props(f).FunctionName);
    expect(declared.length).toBeGreaterThan(0);
    expect(packaged.sort()).toEqual(declared.sort());
  });
});

describe('packaged template: security posture (SPEC section 9)', () => {
  it('grants least privilege: no wildcard actions, no Resource "*" where scoping exists, sane key policies', () => {
    expect(iamFindings(template)).toEqual([]);
  });

  it('gives every function its own role', () => {
    const functions = ofType('AWS::Lambda::Function');
    const roles = functions.map(([id, f]) => {
      const role = target(props(f).Role);
      expect(role, `${id} must use a role of this template`).toBeDefined();
      expect(template.Resources?.[role ?? '']?.Type).toBe('AWS::IAM::Role');
      return role;
    });
    expect(new Set(roles).size).toBe(functions.length);
    // No role is left over for functions to share later.
    const lambdaRoles = ofType('AWS::IAM::Role').filter(([, r]) =>
      JSON.stringify(props(r).AssumeRolePolicyDocument).includes('lambda.amazonaws.com'),
    );
    expect(lambdaRoles.map(([id]) => id).sort()).toEqual([...roles].sort());
  });

  it('lets every traced function write X-Ray segments', () => {
    for (const [id, fn] of ofType('AWS::Lambda::Function')) {
      if ((props(fn).TracingConfig as { Mode?: string } | undefined)?.Mode !== 'Active') continue;
      const role = template.Resources?.[target(props(fn).Role) ?? ''];
      expect(JSON.stringify(role?.Properties?.Policies), id).toContain('xray:PutTraceSegments');
    }
  });

  it('encrypts every table with a customer-managed key and keeps point-in-time recovery on', () => {
    const tables = ofType('AWS::DynamoDB::Table');
    expect(tables.length).toBeGreaterThanOrEqual(4);
    for (const [id, table] of tables) {
      const sse = props(table).SSESpecification as Record<string, unknown> | undefined;
      expect(sse?.SSEEnabled, id).toBe(true);
      expect(isCustomerManagedKey(sse?.KMSMasterKeyId), `${id} KMSMasterKeyId`).toBe(true);
      expect(props(table).PointInTimeRecoverySpecification, id).toMatchObject({
        PointInTimeRecoveryEnabled: true,
      });
    }
  });

  it('encrypts every queue, topic and log group with a customer-managed key', () => {
    for (const [type, property] of [
      ['AWS::SQS::Queue', 'KmsMasterKeyId'],
      ['AWS::SNS::Topic', 'KmsMasterKeyId'],
      ['AWS::Logs::LogGroup', 'KmsKeyId'],
    ] as const) {
      for (const [id, resource] of ofType(type)) {
        expect(isCustomerManagedKey(props(resource)[property]), `${id} ${property}`).toBe(true);
      }
    }
  });

  it('rotates every symmetric encryption key', () => {
    for (const [id, key] of ofType('AWS::KMS::Key')) {
      const spec = props(key).KeySpec ?? 'SYMMETRIC_DEFAULT';
      if (spec === 'SYMMETRIC_DEFAULT') expect(props(key).EnableKeyRotation, id).toBe(true);
    }
    expect(props(template.Resources?.CommandSigningKey as CfnResource)).toMatchObject({
      KeySpec: 'ECC_NIST_P256',
      KeyUsage: 'SIGN_VERIFY',
    });
  });
});

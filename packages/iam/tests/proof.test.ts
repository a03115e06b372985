/**
 * The proof is not vacuous: on copies of the packaged template with a permission mistake put back in (the pre-issue-13
 * OpsItems grant, one statement removed, a key policy that does not delegate to IAM, a condition that does not match),
 * the functions' recorded calls are denied with the function, the action and the reason.
 */
import { describe, expect, it } from 'vitest';
import {
  ACCOUNT,
  type CfnTemplate,
  evaluate,
  iamRequests,
  type LambdaFunction,
  proveFunction,
  ResolvedTemplate,
  readRecordings,
} from '../src/index.js';
import { packagedTemplate, RECORDINGS, ROOT } from './support.js';

const { raw } = packagedTemplate();
const recordings = readRecordings(RECORDINGS, ROOT);

interface RawStatement {
  Effect: string;
  Action?: unknown;
  Resource?: unknown;
  Condition?: unknown;
}
/** A copy of the packaged template with `edit` applied to one role's statements. */
function withRole(roleId: string, edit: (statements: RawStatement[]) => RawStatement[]): ResolvedTemplate {
  const copy = structuredClone(raw) as CfnTemplate;
  const role = copy.Resources?.[roleId]?.Properties as {
    Policies: Array<{ PolicyDocument: { Statement: RawStatement[] } }>;
  };
  for (const p of role.Policies) p.PolicyDocument.Statement = edit(p.PolicyDocument.Statement);
  return new ResolvedTemplate(copy);
}

async function prove(template: ResolvedTemplate, logicalId: string) {
  const fns = template.functions();
  const fn = fns.find((f) => f.logicalId === logicalId) as LambdaFunction;
  return proveFunction(fn, fns, recordings, template);
}

const actionsOf = (s: RawStatement) => [s.Action].flat().map(String);

/**
 * Whether a statement's KMS actions are also granted by its key's policy to every principal of the account (through a
 * service: DataAtRestKey's `UseThroughDynamoDbSqsSns`, like AWS managed keys), which makes the role's grant redundant
 * for the evaluation while it still states what the function needs.
 */
function grantedByKeyPolicyToAnyone(template: ResolvedTemplate, statement: RawStatement): boolean {
  if (!actionsOf(statement).every((a) => a.startsWith('kms:'))) return false;
  const keys = [template.resolve(statement.Resource)].flat().map(String);
  return keys.every((key) =>
    (template.resourcePolicy(key)?.Statement ?? []).some((k) => {
      const principal = k.Principal as { AWS?: unknown } | string | undefined;
      const anyone =
        principal === '*' || (typeof principal === 'object' && [principal.AWS].flat().includes('*'));
      return k.Effect === 'Allow' && anyone && JSON.stringify(k.Condition ?? {}).includes('kms:ViaService');
    }),
  );
}

describe('the static proof on a template with a permission mistake', () => {
  it('the pre-fix OpsItems grant (ssm:DescribeOpsItems on opsitem/*): openTicket denied, with the reason', async () => {
    const template = withRole('RemediationOpenTicketIamRoleLambdaExecution', (statements) => [
      ...statements.map((s) =>
        actionsOf(s).includes('ssm:DescribeOpsItems') ? { ...s, Action: ['ssm:CreateOpsItem'] } : s,
      ),
      {
        Effect: 'Allow',
        Action: ['ssm:DescribeOpsItems'],
        Resource: 'arn:aws:ssm:eu-west-1:123456789012:opsitem/*',
      },
    ]);
    const proof = await prove(template, 'RemediationOpenTicketLambdaFunction');
    expect(proof.denied.map((v) => [v.request.action, v.request.resource])).toEqual([
      ['ssm:DescribeOpsItems', '*'],
    ]);
    expect(proof.denied[0]?.reason).toMatch(/resource differs/);
    expect(proof.unused.map((g) => g.action)).toContain('ssm:DescribeOpsItems');
  });

  it("admin-api's trust grants on another stage's domain and another object key: every domain and truststore request denied", async () => {
    const template = withRole('AdminApiIamRoleLambdaExecution', (statements) =>
      statements.map((s) => {
        const actions = actionsOf(s);
        if (actions.includes('apigateway:PATCH'))
          return { ...s, Resource: 'arn:aws:apigateway:eu-west-1::/domainnames/certs.prod.cv.example.com' };
        if (actions.includes('s3:PutObject'))
          return { ...s, Resource: 'arn:aws:s3:::TruststoreBucket/other.pem' };
        return s;
      }),
    );
    const proof = await prove(template, 'AdminApiLambdaFunction');
    expect(new Set(proof.denied.map((v) => v.request.action))).toEqual(
      new Set([
        'apigateway:GET',
        'apigateway:PATCH',
        's3:PutObject',
        's3:GetObjectVersion',
        's3:DeleteObjectVersion',
      ]),
    );
    expect(proof.denied.map((v) => v.request.resource)).toContain(
      'arn:aws:apigateway:eu-west-1::/domainnames/certs.dev.cv.example.com',
    );
    expect(proof.denied.map((v) => v.request.resource)).toContain(
      'arn:aws:s3:::TruststoreBucket/attestation-cas.pem',
    );
  });

  it('removing any one statement of any function role (other than logs) makes a recorded call denied, unless its key policy grants it to the account through a service', async () => {
    const template = new ResolvedTemplate(raw);
    const survivors: string[] = [];
    for (const fn of template.functions()) {
      const roleId = fn.role.logicalId;
      const count = fn.role.policies.flatMap((p) => p.document.Statement).length;
      for (let i = 0; i < count; i++) {
        let index = 0;
        let removed: RawStatement | undefined;
        const mutated = withRole(roleId, (statements) =>
          statements.filter((s) => {
            const drop = index++ === i;
            if (drop) removed = s;
            return !drop;
          }),
        );
        if (removed === undefined || actionsOf(removed).every((a) => a.startsWith('logs:'))) continue;
        const proof = await prove(mutated, fn.logicalId);
        if (proof.denied.length > 0 || proof.adapterOnly.length > 0) continue;
        if (grantedByKeyPolicyToAnyone(template, removed)) continue;
        survivors.push(`${fn.name}: ${actionsOf(removed).join(',')}`);
      }
    }
    expect(survivors).toEqual([]);
  });

  it('a key policy that does not delegate to IAM denies what the role allows (command-sender Encrypt)', async () => {
    const copy = structuredClone(raw) as CfnTemplate;
    const key = copy.Resources?.CommandEncryptionKey?.Properties as { KeyPolicy: { Statement: unknown[] } };
    key.KeyPolicy.Statement = [
      {
        Effect: 'Allow',
        Principal: { AWS: 'arn:aws:iam::123456789012:role/key-admin' },
        Action: 'kms:*',
        Resource: '*',
      },
    ];
    const proof = await prove(new ResolvedTemplate(copy), 'CommandSenderLambdaFunction');
    expect(new Set(proof.denied.map((v) => v.request.action))).toEqual(new Set(['kms:Encrypt']));
    expect(proof.denied[0]?.reason).toMatch(/resource policy/);
  });

  it('command-sender Encrypt is denied when its context is not exactly { aud, jti }', async () => {
    const template = new ResolvedTemplate(raw);
    const fn = template
      .functions()
      .find((f) => f.logicalId === 'CommandSenderLambdaFunction') as LambdaFunction;
    const principal = {
      arn: `arn:aws:sts::${ACCOUNT}:assumed-role/r/${fn.name}`,
      policies: fn.role.policies,
    };
    const encrypt = (context: Record<string, string>) =>
      iamRequests(
        {
          service: 'KMS',
          operation: 'Encrypt',
          input: { KeyId: fn.environment.COMMAND_ENCRYPTION_KEY_ID, EncryptionContext: context },
        },
        template,
      );
    for (const context of <Array<Record<string, string>>>[
      { aud: 'a' },
      { aud: 'a', jti: 'j', thing: 'a' },
      { jti: 'j' },
    ]) {
      const [request] = await encrypt(context);
      if (request === undefined) throw new Error('no request');
      const verdict = await evaluate(request, principal, template.resourcePolicy(request.resource));
      expect(verdict.allowed, JSON.stringify(context)).toBe(false);
    }
    const [ok] = await encrypt({ aud: 'a', jti: 'j' });
    if (ok === undefined) throw new Error('no request');
    expect((await evaluate(ok, principal, template.resourcePolicy(ok.resource))).allowed).toBe(true);
  });

  it("a call on another stage's table or another account's key is denied", async () => {
    const template = new ResolvedTemplate(raw);
    const fn = template
      .functions()
      .find((f) => f.logicalId === 'CommandSenderLambdaFunction') as LambdaFunction;
    const principal = {
      arn: `arn:aws:sts::${ACCOUNT}:assumed-role/r/${fn.name}`,
      policies: fn.role.policies,
    };
    const calls = [
      { service: 'DynamoDB', operation: 'PutItem', input: { TableName: 'cv-security-prod-commands' } },
      { service: 'KMS', operation: 'Sign', input: { KeyId: 'arn:aws:kms:eu-west-1:111122223333:key/abc' } },
    ];
    for (const call of calls) {
      for (const request of await iamRequests(call, template)) {
        expect((await evaluate(request, principal, template.resourcePolicy(request.resource))).allowed).toBe(
          false,
        );
      }
    }
  });
});

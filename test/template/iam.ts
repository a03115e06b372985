/**
 * Least-privilege checks on the IAM policies of a CloudFormation template (SPEC section 9).
 * Identity policies go through @cv/policy's `lintCloudFormationIam`; KMS key policies, which
 * that linter does not read, are checked here.
 */
import { type IamLintOptions, lintCloudFormationIam } from '@cv/policy';

export type CfnTemplate = { Resources?: Record<string, CfnResource>; Outputs?: Record<string, unknown> };
export type CfnResource = {
  Type: string;
  Properties?: Record<string, unknown>;
  [key: string]: unknown;
};

/**
 * Actions this template may use on `Resource: "*"` beyond @cv/policy's `UNSCOPABLE_ACTIONS`,
 * each with the reason it cannot be scoped.
 */
export const TEMPLATE_IAM_OPTIONS: IamLintOptions = {
  // The state machine's execution logging (RemediationStateMachineRole): CloudWatch Logs' vended
  // log deliveries and resource policies are authorised on "*" only (Step Functions logging guide).
  unscopableActions: [
    'logs:CreateLogDelivery',
    'logs:GetLogDelivery',
    'logs:UpdateLogDelivery',
    'logs:DeleteLogDelivery',
    'logs:ListLogDeliveries',
    'logs:PutResourcePolicy',
    'logs:DescribeResourcePolicies',
    'logs:DescribeLogGroups',
  ],
};

export interface IamFinding {
  resource: string;
  statement: string;
  problem: string;
}

interface KeyPolicyStatement {
  Effect?: unknown;
  Action?: unknown;
  Principal?: unknown;
  Condition?: unknown;
  Sid?: unknown;
}

const asList = (value: unknown): unknown[] =>
  value === undefined ? [] : Array.isArray(value) ? value : [value];

/** Problems of a KMS key policy: a `*` principal needs conditions, and `kms:*` is for the account root only. */
export function keyPolicyFindings(id: string, resource: CfnResource): IamFinding[] {
  const findings: IamFinding[] = [];
  const document = resource.Properties?.KeyPolicy;
  const statements =
    typeof document === 'object' && document !== null
      ? (asList((document as { Statement?: unknown }).Statement) as KeyPolicyStatement[])
      : [];
  statements.forEach((statement, i) => {
    if (statement.Effect !== 'Allow') return;
    const label = typeof statement.Sid === 'string' ? statement.Sid : `Statement[${i}]`;
    const principal = statement.Principal as { AWS?: unknown } | string | undefined;
    const aws = typeof principal === 'object' && principal !== null ? asList(principal.AWS) : [];
    const everyone = principal === '*' || aws.includes('*');
    if (everyone && statement.Condition === undefined) {
      findings.push({ resource: id, statement: label, problem: 'Principal "*" without conditions' });
    }
    const adminActions = asList(statement.Action).some((a) => a === '*' || a === 'kms:*');
    const isRoot = aws.length === 1 && JSON.stringify(aws[0]).includes(':root');
    if (adminActions && !isRoot) {
      findings.push({
        resource: id,
        statement: label,
        problem: 'kms:* for a principal other than the account root',
      });
    }
  });
  return findings;
}

/**
 * Every least-privilege problem of the template's IAM policies (all findings of
 * `lintCloudFormationIam` but the `low` partial wildcards such as `kms:GenerateDataKey*`)
 * and of its KMS key policies.
 * @example expect(iamFindings(template)).toEqual([]);
 */
export function iamFindings(
  template: CfnTemplate,
  options: IamLintOptions = TEMPLATE_IAM_OPTIONS,
): IamFinding[] {
  const findings: IamFinding[] = lintCloudFormationIam(template, options)
    .filter((f) => f.severity !== 'low')
    .map((f) => ({
      resource: f.location,
      statement: `Statement[${f.statement}]`,
      problem: `${f.code}: ${f.reason}`,
    }));
  for (const [id, resource] of Object.entries(template.Resources ?? {})) {
    if (resource.Type === 'AWS::KMS::Key') findings.push(...keyPolicyFindings(id, resource));
  }
  return findings;
}

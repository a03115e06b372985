/**
 * Least-privilege checks on the IAM policies of a CloudFormation template (SPEC section 9).
 * Kept in one small module with one entry point, `iamFindings`, so it can be swapped for
 * the IAM analyzer of @cv/policy when that lands.
 */

export type CfnTemplate = { Resources?: Record<string, CfnResource>; Outputs?: Record<string, unknown> };
export type CfnResource = {
  Type: string;
  Properties?: Record<string, unknown>;
  [key: string]: unknown;
};

/**
 * Actions that support no resource-level scoping, so `Resource: "*"` is the only option
 * (from the Service Authorization Reference: these list no resource types).
 */
export const UNSCOPABLE_ACTIONS: ReadonlySet<string> = new Set([
  'xray:PutTraceSegments',
  'xray:PutTelemetryRecords',
  'xray:GetSamplingRules',
  'xray:GetSamplingTargets',
  'xray:GetSamplingStatisticSummaries',
  'iot:DescribeEndpoint',
  'kms:CreateKey',
  'kms:ListKeys',
  'kms:ListAliases',
  'kms:GenerateRandom',
  'cloudwatch:PutMetricData',
  // CloudWatch Logs vended log delivery (e.g. Step Functions execution logging).
  'logs:CreateLogDelivery',
  'logs:GetLogDelivery',
  'logs:UpdateLogDelivery',
  'logs:DeleteLogDelivery',
  'logs:ListLogDeliveries',
  'logs:PutResourcePolicy',
  'logs:DescribeResourcePolicies',
  'logs:DescribeLogGroups',
  'ssm:DescribeParameters',
  // Systems Manager OpsCenter: no resource type (docs/policies.md, checked against the Service Authorization Reference).
  'ssm:CreateOpsItem',
  'sts:GetCallerIdentity',
  'ec2:CreateNetworkInterface',
  'ec2:DescribeNetworkInterfaces',
  'ec2:DeleteNetworkInterface',
  'ec2:AssignPrivateIpAddresses',
  'ec2:UnassignPrivateIpAddresses',
]);

export interface PolicyStatement {
  Effect?: unknown;
  Action?: unknown;
  NotAction?: unknown;
  Resource?: unknown;
  NotResource?: unknown;
  Principal?: unknown;
  Condition?: unknown;
  Sid?: unknown;
}

export interface IamFinding {
  resource: string;
  statement: string;
  problem: string;
}

const asList = (value: unknown): unknown[] =>
  value === undefined ? [] : Array.isArray(value) ? value : [value];

function statementsOf(document: unknown): PolicyStatement[] {
  if (typeof document !== 'object' || document === null) return [];
  return asList((document as { Statement?: unknown }).Statement) as PolicyStatement[];
}

/** The identity-based policy documents of a resource, with a label each. */
function identityPolicies(id: string, resource: CfnResource): Array<[string, unknown]> {
  const p = resource.Properties ?? {};
  switch (resource.Type) {
    case 'AWS::IAM::Role':
    case 'AWS::IAM::User':
    case 'AWS::IAM::Group':
      return asList(p.Policies).map((policy, i) => [
        `${id}.Policies[${i}]`,
        (policy as { PolicyDocument?: unknown }).PolicyDocument,
      ]);
    case 'AWS::IAM::Policy':
    case 'AWS::IAM::ManagedPolicy':
    case 'AWS::IAM::RolePolicy':
      return [[id, p.PolicyDocument]];
    default:
      return [];
  }
}

/** Problems of one identity-policy statement; empty when it is least-privilege. */
export function statementFindings(statement: PolicyStatement): string[] {
  if (statement.Effect !== 'Allow') return [];
  const problems: string[] = [];
  if (statement.NotAction !== undefined) problems.push('Allow with NotAction grants everything else');
  if (statement.NotResource !== undefined)
    problems.push('Allow with NotResource grants every other resource');
  const actions = asList(statement.Action);
  for (const action of actions) {
    if (typeof action !== 'string') {
      problems.push(`non-literal action ${JSON.stringify(action)}`);
      continue;
    }
    if (action === '*') problems.push('Action "*"');
    else if (/^[A-Za-z0-9-]+:\*$/.test(action)) problems.push(`service wildcard ${action}`);
  }
  const resources = asList(statement.Resource);
  if (resources.includes('*')) {
    const scopable = actions.filter((a) => typeof a !== 'string' || !UNSCOPABLE_ACTIONS.has(a));
    if (scopable.length > 0) {
      problems.push(`Resource "*" on actions that support resource scoping: ${scopable.join(', ')}`);
    }
  }
  return problems;
}

/** Problems of a KMS key policy: a `*` principal needs conditions, and `kms:*` is for the account root only. */
export function keyPolicyFindings(id: string, resource: CfnResource): IamFinding[] {
  const findings: IamFinding[] = [];
  statementsOf(resource.Properties?.KeyPolicy).forEach((statement, i) => {
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
 * Every least-privilege problem of the template's IAM policies and KMS key policies.
 * @example expect(iamFindings(template)).toEqual([]);
 */
export function iamFindings(template: CfnTemplate): IamFinding[] {
  const findings: IamFinding[] = [];
  for (const [id, resource] of Object.entries(template.Resources ?? {})) {
    for (const [label, document] of identityPolicies(id, resource)) {
      statementsOf(document).forEach((statement, i) => {
        const name = typeof statement.Sid === 'string' ? statement.Sid : `Statement[${i}]`;
        for (const problem of statementFindings(statement)) {
          findings.push({ resource: label, statement: name, problem });
        }
      });
    }
    if (resource.Type === 'AWS::KMS::Key') findings.push(...keyPolicyFindings(id, resource));
  }
  return findings;
}

import { hasWildcard, isServiceWideWildcard } from './actions.js';
import { FindingSink } from './analyzer.js';
import { MalformedPolicyError } from './errors.js';
import type { ParsedStatement } from './parse.js';
import { parseStatement } from './parse.js';
import type { PolicyFinding } from './types.js';

/**
 * IAM actions whose Service Authorization Reference entry lists no resource type, so the
 * only valid `Resource` is `"*"` (they may still take condition keys). Each entry was
 * checked against the Service Authorization Reference (see docs/policies.md, "Actions that
 * cannot be scoped", for the verification status of each). Lower case; extend per call with
 * `lintIamStatements(..., { unscopableActions })` after checking the reference.
 *
 * Not here on purpose: `securityhub:BatchUpdateFindings` (resource type `hub`: scope it to
 * `arn:aws:securityhub:<region>:<account>:hub/default`) and `securityhub:BatchImportFindings`
 * (resource type `product*`).
 */
export const UNSCOPABLE_ACTIONS: readonly string[] = Object.freeze([
  // AWS IoT: account-level calls.
  'iot:describeendpoint',
  'iot:describeeventconfigurations',
  'iot:updateeventconfigurations',
  'iot:getindexingconfiguration',
  'iot:updateindexingconfiguration',
  // X-Ray: the Lambda tracing write path (tracing: lambda: true).
  'xray:puttracesegments',
  'xray:puttelemetryrecords',
  'xray:getsamplingrules',
  'xray:getsamplingtargets',
  'xray:getsamplingstatisticsummaries',
  // CloudWatch metrics: no resource type; restrict with the cloudwatch:namespace condition key.
  'cloudwatch:putmetricdata',
  // Systems Manager OpsCenter: CreateOpsItem and DescribeOpsItems have no resource type.
  'ssm:createopsitem',
  'ssm:describeopsitems',
]);

/** Options of {@link lintIamStatements}. */
export interface IamLintOptions {
  /** More actions (any case) that may use `Resource: "*"`, on top of {@link UNSCOPABLE_ACTIONS}. */
  unscopableActions?: readonly string[];
}

function isWildcardResource(value: unknown): boolean {
  if (typeof value !== 'string') return false;
  if (/^[*?]+$/.test(value)) return true;
  // arn:*:*:*:*:* and friends: every ARN field a wildcard.
  return /^arn(:[*?]*){5}$/.test(value) || value === 'arn:*';
}

function lintStatement(statement: ParsedStatement, unscopable: ReadonlySet<string>, sink: FindingSink): void {
  const idx = statement.index;
  if (statement.effect !== 'Allow') return;
  if (statement.notActions) {
    sink.add(
      'IAM_ALLOW_NOT_ACTION',
      idx,
      `Allow with NotAction (${statement.notActions.join(', ')}) grants every other action of every service; list the actions instead.`,
    );
  }
  if (statement.notResources) {
    sink.add(
      'IAM_ALLOW_NOT_RESOURCE',
      idx,
      'Allow with NotResource grants the actions on every resource but the listed ones; list the resources instead.',
    );
  }
  const actions = statement.actions ?? [];
  for (const action of actions) {
    if (/^[*]+$/.test(action)) {
      sink.add('IAM_WILDCARD_ACTION', idx, `Action "${action}" grants every action of every AWS service.`, {
        action,
      });
    } else if (isServiceWideWildcard(action)) {
      sink.add(
        'IAM_SERVICE_WILDCARD_ACTION',
        idx,
        `Action ${action} grants every action of the service (present and future); list the actions the function calls.`,
        { action },
      );
    } else if (hasWildcard(action)) {
      sink.add(
        'IAM_PARTIAL_WILDCARD_ACTION',
        idx,
        `Action ${action} is a wildcard; it may grant more actions than needed now or later. Prefer explicit action names.`,
        { action },
      );
    }
  }
  const wildResources = (statement.resources ?? []).filter(isWildcardResource) as string[];
  if (wildResources.length === 0) return;
  const scopable = actions.filter((action) => {
    const lower = action.toLowerCase();
    // A wildcard action may match scopable actions (now or later), so it never earns "*".
    return hasWildcard(lower) || !unscopable.has(lower);
  });
  if (scopable.length > 0) {
    sink.add(
      'IAM_WILDCARD_RESOURCE',
      idx,
      `Resource "${wildResources[0]}" with action(s) ${scopable.join(', ')} that support resource-level permissions; name the ARNs (tables, keys, topics, ...) instead.`,
      { resource: wildResources[0] },
    );
  }
}

/**
 * Lints IAM policy statements (e.g. a function's `iamRoleStatements`, or the `Statement`
 * of a role policy in the packaged CloudFormation template) for SPEC section 9: no
 * `Action: "*"`, no service-wide wildcards (`iot:*`, `kms:*`), no `Resource: "*"` for an
 * action that supports resource scoping (see {@link UNSCOPABLE_ACTIONS}), no Allow with
 * NotAction / NotResource. Partial wildcards (`kms:Gen*`) are reported as `low`.
 * Resources may be CloudFormation intrinsics (`Fn::GetAtt`, `Ref`, `Fn::Sub`, ...), which
 * count as scoped. Deny statements are never findings. Trust-policy statements (with a
 * `Principal`) may omit `Resource`.
 *
 * @throws MalformedPolicyError when a statement is not an IAM statement.
 * @example
 * ```ts
 * lintIamStatements([{ Effect: 'Allow', Action: ['kms:Decrypt'], Resource: '*' }]);
 * // [{ code: 'IAM_WILDCARD_RESOURCE', severity: 'high', statement: 0, ... }]
 * lintIamStatements([{ Effect: 'Allow', Action: 'xray:PutTraceSegments', Resource: '*' }]); // []
 * ```
 */
export function lintIamStatements(statements: unknown[], opts?: IamLintOptions): PolicyFinding[] {
  if (!Array.isArray(statements)) throw new MalformedPolicyError('$', 'must be a list of statements');
  const unscopable = new Set([
    ...UNSCOPABLE_ACTIONS,
    ...(opts?.unscopableActions ?? []).map((a) => a.toLowerCase()),
  ]);
  const sink = new FindingSink();
  statements.forEach((raw, index) => {
    const path = `Statement[${index}]`;
    const statement = parseStatement(raw, index, path, true);
    const hasPrincipal =
      raw !== null && typeof raw === 'object' && ('Principal' in raw || 'NotPrincipal' in raw);
    if (!hasPrincipal && statement.resources === undefined && statement.notResources === undefined) {
      throw new MalformedPolicyError(path, 'has neither Resource nor NotResource');
    }
    lintStatement(statement, unscopable, sink);
  });
  return sink.findings;
}

/** A finding of {@link lintCloudFormationIam}: where it is, and what. */
export interface IamTemplateFinding extends PolicyFinding {
  /** `<LogicalId>.Policies[<i>]` for inline role/user/group policies, `<LogicalId>` for policy resources. */
  location: string;
}

const INLINE_POLICY_TYPES = new Set(['AWS::IAM::Role', 'AWS::IAM::User', 'AWS::IAM::Group']);
const POLICY_RESOURCE_TYPES = new Set([
  'AWS::IAM::Policy',
  'AWS::IAM::ManagedPolicy',
  'AWS::IAM::RolePolicy',
]);

function statementsOf(document: unknown, location: string): unknown[] {
  if (document === null || typeof document !== 'object' || Array.isArray(document)) {
    throw new MalformedPolicyError(location, 'PolicyDocument must be an object');
  }
  const raw = (document as { Statement?: unknown }).Statement;
  if (raw === undefined) throw new MalformedPolicyError(`${location}.Statement`, 'is missing');
  return Array.isArray(raw) ? raw : [raw];
}

/**
 * Runs {@link lintIamStatements} over every identity-based policy of a CloudFormation
 * template (the packaged serverless template): inline `Policies` of `AWS::IAM::Role`,
 * `User` and `Group`, and `AWS::IAM::Policy` / `ManagedPolicy` / `RolePolicy` resources.
 * Trust policies (`AssumeRolePolicyDocument`) are not identity policies and are skipped.
 *
 * @throws MalformedPolicyError when a policy document in the template is malformed.
 * @example
 * ```ts
 * const template = JSON.parse(readFileSync('.serverless/cloudformation-template-update-stack.json', 'utf8'));
 * expect(lintCloudFormationIam(template).filter((f) => f.severity !== 'low')).toEqual([]);
 * ```
 */
export function lintCloudFormationIam(template: unknown, opts?: IamLintOptions): IamTemplateFinding[] {
  const resources =
    template !== null && typeof template === 'object'
      ? (template as { Resources?: unknown }).Resources
      : undefined;
  if (resources === undefined) return [];
  if (resources === null || typeof resources !== 'object' || Array.isArray(resources)) {
    throw new MalformedPolicyError('Resources', 'must be an object');
  }
  const out: IamTemplateFinding[] = [];
  for (const [id, resource] of Object.entries(resources)) {
    if (resource === null || typeof resource !== 'object') continue;
    const { Type: type, Properties: props } = resource as {
      Type?: unknown;
      Properties?: Record<string, unknown>;
    };
    if (typeof type !== 'string' || props === null || typeof props !== 'object') continue;
    const documents: [string, unknown][] = [];
    if (INLINE_POLICY_TYPES.has(type) && props.Policies !== undefined) {
      const policies = Array.isArray(props.Policies) ? props.Policies : [props.Policies];
      policies.forEach((policy, i) => {
        documents.push([
          `${id}.Policies[${i}]`,
          (policy as { PolicyDocument?: unknown } | null)?.PolicyDocument,
        ]);
      });
    }
    if (POLICY_RESOURCE_TYPES.has(type)) documents.push([id, props.PolicyDocument]);
    for (const [location, document] of documents) {
      for (const finding of lintIamStatements(statementsOf(document, location), opts)) {
        out.push({ ...finding, location });
      }
    }
  }
  return out;
}

/**
 * One IAM request evaluated with @cloud-copilot/iam-simulate against a principal's identity policies and the resource
 * policy it meets (a KMS key policy: a role allowed by IAM but not by the key policy is denied).
 */
import { runSimulation } from '@cloud-copilot/iam-simulate';
import type { IamRequest } from './requests.js';
import { ACCOUNT, type PolicyDocument, type PolicyStatement } from './template.js';

export interface Principal {
  /** The session ARN requests are made with. */
  arn: string;
  policies: Array<{ name: string; document: PolicyDocument }>;
  /** Policy variables of the session (`credentials-iot:ThingName`), resolved in the policies before evaluation. */
  variables?: Record<string, string>;
}

export interface Verdict {
  request: IamRequest;
  allowed: boolean;
  /** Why not, in one line (which policy did not allow it, or which statement denied it). */
  reason: string;
  /** The identity statements that allowed it. */
  allowedBy: PolicyStatement[];
}

interface StatementMatch {
  policyId?: string;
  statement: PolicyStatement;
  resourceMatch?: boolean;
  actionMatch?: boolean;
  conditionMatch?: string;
}
interface Analysis {
  result: string;
  identityAnalysis?: {
    result: string;
    allowStatements?: StatementMatch[];
    denyStatements?: StatementMatch[];
    unmatchedStatements?: StatementMatch[];
  };
  resourceAnalysis?: { result: string; denyStatements?: StatementMatch[] };
}

/** A CloudWatch Logs log group as its log-group actions are authorised (the documented ARN with a trailing `:*`). */
const LOG_GROUP_AUTHORISED = /^arn:[^:]+:logs:[^:]+:\d{12}:log-group:[^*:]+:\*$/;

/** Replaces `${name}` policy variables the session defines (others are left for the simulator). */
function withVariables(document: PolicyDocument, variables: Record<string, string>): PolicyDocument {
  const json = JSON.stringify(document).replace(
    /\$\{([^}]+)\}/g,
    (whole, name: string) => variables[name] ?? whole,
  );
  return JSON.parse(json) as PolicyDocument;
}

/** A statement in one line: its Sid, or its policy, actions and resources (the analysis holds policy objects). */
function label(m: StatementMatch): string {
  const raw = JSON.parse(JSON.stringify(m.statement)) as PolicyStatement;
  const list = (v: string | string[] | undefined) => [v ?? []].flat().join(',');
  return raw.Sid ?? `${m.policyId ?? 'policy'}: ${list(raw.Action)} on ${list(raw.Resource)}`;
}

function explain(analysis: Analysis): string {
  const id = analysis.identityAnalysis;
  const deny = [...(id?.denyStatements ?? []), ...(analysis.resourceAnalysis?.denyStatements ?? [])];
  if (deny.length > 0) return `explicitly denied by ${deny.map(label).join(', ')}`;
  if (id !== undefined && id.result !== 'Allowed') {
    const near = (id.unmatchedStatements ?? []).filter((m) => m.actionMatch);
    if (near.length === 0) return 'no statement of the role allows this action';
    return `the role's statements for this action do not match: ${near
      .map(
        (m) =>
          `${label(m)} (${m.resourceMatch ? '' : 'resource differs'}${m.resourceMatch || m.conditionMatch === 'Match' ? '' : ', '}${m.conditionMatch === 'Match' ? '' : 'condition not met'})`,
      )
      .join('; ')}`;
  }
  return `not allowed by the resource policy (${analysis.resourceAnalysis?.result ?? 'none'})`;
}

/**
 * Evaluates one request; `resourcePolicy` is the key policy (or queue policy) of the resource, if any.
 * @example const v = await evaluate(request, principal, keyPolicy); if (!v.allowed) console.log(v.reason);
 */
export async function evaluate(
  request: IamRequest,
  principal: Principal,
  resourcePolicy: PolicyDocument | undefined,
): Promise<Verdict> {
  const variables = principal.variables ?? {};
  const result = await runSimulation(
    {
      request: {
        principal: principal.arn,
        action: request.action,
        resource: { resource: request.resource, accountId: ACCOUNT },
        contextVariables: request.context,
      },
      identityPolicies: principal.policies.map((p) => ({
        name: p.name,
        policy: withVariables(p.document, variables),
      })),
      serviceControlPolicies: [],
      resourceControlPolicies: [],
      ...(resourcePolicy === undefined ? {} : { resourcePolicy }),
    },
    {},
  );
  if (result.resultType === 'error') {
    return {
      request,
      allowed: false,
      reason: `not a valid request: ${result.errors.message}`,
      allowedBy: [],
    };
  }
  if (result.resultType === 'wildcard' && LOG_GROUP_AUTHORISED.test(request.resource)) {
    // CloudWatch Logs authorises log-group actions on `log-group:<name>:*`: that string is the resource, not a
    // pattern over resources. Evaluated as the exact pattern (a statement on exactly that string, or a wider one).
    const exact = result.results.filter((r) => r.resourcePattern === request.resource);
    const analyses = exact.map((r) => r.analysis as unknown as Analysis);
    const allowed = analyses.length > 0 && analyses.every((a) => a.result === 'Allowed');
    const first = analyses.find((a) => a.result !== 'Allowed') ?? analyses[0];
    return {
      request,
      allowed,
      reason: allowed
        ? ''
        : first === undefined
          ? 'no statement of the role allows this action'
          : explain(first),
      allowedBy: analyses.flatMap((a) => (a.identityAnalysis?.allowStatements ?? []).map((m) => m.statement)),
    };
  }
  if (result.resultType !== 'single') {
    return { request, allowed: false, reason: 'resource is a wildcard', allowedBy: [] };
  }
  const ignored = (result.result.ignoredContextKeys ?? []).filter((k) => !(k in variables));
  const analysis = result.result.analysis as unknown as Analysis;
  const allowed = result.overallResult === 'Allowed';
  return {
    request,
    allowed,
    reason: allowed
      ? ''
      : `${explain(analysis)}${ignored.length > 0 ? ` (context keys not applicable to the action: ${ignored.join(', ')})` : ''}`,
    allowedBy: (analysis.identityAnalysis?.allowStatements ?? []).map((m) => m.statement),
  };
}

/**
 * The proof for the roles AWS services assume on the platform's behalf and for the resource policies services meet:
 * every request of {@link serviceRequests} evaluated against its role (or, for a service principal, the resource's
 * policy alone), every grant of a service role used by one of them, every Lambda permission used by an invoker.
 */
import { evaluate, type Principal, type Verdict } from './evaluate.js';
import { type Grant, grantsOf, unusedGrants } from './proof.js';
import type { ServiceRequest } from './service-request.js';
import { serviceRequests } from './services.js';
import { ACCOUNT, type ResolvedTemplate, type Role } from './template.js';

export interface ServiceRoleProof {
  role: Role;
  /** The services that use the role (from the requests). */
  principals: string[];
  /**
   * `sts:AssumeRole` by each of those services, against the role's trust policy: from this account (must be allowed)
   * and on behalf of another account (must be denied: the trust policy names the account, no confused deputy).
   */
  assume: { own: Verdict[]; otherAccount: Verdict[] };
  verdicts: Verdict[];
  denied: Verdict[];
  granted: Grant[];
  unused: Grant[];
}

export interface ServiceProof {
  roles: ServiceRoleProof[];
  /** Requests service principals make themselves, judged by the resource policy alone. */
  principalVerdicts: Verdict[];
  principalDenied: Verdict[];
  /** `AWS::Lambda::Permission`s no derived invoker uses. */
  unusedPermissions: string[];
  /** Roles that trust a service but are used by no derived request, with their managed policies (not evaluated). */
  unprovenRoles: Array<{ role: string; trusted: string[]; managedPolicies: string[] }>;
  unmapped: string[];
}

/** An account that is not the stack's. */
const OTHER_ACCOUNT = '111122223333';

const key = (r: ServiceRequest) => JSON.stringify([r.role, r.principal, r.action, r.resource, r.context]);

/** The service principals a role's trust policy names. */
function trusted(template: ResolvedTemplate, roleId: string): string[] {
  return (template.trustPolicy(roleId).Statement ?? []).flatMap((s) =>
    [(s.Principal as { Service?: string | string[] } | undefined)?.Service ?? []].flat().map(String),
  );
}

/**
 * @example const proof = await proveServices(template); expect(proof.roles.flatMap((r) => r.denied)).toEqual([]);
 */
export async function proveServices(template: ResolvedTemplate): Promise<ServiceProof> {
  const { requests, unmapped } = serviceRequests(template);
  const unique = [...new Map(requests.map((r) => [key(r), r])).values()].sort((a, b) =>
    key(a).localeCompare(key(b)),
  );
  const byRole = new Map<string, ServiceRequest[]>();
  const asPrincipal: ServiceRequest[] = [];
  for (const r of unique) {
    if (r.role === undefined) asPrincipal.push(r);
    else byRole.set(r.role, [...(byRole.get(r.role) ?? []), r]);
  }
  const roles: ServiceRoleProof[] = [];
  for (const [roleId, reqs] of [...byRole].sort(([a], [b]) => a.localeCompare(b))) {
    let role: Role;
    try {
      role = template.role(roleId);
    } catch (error) {
      unmapped.push(`${roleId}: ${error instanceof Error ? error.message : String(error)}`);
      continue;
    }
    const principal: Principal = {
      arn: `arn:aws:sts::${ACCOUNT}:assumed-role/${role.arn.split('/').pop()}/service`,
      policies: role.policies,
    };
    const verdicts: Verdict[] = [];
    for (const r of reqs) verdicts.push(await evaluate(r, principal, template.resourcePolicy(r.resource)));
    const grants = grantsOf(role);
    const principals = [...new Set(reqs.map((r) => r.principal))].sort();
    const assume = async (account: string) => {
      const out: Verdict[] = [];
      for (const service of principals) {
        const request = {
          action: 'sts:AssumeRole',
          resource: role.arn,
          context: { 'aws:SourceAccount': account },
          origin: `${service} assumes ${roleId} for account ${account}`,
        };
        out.push(await evaluate(request, { arn: service, policies: [] }, template.trustPolicy(roleId)));
      }
      return out;
    };
    roles.push({
      role,
      principals,
      assume: { own: await assume(ACCOUNT), otherAccount: await assume(OTHER_ACCOUNT) },
      verdicts,
      denied: verdicts.filter((v) => !v.allowed),
      granted: grants.map(({ statement, action, resource }) => ({ statement, action, resource })),
      unused: unusedGrants(grants, verdicts),
    });
  }
  const principalVerdicts: Verdict[] = [];
  for (const r of asPrincipal) {
    const servicePrincipal: Principal = { arn: r.principal, policies: [] };
    principalVerdicts.push(await evaluate(r, servicePrincipal, template.resourcePolicy(r.resource)));
  }
  const used = new Set(
    principalVerdicts
      .filter((v) => v.allowed && v.request.action === 'lambda:InvokeFunction')
      .flatMap((v) =>
        (template.lambdaPermissionPolicy(v.request.resource)?.Statement ?? [])
          .filter((s) => matchesPermission(s, v.request as ServiceRequest))
          .map((s) => s.Sid ?? ''),
      ),
  );
  const usedRoles = new Set(byRole.keys());
  return {
    roles,
    principalVerdicts,
    principalDenied: principalVerdicts.filter((v) => !v.allowed),
    unusedPermissions: template
      .ofType('AWS::Lambda::Permission')
      .map(([id]) => id)
      .filter((id) => !used.has(id)),
    unprovenRoles: template
      .ofType('AWS::IAM::Role')
      .map(([id]) => id)
      .filter((id) => !usedRoles.has(id) && !trusted(template, id).includes('lambda.amazonaws.com'))
      .map((id) => ({
        role: id,
        trusted: trusted(template, id),
        managedPolicies: template.managedPolicyArns(id),
      })),
    unmapped,
  };
}

const glob = (pattern: string, value: string) =>
  new RegExp(
    `^${pattern
      .replace(/[.+^${}()|[\]\\]/g, '\\$&')
      .replace(/\*/g, '.*')
      .replace(/\?/g, '.')}$`,
  ).test(value);

/** Whether one statement of a Lambda permission policy is what lets this invoker in (principal and source match). */
function matchesPermission(
  s: { Principal?: unknown; Condition?: Record<string, Record<string, unknown>> },
  r: ServiceRequest,
): boolean {
  const principal = (s.Principal as { Service?: string } | undefined)?.Service;
  if (principal !== r.principal) return false;
  const sourceArn = s.Condition?.ArnLike?.['aws:SourceArn'];
  const sourceAccount = s.Condition?.StringEquals?.['aws:SourceAccount'];
  return (
    (sourceArn === undefined || glob(String(sourceArn), String(r.context['aws:SourceArn']))) &&
    (sourceAccount === undefined || sourceAccount === r.context['aws:SourceAccount'])
  );
}

/**
 * What the analyzer knows about AWS IoT actions in device policies (IoT policies).
 * Data-plane actions are those a device legitimately needs; everything else under
 * `iot:` is control plane (registry, certificates, policies, jobs management, rules)
 * and never belongs in a device's policy.
 */

/** How a data-plane action's resource is checked. */
export type DataPlaneKind =
  | 'connect'
  | 'topic'
  | 'topicfilter'
  | 'shadow'
  | 'job'
  | 'retained-list'
  | 'rolealias';

/** Device data-plane actions (lower case) and their resource kind. */
export const DATA_PLANE_ACTIONS: ReadonlyMap<string, DataPlaneKind> = new Map<string, DataPlaneKind>([
  ['iot:connect', 'connect'],
  ['iot:publish', 'topic'],
  ['iot:receive', 'topic'],
  ['iot:retainpublish', 'topic'],
  ['iot:getretainedmessage', 'topic'],
  ['iot:subscribe', 'topicfilter'],
  ['iot:getthingshadow', 'shadow'],
  ['iot:updatethingshadow', 'shadow'],
  ['iot:deletethingshadow', 'shadow'],
  ['iot:listnamedshadowsforthing', 'shadow'],
  ['iot:describejobexecution', 'job'],
  ['iot:getpendingjobexecutions', 'job'],
  ['iot:startnextpendingjobexecution', 'job'],
  ['iot:updatejobexecution', 'job'],
  ['iot:listretainedmessages', 'retained-list'],
  ['iot:assumerolewithcertificate', 'rolealias'],
]);

/** Canonical spelling of the data-plane actions, for messages. */
export const DATA_PLANE_NAMES: ReadonlyMap<string, string> = new Map(
  [
    'iot:Connect',
    'iot:Publish',
    'iot:Receive',
    'iot:RetainPublish',
    'iot:GetRetainedMessage',
    'iot:Subscribe',
    'iot:GetThingShadow',
    'iot:UpdateThingShadow',
    'iot:DeleteThingShadow',
    'iot:ListNamedShadowsForThing',
    'iot:DescribeJobExecution',
    'iot:GetPendingJobExecutions',
    'iot:StartNextPendingJobExecution',
    'iot:UpdateJobExecution',
    'iot:ListRetainedMessages',
    'iot:AssumeRoleWithCertificate',
  ].map((name) => [name.toLowerCase(), name]),
);

/**
 * Control-plane IoT actions the analyzer recognises when a policy names them through a
 * wildcard (`iot:Delete*`, `iot:*Thing`). Any other explicit `iot:` action outside
 * {@link DATA_PLANE_ACTIONS} is treated as control plane too.
 */
export const CONTROL_PLANE_ACTIONS: readonly string[] = [
  'iot:AcceptCertificateTransfer',
  'iot:AddThingToThingGroup',
  'iot:AttachPolicy',
  'iot:AttachPrincipalPolicy',
  'iot:AttachThingPrincipal',
  'iot:CancelJob',
  'iot:CancelJobExecution',
  'iot:ClearDefaultAuthorizer',
  'iot:CreateCertificateFromCsr',
  'iot:CreateJob',
  'iot:CreateKeysAndCertificate',
  'iot:CreatePolicy',
  'iot:CreatePolicyVersion',
  'iot:CreateRoleAlias',
  'iot:CreateThing',
  'iot:CreateThingGroup',
  'iot:CreateTopicRule',
  'iot:DeleteCACertificate',
  'iot:DeleteCertificate',
  'iot:DeleteJob',
  'iot:DeleteJobExecution',
  'iot:DeletePolicy',
  'iot:DeletePolicyVersion',
  'iot:DeleteRoleAlias',
  'iot:DeleteThing',
  'iot:DeleteThingGroup',
  'iot:DeleteTopicRule',
  'iot:DescribeCACertificate',
  'iot:DescribeCertificate',
  'iot:DescribeEndpoint',
  'iot:DescribeJob',
  'iot:DescribeThing',
  'iot:DetachPolicy',
  'iot:DetachPrincipalPolicy',
  'iot:DetachThingPrincipal',
  'iot:GetPolicy',
  'iot:GetPolicyVersion',
  'iot:GetRegistrationCode',
  'iot:ListAttachedPolicies',
  'iot:ListCertificates',
  'iot:ListJobs',
  'iot:ListPolicies',
  'iot:ListThingGroups',
  'iot:ListThings',
  'iot:RegisterCACertificate',
  'iot:RegisterCertificate',
  'iot:RegisterThing',
  'iot:RejectCertificateTransfer',
  'iot:RemoveThingFromThingGroup',
  'iot:ReplaceTopicRule',
  'iot:SearchIndex',
  'iot:SetDefaultPolicyVersion',
  'iot:TransferCertificate',
  'iot:UpdateCACertificate',
  'iot:UpdateCertificate',
  'iot:UpdateEventConfigurations',
  'iot:UpdateIndexingConfiguration',
  'iot:UpdateThing',
  'iot:UpdateThingGroup',
  'iot:UpdateAccountAuditConfiguration',
];

const globCache = new Map<string, RegExp>();

/** IAM-style glob (`*` any run of characters, `?` one character) as an anchored RegExp. */
export function globToRegExp(pattern: string, caseInsensitive: boolean): RegExp {
  const key = `${caseInsensitive ? 'i' : 's'}:${pattern}`;
  const cached = globCache.get(key);
  if (cached) return cached;
  let source = '^';
  for (const ch of pattern) {
    if (ch === '*') source += '[\\s\\S]*';
    else if (ch === '?') source += '[\\s\\S]';
    else source += ch.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
  }
  const re = new RegExp(`${source}$`, caseInsensitive ? 'i' : '');
  if (globCache.size > 1000) globCache.clear();
  globCache.set(key, re);
  return re;
}

export function hasWildcard(value: string): boolean {
  return value.includes('*') || value.includes('?');
}

/** True when an action pattern grants every action of a service (`*`, `iot:*`, `*:*`, `iot:**`). */
export function isServiceWideWildcard(pattern: string): boolean {
  if (/^[*]+$/.test(pattern)) return true;
  const colon = pattern.indexOf(':');
  if (colon < 0) return false;
  return /^[*]+$/.test(pattern.slice(colon + 1));
}

/** The known IoT actions (lower case) an action pattern matches. */
export function expandIotAction(pattern: string): string[] {
  const lower = pattern.toLowerCase();
  if (!hasWildcard(lower)) return [lower];
  const re = globToRegExp(lower, true);
  const out: string[] = [];
  for (const name of DATA_PLANE_ACTIONS.keys()) if (re.test(name)) out.push(name);
  for (const name of CONTROL_PLANE_ACTIONS) {
    const l = name.toLowerCase();
    if (re.test(l)) out.push(l);
  }
  return out;
}

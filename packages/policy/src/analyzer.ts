import type { DataPlaneKind } from './actions.js';
import {
  CONTROL_PLANE_ACTIONS,
  DATA_PLANE_ACTIONS,
  DATA_PLANE_NAMES,
  expandIotAction,
  globToRegExp,
  hasWildcard,
  isServiceWideWildcard,
} from './actions.js';
import type { ParsedStatement, ResourceValue } from './parse.js';
import { parsePolicyDocument } from './parse.js';
import type { FindingSeverity, PolicyFinding, PolicyFindingCode } from './types.js';
import { POLICY_VERSION } from './types.js';

// biome-ignore lint/suspicious/noTemplateCurlyInString: AWS policy variable, not a JS template
const THING_VAR = '${iot:Connection.Thing.ThingName}';
// biome-ignore lint/suspicious/noTemplateCurlyInString: AWS policy variable, not a JS template
const CN_VAR = '${iot:Certificate.Subject.CommonName}';
// biome-ignore lint/suspicious/noTemplateCurlyInString: AWS policy variable, not a JS template
const CLIENT_ID_VAR = '${iot:ClientId}';
const IS_ATTACHED = 'iot:connection.thing.isattached';

const SEVERITY: Record<PolicyFindingCode, FindingSeverity> = {
  WILDCARD_ACTION: 'high',
  ALLOW_NOT_ACTION: 'high',
  ALLOW_NOT_RESOURCE: 'high',
  CLIENT_ID_NOT_BOUND_TO_THING: 'high',
  CONNECT_WITHOUT_IS_ATTACHED: 'high',
  TOPIC_NOT_THING_SCOPED: 'high',
  TOPIC_FILTER_NOT_THING_SCOPED: 'high',
  SHADOW_NOT_THING_SCOPED: 'high',
  JOB_EXECUTION_NOT_THING_SCOPED: 'high',
  RETAINED_MESSAGES_NOT_THING_SCOPED: 'medium',
  CONTROL_PLANE_ACTION: 'high',
  ROLE_ALIAS_NOT_SCOPED: 'medium',
  RESOURCE_WILDCARD_ACCOUNT_OR_REGION: 'low',
  POLICY_VARIABLES_NEED_VERSION_2012: 'low',
  NON_IOT_ACTION: 'low',
  IAM_WILDCARD_ACTION: 'high',
  IAM_SERVICE_WILDCARD_ACTION: 'high',
  IAM_PARTIAL_WILDCARD_ACTION: 'low',
  IAM_WILDCARD_RESOURCE: 'high',
  IAM_ALLOW_NOT_ACTION: 'high',
  IAM_ALLOW_NOT_RESOURCE: 'high',
};

/** Severity of a finding code. */
export function severityOf(code: PolicyFindingCode): FindingSeverity {
  return SEVERITY[code];
}

/** Collects findings, one per (statement, code, action, resource). */
export class FindingSink {
  readonly findings: PolicyFinding[] = [];
  private readonly seen = new Set<string>();
  add(
    code: PolicyFindingCode,
    statement: number,
    reason: string,
    extra?: { action?: string; resource?: string },
  ): void {
    const key = JSON.stringify([statement, code, (extra?.action ?? '').toLowerCase(), extra?.resource ?? '']);
    if (this.seen.has(key)) return;
    this.seen.add(key);
    const finding: PolicyFinding = { code, severity: SEVERITY[code], statement, reason };
    if (extra?.action !== undefined) finding.action = extra.action;
    if (extra?.resource !== undefined) finding.resource = extra.resource;
    this.findings.push(finding);
  }
}

/** Resource types of IoT ARNs, per data-plane kind. */
const RESOURCE_TYPE: Record<DataPlaneKind, string> = {
  connect: 'client',
  topic: 'topic',
  topicfilter: 'topicfilter',
  shadow: 'thing',
  job: 'thing',
  'retained-list': '',
  rolealias: 'rolealias',
};

type Classified =
  | { kind: 'any'; wildAccount: boolean }
  | { kind: 'other' }
  | { kind: 'typed'; name: string; wildAccount: boolean };

/**
 * Where an IoT resource points for a resource type: every resource of that type (`*`,
 * `arn:aws:iot:*`, `...:topic*`), another type (irrelevant to the action), or one name.
 */
function classify(resource: string, type: string): Classified {
  const parts = resource.split(':');
  if (parts.length < 6) {
    const probe = `arn:aws:iot:eu-west-1:123456789012:${type}/cv-probe`;
    return globToRegExp(resource, false).test(probe) ? { kind: 'any', wildAccount: true } : { kind: 'other' };
  }
  const [arn = '', partition = '', service = '', region = '', account = ''] = parts;
  const rest = parts.slice(5).join(':');
  if (!globToRegExp(arn, false).test('arn') || !globToRegExp(service, false).test('iot'))
    return { kind: 'other' };
  if (!/^aws(-[a-z]+)*$/.test(partition) && !hasWildcard(partition)) return { kind: 'other' };
  const wildAccount = hasWildcard(region) || hasWildcard(account);
  if (rest.startsWith(`${type}/`)) return { kind: 'typed', name: rest.slice(type.length + 1), wildAccount };
  const slash = rest.indexOf('/');
  const head = slash < 0 ? rest : rest.slice(0, slash);
  if (hasWildcard(head) && globToRegExp(head, false).test(type)) return { kind: 'any', wildAccount };
  if (slash < 0 && hasWildcard(rest) && globToRegExp(rest, false).test(`${type}/cv-probe`)) {
    return { kind: 'any', wildAccount };
  }
  return { kind: 'other' };
}

const SCOPE_VARS = [THING_VAR, CN_VAR];

/**
 * True when `name` (a topic, topic filter, client id or thing name, policy variables
 * unresolved) cannot match a resource of another device: either it has no wildcard at all
 * (one fixed name), or a thing-identity variable forms a whole level (`/`-delimited)
 * before the first wildcard. `${iot:ClientId}` counts as a thing identity only when
 * `clientIdBound` (iot:Connect pins client ids to the thing); otherwise it counts as a
 * wildcard. `${thing}*` is not scoped: it also matches any thing whose name starts with
 * this one's (`VIN_ecu1` -> `VIN_ecu10`).
 */
export function isThingScoped(rawName: string, wildcards: string, clientIdBound: boolean): boolean {
  // An unbound ${iot:ClientId} is whatever the device sends: as good as a wildcard.
  const name = clientIdBound ? rawName : rawName.split(CLIENT_ID_VAR).join('*');
  const effectiveWildcards = wildcards.includes('*') ? wildcards : `${wildcards}*`;
  let first = -1;
  for (let i = 0; i < name.length; i++) {
    if (effectiveWildcards.includes(name[i] ?? '')) {
      first = i;
      break;
    }
  }
  if (first < 0) return true;
  const vars = clientIdBound ? [...SCOPE_VARS, CLIENT_ID_VAR] : SCOPE_VARS;
  for (const v of vars) {
    let at = name.indexOf(v);
    while (at >= 0 && at < first) {
      const before = at === 0 ? '/' : name[at - 1];
      const after = name[at + v.length] ?? '/';
      if (before === '/' && after === '/' && at + v.length <= first) return true;
      at = name.indexOf(v, at + 1);
    }
  }
  return false;
}

function conditionRequiresAttached(statement: ParsedStatement): boolean {
  for (const [operator, block] of Object.entries(statement.condition ?? {})) {
    if (operator.toLowerCase() !== 'bool') continue;
    for (const [key, value] of Object.entries(block)) {
      if (key.toLowerCase() !== IS_ATTACHED) continue;
      const values = Array.isArray(value) ? value : [value];
      if (
        values.length > 0 &&
        values.every((v) => v === true || (typeof v === 'string' && v.toLowerCase() === 'true'))
      ) {
        return true;
      }
    }
  }
  return false;
}

function strings(values: ResourceValue[] | undefined): string[] {
  return (values ?? []).filter((v): v is string => typeof v === 'string');
}

/**
 * How an Allow statement grants iot:Connect: not at all, only to client ids bound to the
 * thing (or fixed client ids), or to client ids the device chooses.
 */
function connectBinding(statement: ParsedStatement): 'none' | 'bound' | 'unbound' {
  if (statement.effect !== 'Allow') return 'none';
  if (statement.notActions) {
    const excludesConnect = statement.notActions.some((a) => expandIotAction(a).includes('iot:connect'));
    return excludesConnect ? 'none' : 'unbound';
  }
  const grantsConnect = (statement.actions ?? []).some((a) => expandIotAction(a).includes('iot:connect'));
  if (!grantsConnect) return 'none';
  if (statement.notResources) return 'unbound';
  let sawClient = false;
  for (const r of strings(statement.resources)) {
    const c = classify(r, 'client');
    if (c.kind === 'any') return 'unbound';
    if (c.kind === 'typed') {
      sawClient = true;
      if (!isThingScoped(c.name, '*?', false)) return 'unbound';
      if (c.name.includes(THING_VAR) && !conditionRequiresAttached(statement)) return 'unbound';
    }
  }
  return sawClient ? 'bound' : 'none';
}

const KIND_CODE: Record<DataPlaneKind, PolicyFindingCode> = {
  connect: 'CLIENT_ID_NOT_BOUND_TO_THING',
  topic: 'TOPIC_NOT_THING_SCOPED',
  topicfilter: 'TOPIC_FILTER_NOT_THING_SCOPED',
  shadow: 'SHADOW_NOT_THING_SCOPED',
  job: 'JOB_EXECUTION_NOT_THING_SCOPED',
  'retained-list': 'RETAINED_MESSAGES_NOT_THING_SCOPED',
  rolealias: 'ROLE_ALIAS_NOT_SCOPED',
};

function describeBroad(
  kind: DataPlaneKind,
  action: string,
  resource: string,
  clientIdBound: boolean,
): string {
  const clientIdNote =
    resource.includes(CLIENT_ID_VAR) && !clientIdBound
      ? ` \${iot:ClientId} is chosen by the device unless iot:Connect pins client ids to the thing.`
      : '';
  switch (kind) {
    case 'connect':
      return `${action} on ${resource} lets a certificate connect with any client id, so it can take over (disconnect) another device's session; bind the client id to \${iot:Connection.Thing.ThingName}.${clientIdNote}`;
    case 'topic':
      return `${action} on ${resource} reaches MQTT topics of other devices; scope the topic with \${iot:Connection.Thing.ThingName} as a whole level before any wildcard.${clientIdNote}`;
    case 'topicfilter':
      return `${action} on ${resource} allows subscribing to topic filters that cover other devices' topics (in topicfilter resources '+' and '#' are literal filter characters, so a filter like ecus/+/commands is granted as such); scope it with \${iot:Connection.Thing.ThingName}.${clientIdNote}`;
    case 'shadow':
      return `${action} on ${resource} reads or modifies the shadows of other things; use thing/\${iot:Connection.Thing.ThingName}.${clientIdNote}`;
    case 'job':
      return `${action} on ${resource} reads or updates job executions of other things; use thing/\${iot:Connection.Thing.ThingName}.${clientIdNote}`;
    case 'retained-list':
      return `${action} lists the retained messages of every topic in the account; devices should only read their own retained topics with iot:GetRetainedMessage.`;
    case 'rolealias':
      return `${action} on ${resource} lets the device obtain credentials for any role alias in the account; name the one role alias it needs.`;
  }
}

function checkStatement(statement: ParsedStatement, clientIdBound: boolean, sink: FindingSink): void {
  const idx = statement.index;
  if (statement.notActions) {
    sink.add(
      'ALLOW_NOT_ACTION',
      idx,
      `Allow with NotAction (${statement.notActions.join(', ')}) grants every other action, including iot:* and control-plane actions added later; list the allowed actions instead.`,
    );
  }
  if (statement.notResources) {
    sink.add(
      'ALLOW_NOT_RESOURCE',
      idx,
      `Allow with NotResource grants the actions on every resource except the listed ones, i.e. on all other devices' topics, client ids and things; list the allowed resources instead.`,
    );
  }
  const actions = statement.actions ?? [];
  const kinds = new Map<DataPlaneKind, string[]>();
  const controlPlane: string[] = [];
  for (const pattern of actions) {
    const colon = pattern.indexOf(':');
    const service = colon < 0 ? pattern : pattern.slice(0, colon);
    const serviceRe = globToRegExp(service.toLowerCase(), true);
    if (isServiceWideWildcard(pattern) && serviceRe.test('iot')) {
      sink.add(
        'WILDCARD_ACTION',
        idx,
        `Action ${pattern} grants every AWS IoT action (present and future), including control-plane actions; list the data-plane actions the device needs.`,
        { action: pattern },
      );
    }
    if (!serviceRe.test('iot')) {
      if (!serviceRe.test('greengrass')) {
        sink.add(
          'NON_IOT_ACTION',
          idx,
          `Action ${pattern} is not an AWS IoT action and has no effect in an IoT policy.`,
          {
            action: pattern,
          },
        );
      }
      continue;
    }
    for (const action of expandIotAction(colon < 0 ? 'iot:*' : pattern)) {
      const kind = DATA_PLANE_ACTIONS.get(action);
      if (kind) {
        const list = kinds.get(kind) ?? [];
        list.push(DATA_PLANE_NAMES.get(action) ?? action);
        kinds.set(kind, list);
      } else {
        const known = CONTROL_PLANE_ACTIONS.find((a) => a.toLowerCase() === action);
        controlPlane.push(known ?? action);
      }
    }
  }
  if (controlPlane.length > 0) {
    const shown =
      controlPlane.slice(0, 6).join(', ') + (controlPlane.length > 6 ? `, ... (${controlPlane.length})` : '');
    sink.add(
      'CONTROL_PLANE_ACTION',
      idx,
      `Control-plane action(s) ${shown} granted to a device: a compromised ECU could change the registry, certificates or policies of the fleet; devices only need data-plane actions.`,
    );
  }
  if (!statement.resources) return;
  const resources = strings(statement.resources);
  for (const [kind, actionNames] of kinds) {
    const action = actionNames.join('/');
    if (kind === 'retained-list') {
      sink.add(KIND_CODE[kind], idx, describeBroad(kind, action, '*', clientIdBound), { action });
      continue;
    }
    const type = RESOURCE_TYPE[kind];
    const wildcards = kind === 'topicfilter' ? '*?+#' : '*?';
    for (const resource of resources) {
      const c = classify(resource, type);
      if (c.kind === 'other') continue;
      if (c.kind === 'typed' && c.wildAccount) {
        sink.add(
          'RESOURCE_WILDCARD_ACCOUNT_OR_REGION',
          idx,
          `Resource ${resource} uses a wildcard for the region or account; name both so the policy cannot match resources elsewhere.`,
          { resource },
        );
      }
      const broad =
        c.kind === 'any' ||
        (kind === 'rolealias' ? hasWildcard(c.name) : !isThingScoped(c.name, wildcards, clientIdBound)) ||
        (kind === 'connect' && c.name.includes(CLIENT_ID_VAR));
      if (broad) {
        sink.add(KIND_CODE[kind], idx, describeBroad(kind, action, resource, clientIdBound), {
          action,
          resource,
        });
        continue;
      }
      if (
        kind === 'connect' &&
        c.kind === 'typed' &&
        c.name.includes(THING_VAR) &&
        !conditionRequiresAttached(statement)
      ) {
        sink.add(
          'CONNECT_WITHOUT_IS_ATTACHED',
          idx,
          `${action} on ${resource} uses the thing name variable without Condition Bool iot:Connection.Thing.IsAttached = true: the thing name is taken from the client id, so a certificate could connect as any registered thing (and reach its thing-scoped topics); require that the certificate is attached to the thing it connects as.`,
          { action, resource },
        );
      }
    }
  }
}

/** True when a condition block (any JSON-ish value) mentions a policy variable in a key or string value. */
function mentionsVariable(value: unknown, depth = 0): boolean {
  if (depth > 8) return false;
  if (typeof value === 'string') return value.includes('${');
  if (Array.isArray(value)) return value.some((v) => mentionsVariable(v, depth + 1));
  if (value !== null && typeof value === 'object') {
    return Object.entries(value).some(([k, v]) => k.includes('${') || mentionsVariable(v, depth + 1));
  }
  return false;
}

/**
 * Analyzes an AWS IoT policy document the way AWS IoT Device Defender's
 * `IOT_POLICY_OVERLY_PERMISSIVE_CHECK` judges device policies, and more: every Allow
 * statement is checked for service-wide wildcards, NotAction/NotResource, control-plane
 * actions, client ids not bound to the thing, topics / topic filters / shadows / job
 * executions not scoped to the connected thing, and `iot:Connect` on the thing name
 * without `iot:Connection.Thing.IsAttached`. Deny statements never produce findings.
 * Actions match case-insensitively and with wildcards (`iot:Pub*`); Action/Resource may
 * be a string or a list; `Statement` may be one object or a list.
 *
 * An empty result means no finding, not that the policy is correct for its device.
 *
 * @param doc the policy: an object, or its JSON text as `GetPolicy` returns it.
 * @throws MalformedPolicyError when `doc` is not a policy document.
 * @example
 * ```ts
 * analyzeIotPolicy({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 'iot:*', Resource: '*' }] })
 *   .map((f) => f.code); // ['WILDCARD_ACTION', 'CONTROL_PLANE_ACTION', 'CLIENT_ID_NOT_BOUND_TO_THING', ...]
 * ```
 */
export function analyzeIotPolicy(doc: unknown): PolicyFinding[] {
  const policy = parsePolicyDocument(doc);
  const sink = new FindingSink();
  // ${iot:ClientId} is the thing's identity only if every Connect grant pins the client id.
  const bindings = policy.statements.map(connectBinding);
  const clientIdBound = bindings.includes('bound') && !bindings.includes('unbound');
  for (const statement of policy.statements) {
    if (statement.effect === 'Allow') checkStatement(statement, clientIdBound, sink);
  }
  if (policy.version !== POLICY_VERSION) {
    const withVariables = policy.statements.find(
      (s) =>
        s.effect === 'Allow' &&
        ([...strings(s.resources), ...strings(s.notResources)].some((v) => v.includes('${')) ||
          mentionsVariable(s.condition)),
    );
    if (withVariables) {
      sink.add(
        'POLICY_VARIABLES_NEED_VERSION_2012',
        withVariables.index,
        `Policy variables are only substituted with "Version": "${POLICY_VERSION}" (found ${policy.version === undefined ? 'no Version' : JSON.stringify(policy.version)}); they are otherwise taken literally and the policy does not do what it says.`,
      );
    }
  }
  return sink.findings;
}

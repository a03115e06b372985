import { checkIotPolicyContext, checkPolicyName, checkRole } from './context.js';
import { InvalidPolicyContextError } from './errors.js';
import type { EcuRole, IotPolicyContext, IotPolicyDocument, IotPolicyStatement } from './types.js';
import { ECU_ROLES, IOT_POLICY_MAX_CHARS, POLICY_VERSION } from './types.js';

/** The policy variable every device resource is pinned to. */
// biome-ignore lint/suspicious/noTemplateCurlyInString: AWS policy variable, not a JS template
export const THING = '${iot:Connection.Thing.ThingName}';

/**
 * Roles whose ECUs keep a device shadow (classic and named shadows of their own thing).
 * gateway: vehicle state (locks, windows, engine) reported for the app; telematics:
 * connectivity and position; body: doors, windows, lights. infotainment and adas have
 * no state the cloud reads or sets, so they get no shadow access.
 */
export const ROLES_WITH_SHADOW: readonly EcuRole[] = Object.freeze([
  'gateway',
  'telematics',
  'body',
] as const);

/**
 * Renders the AWS IoT policy shared by every ECU of one role. The document names no
 * device: every resource is pinned to the connected thing with
 * `${iot:Connection.Thing.ThingName}`, so one policy per role serves the whole fleet
 * (attach it to each certificate; never create a policy per device).
 *
 * Grants: connect as its own thing (certificate attached to that thing); publish its
 * own telemetry and command results; subscribe to / receive its own commands; its own
 * IoT Jobs topics (certificate rotation); its own shadow for {@link ROLES_WITH_SHADOW};
 * `iot:AssumeRoleWithCertificate` on the credential provider's role alias.
 *
 * @throws InvalidPolicyContextError on an unknown role or a malformed context, or if the
 *   document would exceed AWS IoT's 2,048 characters (only with an absurdly long role alias).
 * @example
 * ```ts
 * const doc = renderIotPolicy('gateway', { region: 'eu-west-1', accountId: '123456789012', roleAlias: 'cv-security-dev-ecu' });
 * await iot.send(new CreatePolicyCommand({ policyName: iotPolicyName('gateway', { prefix: 'cv-security-dev' }), policyDocument: JSON.stringify(doc) }));
 * ```
 */
export function renderIotPolicy(role: EcuRole, ctx: IotPolicyContext): IotPolicyDocument {
  const r = checkRole(role);
  const { region, accountId, roleAlias, partition } = checkIotPolicyContext(ctx);
  const arn = (resource: string): string => `arn:${partition}:iot:${region}:${accountId}:${resource}`;
  const own = `ecus/${THING}`;
  const jobs = `$aws/things/${THING}/jobs`;
  const shadow = `$aws/things/${THING}/shadow`;
  const withShadow = ROLES_WITH_SHADOW.includes(r);

  const publish = [
    arn(`topic/${own}/telemetry`),
    arn(`topic/${own}/command-results`),
    arn(`topic/${jobs}/*`),
  ];
  const subscribe = [arn(`topicfilter/${own}/commands`), arn(`topicfilter/${jobs}/*`)];
  const receive = [arn(`topic/${own}/commands`), arn(`topic/${jobs}/*`)];
  if (withShadow) {
    publish.push(arn(`topic/${shadow}/get`), arn(`topic/${shadow}/update`));
    subscribe.push(arn(`topicfilter/${shadow}/*`));
    receive.push(arn(`topic/${shadow}/*`));
  }

  const statements: IotPolicyStatement[] = [
    {
      Effect: 'Allow',
      Action: 'iot:Connect',
      Resource: arn(`client/${THING}`),
      Condition: { Bool: { 'iot:Connection.Thing.IsAttached': 'true' } },
    },
    { Effect: 'Allow', Action: 'iot:Publish', Resource: publish },
    { Effect: 'Allow', Action: 'iot:Subscribe', Resource: subscribe },
    { Effect: 'Allow', Action: 'iot:Receive', Resource: receive },
    { Effect: 'Allow', Action: 'iot:AssumeRoleWithCertificate', Resource: arn(`rolealias/${roleAlias}`) },
  ];
  const doc: IotPolicyDocument = { Version: POLICY_VERSION, Statement: statements };
  if (iotPolicySize(doc) > IOT_POLICY_MAX_CHARS) {
    throw new InvalidPolicyContextError(
      'roleAlias',
      `makes the ${r} policy exceed ${IOT_POLICY_MAX_CHARS} characters`,
    );
  }
  return doc;
}

/**
 * The least-privilege replacement for a permissive policy of a known role: what the
 * remediation step `fixPolicy` installs as the new default version. Today it is exactly
 * {@link renderIotPolicy}; kept separate so remediation never depends on how templates are built.
 *
 * @example
 * ```ts
 * const role = roleFromPolicyName(policyName, 'cv-security-dev');
 * if (role) await iot.send(new CreatePolicyVersionCommand({ policyName, setAsDefault: true,
 *   policyDocument: JSON.stringify(proposeLeastPrivilege(role, ctx)) }));
 * ```
 */
export function proposeLeastPrivilege(role: EcuRole, ctx: IotPolicyContext): IotPolicyDocument {
  return renderIotPolicy(role, ctx);
}

/**
 * Renders the quarantine policy for the quarantine thing group: one explicit Deny of
 * every IoT action on every resource. An explicit Deny wins over any Allow from the
 * role policy attached to the certificate, so a quarantined ECU can no longer connect,
 * publish, subscribe, receive, touch jobs or shadows, or obtain AWS credentials.
 *
 * @example
 * ```ts
 * await iot.send(new CreatePolicyCommand({ policyName: 'cv-security-dev-quarantine',
 *   policyDocument: JSON.stringify(renderQuarantinePolicy()) }));
 * ```
 */
export function renderQuarantinePolicy(): IotPolicyDocument {
  return {
    Version: POLICY_VERSION,
    Statement: [{ Effect: 'Deny', Action: 'iot:*', Resource: '*' }],
  };
}

/**
 * The IoT policy name of a role: `<prefix>-ecu-<role>`, e.g. `cv-security-dev-ecu-gateway`.
 * One policy per role, never per device.
 *
 * @throws InvalidPolicyContextError if the name would be invalid for IoT (`[\w+=,.@-]{1,128}`).
 * @example
 * ```ts
 * iotPolicyName('body', { prefix: 'cv-security-prod' }); // 'cv-security-prod-ecu-body'
 * ```
 */
export function iotPolicyName(role: EcuRole, opts: { prefix: string }): string {
  return checkPolicyName(`${opts.prefix}-ecu-${checkRole(role)}`);
}

/**
 * Inverse of {@link iotPolicyName}: the role whose template a policy name belongs to,
 * or `undefined` when the name is not one of ours (then remediation must not rewrite it).
 *
 * @example
 * ```ts
 * roleFromPolicyName('cv-security-dev-ecu-adas', 'cv-security-dev'); // 'adas'
 * roleFromPolicyName('someone-elses-policy', 'cv-security-dev'); // undefined
 * ```
 */
export function roleFromPolicyName(name: string, prefix: string): EcuRole | undefined {
  if (typeof name !== 'string' || typeof prefix !== 'string') return undefined;
  const head = `${prefix}-ecu-`;
  if (!name.startsWith(head)) return undefined;
  const rest = name.slice(head.length);
  return ECU_ROLES.find((role) => role === rest);
}

/**
 * Size of a policy document as AWS IoT counts it against its 2,048-character limit:
 * the JSON text without whitespace outside string values.
 *
 * @example
 * ```ts
 * iotPolicySize(renderQuarantinePolicy()) < IOT_POLICY_MAX_CHARS; // true
 * ```
 */
export function iotPolicySize(doc: unknown): number {
  const text = typeof doc === 'string' ? doc : JSON.stringify(doc);
  return text.replace(/\s/g, '').length;
}

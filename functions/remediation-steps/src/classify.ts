import type { z } from 'zod';
import {
  type AsffFinding,
  AsffFindingSchema,
  type AsffResource,
  SecurityHubImportedEventSchema,
} from './asff.js';
import { MalformedFindingError } from './errors.js';
import { type Action, CERTIFICATE_ID, type Plan, PlanSchema, POLICY_NAME, THING_NAME } from './plan.js';

/** GeneratorId prefix of the findings our own authz-detector imports (see docs/remediation.md). */
export const OWN_GENERATOR_PREFIX = 'cv-security/';

/**
 * A copied operational key (shared certificate, conflicting client ids): cut it off (quarantine, INACTIVE), revoke it
 * at the CA so it can never be activated again, and rotate by re-enrolment (docs/protocol.md): the genuine ECU, refused,
 * re-enrols with its attestation key, which the copy lacks. The thing stays quarantined until an operator releases it.
 */
const DEVICE_COMPROMISE: readonly Action[] = [
  'quarantine',
  'deactivateCertificate',
  'revokeCertificate',
  'rotateCertificate',
  'notify',
  'openTicket',
];
const CERTIFICATE_HYGIENE: readonly Action[] = ['rotateCertificate', 'notify'];
const CA_PROBLEM: readonly Action[] = ['notify', 'openTicket'];
const BEHAVIOUR_VIOLATION: readonly Action[] = [
  'quarantine',
  'deactivateCertificate',
  'notify',
  'openTicket',
];
const OTHER: readonly Action[] = ['openTicket'];

/** SPEC section 8 playbook, by Device Defender audit check name. Anything not listed gets {@link OTHER}. */
export const PLAYBOOK: Readonly<Record<string, readonly Action[]>> = {
  IOT_POLICY_OVERLY_PERMISSIVE_CHECK: ['fixPolicy', 'notify', 'openTicket'],
  DEVICE_CERTIFICATE_SHARED_CHECK: DEVICE_COMPROMISE,
  CONFLICTING_CLIENT_IDS_CHECK: DEVICE_COMPROMISE,
  REVOKED_DEVICE_CERTIFICATE_STILL_ACTIVE_CHECK: ['deactivateCertificate', 'notify'],
  DEVICE_CERTIFICATE_EXPIRING_CHECK: CERTIFICATE_HYGIENE,
  DEVICE_CERTIFICATE_KEY_QUALITY_CHECK: CERTIFICATE_HYGIENE,
  CA_CERTIFICATE_EXPIRING_CHECK: CA_PROBLEM,
  REVOKED_CA_CERTIFICATE_STILL_ACTIVE_CHECK: CA_PROBLEM,
  CA_CERTIFICATE_KEY_QUALITY_CHECK: CA_PROBLEM,
};

const NEEDS_DEVICE: ReadonlySet<Action> = new Set([
  'quarantine',
  'deactivateCertificate',
  'revokeCertificate',
  'rotateCertificate',
]);

export type Classification =
  | { skipped: false; plan: Plan }
  | { skipped: true; skipReason: string; plan: Plan };

type Source = 'audit' | 'detect' | 'own';

/**
 * Turns a Security Hub "Findings - Imported" event into a remediation plan. Pure: no AWS call.
 * Suppressed, archived or already-handled findings and audit check summaries give an empty plan with a skip reason.
 * @throws MalformedFindingError when the event or finding is not a supported, well-formed Device Defender finding.
 */
export function classify(event: unknown): Classification {
  const envelope = SecurityHubImportedEventSchema.safeParse(event);
  if (!envelope.success)
    throw new MalformedFindingError('not a Security Hub imported-findings event', issues(envelope.error));
  const parsed = AsffFindingSchema.safeParse(envelope.data.detail.findings[0]);
  if (!parsed.success) throw new MalformedFindingError('finding does not match ASFF', issues(parsed.error));
  const finding = parsed.data;
  const source = sourceOf(finding);
  const fields = finding.ProductFields ?? {};
  const check = checkOf(finding, source, fields);
  const targets = targetsOf(finding, fields);

  const base = {
    findingId: finding.Id,
    productArn: finding.ProductArn,
    check,
    title: finding.Title.slice(0, 256),
    severity: finding.Severity.Label ?? 'INFORMATIONAL',
    region: finding.Region ?? finding.Resources[0]?.Region,
    accountId: finding.AwsAccountId,
    ...targets,
  };

  const skipReason = skipReasonOf(finding, source, fields);
  if (skipReason !== undefined) return { skipped: true, skipReason, plan: build({ ...base, actions: [] }) };

  const actions = source === 'audit' ? [...(PLAYBOOK[check] ?? OTHER)] : [...BEHAVIOUR_VIOLATION];
  if (actions.includes('fixPolicy') && targets.policyName === undefined) {
    throw new MalformedFindingError(`${check} finding names no IoT policy`);
  }
  if (
    actions.some((a) => NEEDS_DEVICE.has(a)) &&
    targets.thingName === undefined &&
    targets.certificateId === undefined
  ) {
    throw new MalformedFindingError(`${check} finding names neither a thing nor a device certificate`);
  }
  return { skipped: false, plan: build({ ...base, actions }) };
}

function build(candidate: Record<string, unknown>): Plan {
  const plan = PlanSchema.safeParse(candidate);
  if (!plan.success) throw new MalformedFindingError('finding identifiers are malformed', issues(plan.error));
  return plan.data;
}

function sourceOf(finding: AsffFinding): Source {
  const product = /^arn:aws[a-z-]*:securityhub:[a-z0-9-]+:(\d{12})?:product\/([\w.-]+)\/([\w.-]+)$/.exec(
    finding.ProductArn,
  );
  if (product === null) throw new MalformedFindingError('ProductArn is not a Security Hub product ARN');
  const [, productAccount, company, name] = product;
  if (company === 'aws' && name === 'iot-device-defender-audit') return 'audit';
  if (company === 'aws' && name === 'iot-device-defender-detect') return 'detect';
  // Our own findings: the account's default product, imported by authz-detector with a GeneratorId we own.
  if (
    company === finding.AwsAccountId &&
    productAccount === finding.AwsAccountId &&
    name === 'default' &&
    finding.GeneratorId.startsWith(OWN_GENERATOR_PREFIX)
  ) {
    return 'own';
  }
  throw new MalformedFindingError(`unsupported product ${company}/${name}`);
}

function checkOf(finding: AsffFinding, source: Source, fields: Record<string, string>): string {
  if (source === 'audit') {
    const fromTitle = /^([A-Z][A-Z0-9_]{2,127})\b/.exec(finding.Title)?.[1];
    const name = fields.CheckName ?? fromTitle;
    if (name === undefined || !/^[A-Z][A-Z0-9_]{2,127}$/.test(name)) {
      throw new MalformedFindingError('audit finding has no CheckName');
    }
    return name;
  }
  if (source === 'detect') {
    const metric = fields.MetricName ?? fields.BehaviorName ?? 'unknown';
    return `DETECT_BEHAVIOR_VIOLATION:${metric}`.slice(0, 256);
  }
  return `${finding.GeneratorId}`.slice(0, 256);
}

function skipReasonOf(
  finding: AsffFinding,
  source: Source,
  fields: Record<string, string>,
): string | undefined {
  if (finding.RecordState === 'ARCHIVED') return 'archived';
  const status = finding.Workflow?.Status ?? finding.WorkflowState;
  if (status === 'SUPPRESSED') return 'suppressed';
  if (status !== undefined && status !== 'NEW') return `workflow status ${status}`;
  if (fields.IsSuppressed === 'true') return 'suppressed in Device Defender';
  if (source === 'detect' && fields.SuppressAlerts === 'true') return 'alerts suppressed for this behavior';
  if (source === 'audit' && fields.ReportType === 'CheckSummary') return 'audit check summary (no resource)';
  return undefined;
}

interface Targets {
  thingName?: string;
  certificateId?: string;
  caCertificateId?: string;
  policyName?: string;
  policyVersionId?: string;
}

/**
 * Where Device Defender findings name their resource: `ProductFields` (`PolicyName`, `PolicyVersionId`,
 * `ThingName`, and by the same naming `DeviceCertificateId`, `CaCertificateId`, `ClientId`), `Resources[]`
 * (`AwsIotPolicy`, `AwsIotRegisteredThing` with `Details.Other.ThingArn`, certificate resources by Id or ARN).
 * Every value found must match the AWS IoT name pattern or the finding is rejected.
 */
function targetsOf(finding: AsffFinding, fields: Record<string, string>): Targets {
  const targets: Targets = {};
  const set = (key: keyof Targets, value: string | undefined, pattern: RegExp) => {
    if (value === undefined || targets[key] !== undefined) return;
    if (!pattern.test(value)) throw new MalformedFindingError(`${key} is malformed`);
    targets[key] = value;
  };
  // In this system the MQTT client id is the thing name (SPEC section 2, pinned by the IoT policies), so for this
  // check it names the thing. Elsewhere a client id is only claimed by the client and never chosen as a target.
  const clientIdIsThing = fields.CheckName === 'CONFLICTING_CLIENT_IDS_CHECK';
  set('policyName', fields.PolicyName, POLICY_NAME);
  set('policyVersionId', fields.PolicyVersionId, /^\d{1,10}$/);
  set('thingName', fields.ThingName, THING_NAME);
  if (clientIdIsThing) set('thingName', fields.ClientId, THING_NAME);
  set('certificateId', fields.DeviceCertificateId ?? fields.CertificateId, CERTIFICATE_ID);
  set('caCertificateId', fields.CaCertificateId, CERTIFICATE_ID);
  for (const resource of finding.Resources) fromResource(resource, set);
  return targets;
}

function fromResource(
  resource: AsffResource,
  set: (key: keyof Targets, value: string | undefined, pattern: RegExp) => void,
): void {
  const other = resource.Details?.Other ?? {};
  const arn = /^arn:aws[a-z-]*:iot:[a-z0-9-]+:\d{12}:(thing|cert|cacert|policy)\/(.+)$/.exec(resource.Id);
  const id = arn?.[2] ?? resource.Id;
  const kind = arn?.[1];
  switch (resource.Type) {
    case 'AwsIotPolicy':
      set('policyName', id, POLICY_NAME);
      set('policyVersionId', other.PolicyVersionId, /^\d{1,10}$/);
      break;
    case 'AwsIotRegisteredThing':
    case 'AwsIotThing':
      set('thingName', id, THING_NAME);
      break;
    case 'AwsIotCertificate':
    case 'AwsIotDeviceCertificate':
      set('certificateId', id, CERTIFICATE_ID);
      break;
    case 'AwsIotCaCertificate':
      set('caCertificateId', id, CERTIFICATE_ID);
      break;
    default:
      if (kind === 'thing') set('thingName', id, THING_NAME);
      if (kind === 'cert') set('certificateId', id, CERTIFICATE_ID);
      if (kind === 'cacert') set('caCertificateId', id, CERTIFICATE_ID);
      if (kind === 'policy') set('policyName', id, POLICY_NAME);
  }
  const thingArn = /^arn:aws[a-z-]*:iot:[a-z0-9-]+:\d{12}:thing\/(.+)$/.exec(other.ThingArn ?? '');
  set('thingName', thingArn?.[1], THING_NAME);
}

function issues(error: z.ZodError): string[] {
  return error.issues.slice(0, 10).map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`);
}

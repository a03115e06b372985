import type { AsffFinding, AsffResource } from './asff.js';
import { ForeignResourceError, MalformedFindingError } from './errors.js';
import { CERTIFICATE_ID, POLICY_NAME, THING_NAME } from './plan.js';
import {
  type IotKind,
  looksLikeArn,
  ownIotIdentifier,
  printable,
  requireOwnArn,
  type StackScope,
} from './scope.js';

/** The resources a plan may act on, each proven to be this stack's. */
export interface Targets {
  thingName?: string;
  certificateId?: string;
  caCertificateId?: string;
  policyName?: string;
  policyVersionId?: string;
}

type Key = keyof Targets;
const KIND: Record<Exclude<Key, 'policyVersionId'>, { kind: IotKind; pattern: RegExp }> = {
  thingName: { kind: 'thing', pattern: THING_NAME },
  certificateId: { kind: 'cert', pattern: CERTIFICATE_ID },
  caCertificateId: { kind: 'cacert', pattern: CERTIFICATE_ID },
  policyName: { kind: 'policy', pattern: POLICY_NAME },
};
const VERSION = /^\d{1,10}$/;

/** `Details.Other` keys that name a resource, and which target each names. */
const DETAIL_KEYS: Readonly<Record<string, Key>> = {
  ThingArn: 'thingName',
  ThingName: 'thingName',
  CertificateArn: 'certificateId',
  CertificateId: 'certificateId',
  DeviceCertificateArn: 'certificateId',
  DeviceCertificateId: 'certificateId',
  CaCertificateArn: 'caCertificateId',
  CaCertificateId: 'caCertificateId',
  PolicyArn: 'policyName',
  PolicyName: 'policyName',
  PolicyVersionId: 'policyVersionId',
};

/** ASFF resource types, and the target each names. */
const RESOURCE_TYPES: Readonly<Record<string, Key>> = {
  AwsIotPolicy: 'policyName',
  AwsIotRegisteredThing: 'thingName',
  AwsIotThing: 'thingName',
  AwsIotCertificate: 'certificateId',
  AwsIotDeviceCertificate: 'certificateId',
  AwsIotCaCertificate: 'caCertificateId',
};

/** Audit finding ids are `<account>/<RESOURCE_TYPE>/<resource id>/...`; the resource part names a target too. */
const AUDIT_ID_TYPES: Readonly<Record<string, Key>> = {
  DEVICE_CERTIFICATE: 'certificateId',
  CA_CERTIFICATE: 'caCertificateId',
  IOT_POLICY: 'policyName',
};

/**
 * Every identifier the finding carries, from every place one can sit: `ProductFields` (`ThingName`,
 * `DeviceCertificateId`/`CertificateId`, `CaCertificateId`, `PolicyName`, `PolicyVersionId`, and `ClientId` for
 * CONFLICTING_CLIENT_IDS_CHECK), each `Resources[]` entry (its `Partition`, `Region`, `Id` by its `Type` or ARN
 * type, and the `Details.Other` fields that name resources), and for audit findings the finding `Id`. Each must be
 * this stack's (bare ids inherit the finding's account and region, checked by the caller; ARNs are checked field by
 * field), and all that name one kind of target must name the same one.
 * @throws ForeignResourceError when any of them is not provably ours or two disagree.
 * @throws MalformedFindingError when an id does not match its AWS IoT pattern.
 */
export function targetsOf(
  finding: AsffFinding,
  scope: StackScope,
  options: { clientIdIsThing: boolean; audit: boolean },
): Targets {
  const targets: Targets = {};
  const set = (key: Key, value: string | undefined, where: string) => {
    if (value === undefined) return;
    const id =
      key === 'policyVersionId'
        ? versionOf(value, where)
        : ownIotIdentifier(value, KIND[key].kind, KIND[key].pattern, scope, where);
    const had = targets[key];
    if (had !== undefined && had !== id) {
      throw new ForeignResourceError(where, `names ${key} ${printable(id)}, another field names ${had}`);
    }
    targets[key] = id;
  };
  const fields = finding.ProductFields ?? {};
  set('policyName', fields.PolicyName, 'ProductFields.PolicyName');
  set('policyVersionId', fields.PolicyVersionId, 'ProductFields.PolicyVersionId');
  set('thingName', fields.ThingName, 'ProductFields.ThingName');
  set('certificateId', fields.DeviceCertificateId, 'ProductFields.DeviceCertificateId');
  set('certificateId', fields.CertificateId, 'ProductFields.CertificateId');
  set('caCertificateId', fields.CaCertificateId, 'ProductFields.CaCertificateId');
  // In this system the MQTT client id is the thing name (docs/architecture.md §2, pinned by the IoT policies), so for this
  // check it names the thing. Elsewhere a client id is only claimed by the client and never chosen as a target.
  if (options.clientIdIsThing) set('thingName', fields.ClientId, 'ProductFields.ClientId');
  for (const [i, resource] of finding.Resources.entries()) {
    fromResource(resource, `Resources[${i}]`, scope, options, set);
  }
  if (options.audit) fromAuditId(finding.Id, scope, options, set);
  return targets;
}

function fromResource(
  resource: AsffResource,
  where: string,
  scope: StackScope,
  options: { clientIdIsThing: boolean },
  set: (key: Key, value: string | undefined, where: string) => void,
): void {
  if (resource.Partition !== undefined && resource.Partition !== scope.partition) {
    throw new ForeignResourceError(
      `${where}.Partition`,
      `${printable(resource.Partition)} is not ${scope.partition}`,
    );
  }
  if (resource.Region !== undefined && resource.Region !== scope.region) {
    throw new ForeignResourceError(`${where}.Region`, `${printable(resource.Region)} is not ${scope.region}`);
  }
  const other = resource.Details?.Other ?? {};
  const byType = RESOURCE_TYPES[resource.Type];
  if (byType !== undefined) {
    set(byType, resource.Id, `${where}.Id`);
  } else if (resource.Type === 'AwsAccount') {
    const account = /^AWS::::Account:(\d{12})$/.exec(resource.Id)?.[1];
    if (account !== scope.accountId) throw new ForeignResourceError(`${where}.Id`, 'not this account');
  } else if (resource.Type === 'Other' && options.clientIdIsThing) {
    // CONFLICTING_CLIENT_IDS_CHECK names the client id (= thing name) as an `Other` resource.
    set('thingName', resource.Id, `${where}.Id`);
  } else if (looksLikeArn(resource.Id)) {
    // A resource of a type we do not act on, named by ARN: it must still be ours, and an IoT ARN names its target.
    const arn = requireOwnArn(resource.Id, scope, `${where}.Id`);
    const type = arn.service === 'iot' ? arn.resource.split('/')[0] : undefined;
    const key = (Object.keys(KIND) as Array<keyof typeof KIND>).find((k) => KIND[k].kind === type);
    if (key !== undefined) set(key, resource.Id, `${where}.Id`);
  }
  for (const [name, value] of Object.entries(other)) {
    const key =
      DETAIL_KEYS[name] ?? (name === 'ClientId' && options.clientIdIsThing ? 'thingName' : undefined);
    if (key !== undefined) set(key, value, `${where}.Details.Other.${name}`);
    else if (looksLikeArn(value))
      requireOwnArn(value, scope, `${where}.Details.Other.${printable(name, 32)}`);
  }
}

function fromAuditId(
  findingId: string,
  scope: StackScope,
  options: { clientIdIsThing: boolean },
  set: (key: Key, value: string | undefined, where: string) => void,
): void {
  const m = /^(\d{12})\/([A-Z_]+)\/([^/]+)(?:\/([^/]+))?\//.exec(findingId);
  if (m === null) return;
  const [, account, type = '', id, version] = m;
  if (account !== scope.accountId) throw new ForeignResourceError('Id', 'audit finding of another account');
  const key = type === 'CLIENT_ID' && options.clientIdIsThing ? 'thingName' : AUDIT_ID_TYPES[type];
  if (key === undefined) return;
  set(key, id, 'Id');
  if (type === 'IOT_POLICY' && version !== undefined && VERSION.test(version))
    set('policyVersionId', version, 'Id');
}

function versionOf(value: string, where: string): string {
  if (!VERSION.test(value)) throw new MalformedFindingError(`${where} is not a policy version id`);
  return value;
}

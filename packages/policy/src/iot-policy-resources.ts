// biome-ignore-all lint/suspicious/noTemplateCurlyInString: CloudFormation Fn::Sub references are literal ${...} strings
import { InvalidPolicyContextError } from './errors.js';
import { iotPolicyName, renderIotPolicy } from './iot-templates.js';
import { ECU_ROLES, type EcuRole, type IotPolicyDocument } from './types.js';

/** One `AWS::IoT::Policy` as the template declares it. */
export interface IotPolicyResource {
  readonly Type: 'AWS::IoT::Policy';
  readonly Properties: { readonly PolicyName: string; readonly PolicyDocument: unknown };
}

/** Options of {@link renderIotPolicyResources}. */
export interface IotPolicyResourcesOptions {
  /** The policy name prefix as the template writes it, e.g. `${self:service}-${sls:stage}` (jitr's `IOT_POLICY_PREFIX`). */
  readonly policyNamePrefix: string;
  /** Logical id of the `AWS::IoT::RoleAlias` the policies let the ECU assume (its `Ref` is the alias name). */
  readonly roleAliasLogicalId: string;
}

/** What CloudFormation and the framework substitute when a template is deployed. */
export interface IotPolicyResourceValues {
  readonly partition: string;
  readonly region: string;
  readonly accountId: string;
  /** The role alias name (`Ref` of the role alias resource). */
  readonly roleAlias: string;
  /** The policy name prefix (`${self:service}-${sls:stage}` resolved). */
  readonly policyNamePrefix: string;
}

// Rendering context whose values cannot occur in a real one; each is replaced by a CloudFormation reference.
const PLACEHOLDER = {
  partition: 'aws-cfnpartition',
  region: 'zz-cfnregion-0',
  accountId: '000000000000',
  roleAlias: 'CFN_ROLE_ALIAS_PLACEHOLDER',
  prefix: 'CFN_POLICY_PREFIX_PLACEHOLDER',
};
const PLACEHOLDER_ARN = `arn:${PLACEHOLDER.partition}:iot:${PLACEHOLDER.region}:${PLACEHOLDER.accountId}:`;

/** Logical id of a role's policy: `EcuPolicy` + the role, capitalised (`EcuPolicyGateway`). */
export function iotPolicyLogicalId(role: EcuRole): string {
  return `EcuPolicy${role.charAt(0).toUpperCase()}${role.slice(1)}`;
}

/**
 * CloudFormation `Resources`: one `AWS::IoT::Policy` per ECU role, named as jitr-handler computes it
 * ({@link iotPolicyName} of `policyNamePrefix`), whose document is {@link renderIotPolicy} for the
 * stack's partition, region and account (`Fn::Sub` of `${AWS::Partition}`, `${AWS::Region}`,
 * `${AWS::AccountId}`) and the role alias resource (`${<roleAliasLogicalId>}`). Policy variables
 * such as `${iot:Connection.Thing.ThingName}` are escaped as `${!...}` so CloudFormation leaves them
 * literal. Rendered into serverless/resources/ecu-policies.yml by `packages/policy/scripts/render-resources.ts`;
 * {@link resolveIotPolicyResources} gives back what AWS IoT receives.
 *
 * @throws InvalidPolicyContextError when a placeholder would survive (a template change this does not know).
 * @example
 * ```ts
 * const { Resources } = renderIotPolicyResources({
 *   policyNamePrefix: '${self:service}-${sls:stage}',
 *   roleAliasLogicalId: 'EcuRoleAlias',
 * });
 * ```
 */
export function renderIotPolicyResources(opts: IotPolicyResourcesOptions): {
  Resources: Record<string, IotPolicyResource>;
} {
  if (!/^[A-Za-z0-9]{1,255}$/.test(opts.roleAliasLogicalId)) {
    throw new InvalidPolicyContextError('roleAliasLogicalId', 'must be a CloudFormation logical id');
  }
  const Resources: Record<string, IotPolicyResource> = {};
  for (const role of ECU_ROLES) {
    const document = renderIotPolicy(role, {
      partition: PLACEHOLDER.partition,
      region: PLACEHOLDER.region,
      accountId: PLACEHOLDER.accountId,
      roleAlias: PLACEHOLDER.roleAlias,
    });
    const name = iotPolicyName(role, { prefix: PLACEHOLDER.prefix });
    Resources[iotPolicyLogicalId(role)] = {
      Type: 'AWS::IoT::Policy',
      Properties: {
        PolicyName: `${opts.policyNamePrefix}${name.slice(PLACEHOLDER.prefix.length)}`,
        PolicyDocument: toCloudFormation(document, opts.roleAliasLogicalId),
      },
    };
  }
  return { Resources };
}

function toCloudFormation(value: unknown, roleAliasLogicalId: string): unknown {
  if (typeof value === 'string') {
    const sub = value
      .split('${')
      .join('${!')
      .split(PLACEHOLDER_ARN)
      .join('arn:${AWS::Partition}:iot:${AWS::Region}:${AWS::AccountId}:')
      .split(`rolealias/${PLACEHOLDER.roleAlias}`)
      .join(`rolealias/\${${roleAliasLogicalId}}`);
    for (const p of Object.values(PLACEHOLDER)) {
      if (sub.includes(p)) throw new InvalidPolicyContextError('template', `left ${p} in "${value}"`);
    }
    return sub === value ? value : { 'Fn::Sub': sub };
  }
  if (Array.isArray(value)) return value.map((v) => toCloudFormation(v, roleAliasLogicalId));
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(
      Object.entries(value).map(([k, v]) => [k, toCloudFormation(v, roleAliasLogicalId)]),
    );
  }
  return value;
}

/**
 * What CloudFormation creates from {@link renderIotPolicyResources}' output (or the same resources
 * parsed from the template file): policy name and document per role, `Fn::Sub` resolved with
 * `values`, `${!x}` back to the literal `${x}`, the framework's `${self:service}-${sls:stage}` prefix
 * replaced. Used by the local cloud to create the stack's policies, and by the tests.
 *
 * @throws InvalidPolicyContextError on a reference it cannot resolve.
 * @example
 * ```ts
 * for (const { policyName, document } of resolveIotPolicyResources(resources, values, '${self:service}-${sls:stage}')) {
 *   iot.createPolicy(policyName, JSON.stringify(document));
 * }
 * ```
 */
export function resolveIotPolicyResources(
  resources: Record<string, unknown>,
  values: IotPolicyResourceValues,
  templatePrefix: string,
  roleAliasLogicalId = 'EcuRoleAlias',
): { policyName: string; document: IotPolicyDocument }[] {
  const refs: Record<string, string> = {
    'AWS::Partition': values.partition,
    'AWS::Region': values.region,
    'AWS::AccountId': values.accountId,
    [roleAliasLogicalId]: values.roleAlias,
  };
  const resolve = (value: unknown): unknown => {
    if (Array.isArray(value)) return value.map(resolve);
    if (value !== null && typeof value === 'object') {
      const entries = Object.entries(value);
      const [first] = entries;
      if (entries.length === 1 && first?.[0] === 'Fn::Sub' && typeof first[1] === 'string') {
        return first[1].replace(/\$\{(!?)([^}]*)\}/g, (_all, bang: string, name: string) => {
          if (bang === '!') return `\${${name}}`;
          const v = refs[name];
          if (v === undefined)
            throw new InvalidPolicyContextError('template', `references unknown \${${name}}`);
          return v;
        });
      }
      return Object.fromEntries(entries.map(([k, v]) => [k, resolve(v)]));
    }
    return value;
  };
  return Object.values(resources)
    .filter((r): r is IotPolicyResource => (r as { Type?: unknown } | null)?.Type === 'AWS::IoT::Policy')
    .map((r) => {
      const name = r.Properties.PolicyName;
      if (!name.startsWith(templatePrefix)) {
        throw new InvalidPolicyContextError(
          'template',
          `policy ${name} does not start with ${templatePrefix}`,
        );
      }
      return {
        policyName: `${values.policyNamePrefix}${name.slice(templatePrefix.length)}`,
        document: resolve(r.Properties.PolicyDocument) as IotPolicyDocument,
      };
    });
}

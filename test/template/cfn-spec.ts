/**
 * Validates a CloudFormation template against the CloudFormation resource specification
 * shipped in @aws-cdk/aws-service-spec (the database the AWS CDK generates its L1
 * constructs from, built from the CloudFormation resource provider schemas).
 */
import { loadAwsServiceSpec } from '@aws-cdk/aws-service-spec';
import type { PropertyType, Resource, SpecDatabase, TypeDefinition } from '@aws-cdk/service-spec-types';
import type { CfnTemplate } from './iam.js';

const RESOURCE_KEYS = new Set([
  'Type',
  'Properties',
  'DependsOn',
  'Condition',
  'DeletionPolicy',
  'UpdateReplacePolicy',
  'Metadata',
  'CreationPolicy',
  'UpdatePolicy',
]);
const DELETION_POLICIES = new Set(['Delete', 'Retain', 'RetainExceptOnCreate', 'Snapshot']);
const PSEUDO_PARAMETERS = new Set([
  'AWS::AccountId',
  'AWS::NotificationARNs',
  'AWS::NoValue',
  'AWS::Partition',
  'AWS::Region',
  'AWS::StackId',
  'AWS::StackName',
  'AWS::URLSuffix',
]);

let cached: Promise<SpecDatabase> | undefined;
/** The specification database, loaded once per process (about half a second). */
export function specDatabase(): Promise<SpecDatabase> {
  cached ??= loadAwsServiceSpec();
  return cached;
}

type Json = unknown;

function isIntrinsic(value: Json): boolean {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const keys = Object.keys(value);
  return (
    keys.length === 1 && (keys[0] === 'Ref' || keys[0] === 'Condition' || (keys[0] ?? '').startsWith('Fn::'))
  );
}

class Validator {
  readonly problems: string[] = [];
  constructor(
    private readonly db: SpecDatabase,
    private readonly template: CfnTemplate,
  ) {}

  private typeDefinition(ref: string): TypeDefinition {
    return this.db.get('typeDefinition', ref);
  }

  /** Whether `value` fits `type`; records nested problems under `path`. Intrinsics fit anything. */
  private fits(value: Json, type: PropertyType, path: string, record: boolean): boolean {
    if (isIntrinsic(value)) return true;
    switch (type.type) {
      case 'json':
        return true;
      case 'string':
      case 'date-time':
        return typeof value === 'string' || typeof value === 'number';
      case 'number':
      case 'integer':
        return typeof value === 'number' || (typeof value === 'string' && /^-?\d+(\.\d+)?$/.test(value));
      case 'boolean':
        return typeof value === 'boolean' || value === 'true' || value === 'false';
      case 'null':
        return value === null;
      case 'tag':
        return typeof value === 'object' && value !== null && 'Key' in value && 'Value' in value;
      case 'array':
        return (
          Array.isArray(value) &&
          value.every((item, i) => this.fits(item, type.element, `${path}[${i}]`, record))
        );
      case 'map':
        return (
          typeof value === 'object' &&
          value !== null &&
          !Array.isArray(value) &&
          Object.entries(value).every(([k, v]) => this.fits(v, type.element, `${path}.${k}`, record))
        );
      case 'union':
        return type.types.some((t) => this.fits(value, t, path, false));
      case 'ref': {
        if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
        const def = this.typeDefinition(type.reference.$ref);
        if (record) this.checkObject(value as Record<string, Json>, def.properties, path);
        else return this.objectProblems(value as Record<string, Json>, def.properties).length === 0;
        return true;
      }
      default:
        return true;
    }
  }

  private objectProblems(value: Record<string, Json>, properties: Resource['properties']): string[] {
    const problems: string[] = [];
    for (const name of Object.keys(value)) if (!(name in properties)) problems.push(name);
    for (const [name, prop] of Object.entries(properties))
      if (prop.required && !(name in value)) problems.push(name);
    return problems;
  }

  private checkObject(value: Record<string, Json>, properties: Resource['properties'], path: string): void {
    for (const [name, v] of Object.entries(value)) {
      const prop = properties[name];
      if (prop === undefined) {
        this.problems.push(
          `${path}.${name}: unknown property (known: ${Object.keys(properties).join(', ')})`,
        );
        continue;
      }
      const types = [prop.type, ...(prop.previousTypes ?? [])];
      const ok = types.some((t, i) => this.fits(v, t, `${path}.${name}`, i === 0));
      if (!ok) this.problems.push(`${path}.${name}: value ${JSON.stringify(v)} does not fit its type`);
    }
    for (const [name, prop] of Object.entries(properties)) {
      if (prop.required && !(name in value)) this.problems.push(`${path}.${name}: required property missing`);
    }
  }

  private checkReferences(value: Json, path: string, resources: Record<string, unknown>): void {
    if (Array.isArray(value)) {
      value.forEach((v, i) => {
        this.checkReferences(v, `${path}[${i}]`, resources);
      });
      return;
    }
    if (typeof value !== 'object' || value === null) return;
    for (const [key, inner] of Object.entries(value)) {
      if (key === 'Ref' && typeof inner === 'string') {
        const params = (this.template as { Parameters?: Record<string, unknown> }).Parameters ?? {};
        if (!(inner in resources) && !PSEUDO_PARAMETERS.has(inner) && !(inner in params)) {
          this.problems.push(`${path}: Ref to unknown ${inner}`);
        }
      } else if (key === 'Fn::GetAtt') {
        const [target, attribute] = Array.isArray(inner) ? inner : String(inner).split('.');
        this.checkGetAtt(String(target), String(attribute), path, resources);
      }
      this.checkReferences(inner, `${path}.${key}`, resources);
    }
  }

  private checkGetAtt(target: string, attribute: string, path: string, resources: Record<string, unknown>) {
    const resource = resources[target] as { Type?: string } | undefined;
    if (resource?.Type === undefined) {
      this.problems.push(`${path}: Fn::GetAtt on unknown ${target}`);
      return;
    }
    const [spec] = this.db.lookup('resource', 'cloudFormationType', 'equals', resource.Type);
    if (spec && !(attribute in spec.attributes)) {
      this.problems.push(`${path}: ${resource.Type} has no attribute ${attribute}`);
    }
  }

  run(): string[] {
    const resources = this.template.Resources ?? {};
    for (const [id, resource] of Object.entries(resources)) {
      for (const key of Object.keys(resource)) {
        if (!RESOURCE_KEYS.has(key)) this.problems.push(`${id}: unknown resource attribute ${key}`);
      }
      for (const key of ['DeletionPolicy', 'UpdateReplacePolicy'] as const) {
        const policy = resource[key];
        if (policy !== undefined && !DELETION_POLICIES.has(String(policy))) {
          this.problems.push(`${id}.${key}: invalid value ${JSON.stringify(policy)}`);
        }
      }
      if (resource.Type.startsWith('Custom::') || resource.Type === 'AWS::CloudFormation::CustomResource')
        continue;
      const [spec] = this.db.lookup('resource', 'cloudFormationType', 'equals', resource.Type);
      if (spec === undefined) {
        this.problems.push(`${id}: unknown resource type ${resource.Type}`);
        continue;
      }
      this.checkObject((resource.Properties ?? {}) as Record<string, Json>, spec.properties, id);
    }
    this.checkReferences(resources, 'Resources', resources);
    this.checkReferences(this.template.Outputs ?? {}, 'Outputs', resources);
    return this.problems;
  }
}

/**
 * Every way the template departs from the CloudFormation resource specification: unknown
 * resource types, unknown or missing required properties (nested too), values that do not
 * fit their type, bad deletion policies, and Ref / Fn::GetAtt to things that do not exist.
 * @example expect(await specProblems(template)).toEqual([]);
 */
export async function specProblems(template: CfnTemplate): Promise<string[]> {
  return new Validator(await specDatabase(), template).run();
}

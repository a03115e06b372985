import { MalformedPolicyError } from './errors.js';

/** A statement after parsing: every list normalised to an array, keys as found. */
export interface ParsedStatement {
  index: number;
  effect: 'Allow' | 'Deny';
  actions: string[] | undefined;
  notActions: string[] | undefined;
  /** Resources; non-string CloudFormation intrinsics are kept as `{ intrinsic }` markers. */
  resources: ResourceValue[] | undefined;
  notResources: ResourceValue[] | undefined;
  condition: Record<string, Record<string, unknown>> | undefined;
}

export type ResourceValue = string | { intrinsic: unknown };

export interface ParsedPolicy {
  version: string | undefined;
  statements: ParsedStatement[];
}

const STATEMENT_KEYS = new Set([
  'Sid',
  'Effect',
  'Action',
  'NotAction',
  'Resource',
  'NotResource',
  'Condition',
  'Principal',
  'NotPrincipal',
]);

function isRecord(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

function isIntrinsic(value: unknown): boolean {
  if (!isRecord(value)) return false;
  const keys = Object.keys(value);
  return keys.length === 1 && (keys[0] === 'Ref' || (keys[0]?.startsWith('Fn::') ?? false));
}

function stringList(value: unknown, path: string): string[] {
  const list = Array.isArray(value) ? value : [value];
  if (list.length === 0) throw new MalformedPolicyError(path, 'must not be an empty list');
  return list.map((item, i) => {
    if (typeof item !== 'string' || item.length === 0) {
      throw new MalformedPolicyError(
        Array.isArray(value) ? `${path}[${i}]` : path,
        'must be a non-empty string',
      );
    }
    return item;
  });
}

function resourceList(value: unknown, path: string, allowIntrinsics: boolean): ResourceValue[] {
  const list = Array.isArray(value) ? value : [value];
  if (list.length === 0) throw new MalformedPolicyError(path, 'must not be an empty list');
  return list.map((item, i): ResourceValue => {
    if (typeof item === 'string' && item.length > 0) return item;
    if (allowIntrinsics && isIntrinsic(item)) return { intrinsic: item };
    throw new MalformedPolicyError(
      Array.isArray(value) ? `${path}[${i}]` : path,
      allowIntrinsics
        ? 'must be a non-empty string or a CloudFormation intrinsic'
        : 'must be a non-empty string',
    );
  });
}

function parseCondition(value: unknown, path: string): Record<string, Record<string, unknown>> {
  if (!isRecord(value)) throw new MalformedPolicyError(path, 'must be an object');
  const out: Record<string, Record<string, unknown>> = {};
  for (const [operator, block] of Object.entries(value)) {
    if (!isRecord(block)) throw new MalformedPolicyError(`${path}.${operator}`, 'must be an object');
    out[operator] = block;
  }
  return out;
}

/**
 * Parses one statement. `allowIntrinsics` lets CloudFormation intrinsics stand for
 * resources (IAM statements in a template); IoT policies never contain them.
 */
export function parseStatement(
  raw: unknown,
  index: number,
  path: string,
  allowIntrinsics: boolean,
): ParsedStatement {
  if (!isRecord(raw)) throw new MalformedPolicyError(path, 'must be an object');
  for (const key of Object.keys(raw)) {
    if (!STATEMENT_KEYS.has(key))
      throw new MalformedPolicyError(`${path}.${key}`, 'is not a statement element');
  }
  const effect = raw.Effect;
  if (effect !== 'Allow' && effect !== 'Deny') {
    throw new MalformedPolicyError(`${path}.Effect`, 'must be "Allow" or "Deny"');
  }
  if ('Action' in raw && 'NotAction' in raw) {
    throw new MalformedPolicyError(path, 'has both Action and NotAction');
  }
  if (!('Action' in raw) && !('NotAction' in raw)) {
    throw new MalformedPolicyError(path, 'has neither Action nor NotAction');
  }
  if ('Resource' in raw && 'NotResource' in raw) {
    throw new MalformedPolicyError(path, 'has both Resource and NotResource');
  }
  if ('Sid' in raw && typeof raw.Sid !== 'string')
    throw new MalformedPolicyError(`${path}.Sid`, 'must be a string');
  return {
    index,
    effect,
    actions: 'Action' in raw ? stringList(raw.Action, `${path}.Action`) : undefined,
    notActions: 'NotAction' in raw ? stringList(raw.NotAction, `${path}.NotAction`) : undefined,
    resources:
      'Resource' in raw ? resourceList(raw.Resource, `${path}.Resource`, allowIntrinsics) : undefined,
    notResources:
      'NotResource' in raw
        ? resourceList(raw.NotResource, `${path}.NotResource`, allowIntrinsics)
        : undefined,
    condition: 'Condition' in raw ? parseCondition(raw.Condition, `${path}.Condition`) : undefined,
  };
}

/**
 * Parses an IoT policy document: an object, or its JSON text (as GetPolicy returns it).
 * Throws {@link MalformedPolicyError} for anything AWS IoT would not accept as a policy.
 */
export function parsePolicyDocument(doc: unknown): ParsedPolicy {
  let value = doc;
  if (typeof doc === 'string') {
    try {
      value = JSON.parse(doc);
    } catch (cause) {
      throw new MalformedPolicyError('$', 'is not valid JSON', { cause });
    }
  }
  if (!isRecord(value)) throw new MalformedPolicyError('$', 'must be a JSON object');
  for (const key of Object.keys(value)) {
    if (key !== 'Version' && key !== 'Statement' && key !== 'Id') {
      throw new MalformedPolicyError(`$.${key}`, 'is not a policy element');
    }
  }
  if ('Version' in value && typeof value.Version !== 'string') {
    throw new MalformedPolicyError('$.Version', 'must be a string');
  }
  const version = value.Version as string | undefined;
  const raw = value.Statement;
  if (raw === undefined) throw new MalformedPolicyError('$.Statement', 'is missing');
  const list = Array.isArray(raw) ? raw : [raw];
  if (list.length === 0) throw new MalformedPolicyError('$.Statement', 'must not be empty');
  const statements = list.map((s, i) =>
    parseStatement(s, i, Array.isArray(raw) ? `Statement[${i}]` : 'Statement', false),
  );
  for (const s of statements) {
    if (s.resources === undefined && s.notResources === undefined) {
      throw new MalformedPolicyError(`Statement[${s.index}]`, 'has neither Resource nor NotResource');
    }
  }
  return { version, statements };
}

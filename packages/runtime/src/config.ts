import { ConfigError } from './errors.js';

/** Environment as read by the getters: defaults to `process.env` only at the call site of `loadConfig`. */
export type Env = Readonly<Record<string, string | undefined>>;

function raw(env: Env, name: string): string | undefined {
  const value = env[name];
  return value === undefined || value.trim() === '' ? undefined : value.trim();
}

/**
 * A required string variable.
 * @example const table = requireString(process.env, 'ECU_REGISTRY_TABLE');
 */
export function requireString(env: Env, name: string, pattern?: RegExp): string {
  const value = raw(env, name);
  if (value === undefined) throw new ConfigError(name, 'is required but not set');
  if (pattern && !pattern.test(value)) throw new ConfigError(name, `is malformed (expected ${pattern})`);
  return value;
}

/**
 * An optional string variable with a default.
 * @example const level = optionalString(process.env, 'LOG_LEVEL', 'INFO');
 */
export function optionalString(env: Env, name: string, fallback: string, pattern?: RegExp): string {
  const value = raw(env, name);
  if (value === undefined) return fallback;
  if (pattern && !pattern.test(value)) throw new ConfigError(name, `is malformed (expected ${pattern})`);
  return value;
}

/**
 * An integer variable within bounds, with an optional default.
 * @example const ttl = integer(process.env, 'COMMAND_TTL_SECONDS', { min: 10, max: 3600, fallback: 120 });
 */
export function integer(
  env: Env,
  name: string,
  opts: { min: number; max: number; fallback?: number },
): number {
  const value = raw(env, name);
  if (value === undefined) {
    if (opts.fallback === undefined) throw new ConfigError(name, 'is required but not set');
    return opts.fallback;
  }
  if (!/^-?\d+$/.test(value)) throw new ConfigError(name, 'must be an integer');
  const n = Number(value);
  if (n < opts.min || n > opts.max)
    throw new ConfigError(name, `must be between ${opts.min} and ${opts.max}`);
  return n;
}

/**
 * A comma-separated list of non-empty items.
 * @example const hosts = list(process.env, 'OCSP_ALLOWED_HOSTS');
 */
export function list(env: Env, name: string, opts: { pattern?: RegExp; fallback?: string[] } = {}): string[] {
  const value = raw(env, name);
  if (value === undefined) {
    if (opts.fallback === undefined) throw new ConfigError(name, 'is required but not set');
    return opts.fallback;
  }
  const items = value
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
  if (items.length === 0) throw new ConfigError(name, 'must list at least one item');
  for (const item of items) {
    if (opts.pattern && !opts.pattern.test(item)) {
      throw new ConfigError(name, `has a malformed item (expected ${opts.pattern})`);
    }
  }
  return items;
}

/**
 * An AWS ARN, optionally of one service.
 * @example const caArn = arn(process.env, 'PCA_CA_ARN', 'acm-pca');
 */
export function arn(env: Env, name: string, service?: string): string {
  const pattern = new RegExp(`^arn:aws[a-z-]*:${service ?? '[a-z0-9-]+'}:[a-z0-9-]*:\\d{0,12}:.+$`);
  return requireString(env, name, pattern);
}

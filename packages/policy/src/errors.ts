/**
 * Base of every error raised by @cv/policy. Branch with `instanceof` on the leaf
 * classes, never on `name` (minifiers rename classes).
 */
export class PolicyError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'PolicyError';
  }
}

/**
 * The input is not a policy document (not JSON, not an object, no `Statement`,
 * a statement without `Effect`/`Action`/`Resource`, values of the wrong type).
 * `path` points at the offending element, e.g. `Statement[2].Action`.
 */
export class MalformedPolicyError extends PolicyError {
  readonly path: string;
  readonly problem: string;
  constructor(path: string, problem: string, options?: { cause?: unknown }) {
    super(`Malformed policy document at ${path}: ${problem}`, options);
    this.name = 'MalformedPolicyError';
    this.path = path;
    this.problem = problem;
  }
}

/** A rendering context value (region, account id, role alias, name prefix, key ARN) is malformed. */
export class InvalidPolicyContextError extends PolicyError {
  readonly field: string;
  constructor(field: string, problem: string) {
    super(`Invalid policy context: ${field} ${problem}`);
    this.name = 'InvalidPolicyContextError';
    this.field = field;
  }
}

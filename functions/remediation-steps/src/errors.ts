/** Base of every error raised by the remediation steps. */
export class RemediationError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'RemediationError';
  }
}

/**
 * The Security Hub event or finding does not have the shape classify needs (schema violation, unsupported
 * product, missing target). Not retried: the state machine's Catch notifies and closes the finding as NOTIFIED.
 */
export class MalformedFindingError extends RemediationError {
  readonly issues: readonly string[];
  constructor(message: string, issues: readonly string[] = [], options?: { cause?: unknown }) {
    super(`Malformed finding: ${message}`, options);
    this.name = 'MalformedFindingError';
    this.issues = issues;
  }
}

/**
 * The finding names a resource that is not provably this stack's: an ARN of another partition, region, account,
 * service or resource type, or two fields naming different resources of one kind. classify turns it into a refused
 * plan (alert, close as NOTIFIED, no action on any resource); it is never a target.
 */
export class ForeignResourceError extends RemediationError {
  readonly where: string;
  readonly reason: string;
  constructor(where: string, reason: string) {
    super(`Refused finding: ${where}: ${reason}`);
    this.name = 'ForeignResourceError';
    this.where = where;
    this.reason = reason;
  }
}

/**
 * The finding itself is not this stack's to handle (another account, partition or region). Nothing is done to it,
 * not even a workflow update: the Catch path alerts and the execution fails.
 */
export class ForeignFindingError extends MalformedFindingError {
  constructor(reason: string) {
    super(`not a finding of this stack: ${reason}`);
    this.name = 'ForeignFindingError';
  }
}

/** The state handed to a step is not a valid remediation state (a bug in the state machine, never retried). */
export class InvalidStepInputError extends RemediationError {
  readonly step: string;
  readonly issues: readonly string[];
  constructor(step: string, issues: readonly string[]) {
    super(`Invalid input for step ${step}: ${issues.join('; ')}`);
    this.name = 'InvalidStepInputError';
    this.step = step;
    this.issues = issues;
  }
}

/** A step needs a target the plan does not name (e.g. quarantine without a thing or a certificate). */
export class MissingTargetError extends RemediationError {
  readonly step: string;
  readonly target: string;
  constructor(step: string, target: string) {
    super(`Step ${step} needs ${target}, which the plan does not name`);
    this.name = 'MissingTargetError';
    this.step = step;
    this.target = target;
  }
}

/**
 * A dependency failed in a way worth retrying (throttling, 5xx, timeouts). The name is what the state machine's
 * Retry matches on, so it is explicit and survives minification.
 */
export class TransientStepError extends RemediationError {
  readonly step: string;
  constructor(step: string, cause: unknown) {
    super(`Transient failure in step ${step}: ${describe(cause)}`, { cause });
    this.name = 'TransientStepError';
    this.step = step;
  }
}

/** An AWS call failed permanently (access denied, validation, unexpected response). */
export class StepFailedError extends RemediationError {
  readonly step: string;
  constructor(step: string, message: string, options?: { cause?: unknown }) {
    super(`Step ${step} failed: ${message}`, options);
    this.name = 'StepFailedError';
    this.step = step;
  }
}

function describe(cause: unknown): string {
  if (cause instanceof Error) return `${cause.name}: ${cause.message}`;
  return String(cause);
}

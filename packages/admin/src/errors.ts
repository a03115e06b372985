/**
 * Errors of the operator use cases. Every error a use case raises on purpose is an {@link AdminError} with a stable
 * `code` and a message safe to show the operator; the CLI maps it to an exit code (`exitCode`), anything else is an
 * internal failure (exit 1, no internals printed).
 */
export class AdminError extends Error {
  override readonly name: string = 'AdminError';
  /** Exit code of the CLI front door. */
  readonly exitCode: number = 1;
  constructor(
    readonly code: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** The command line is wrong (unknown command, missing argument). */
export class UsageError extends AdminError {
  override readonly name: string = 'UsageError';
  override readonly exitCode: number = 2;
  constructor(message: string) {
    super('usage', message);
  }
}

/** An argument fails validation (e.g. a thing name that is not `<VIN>_<ecuId>`). */
export class InvalidInputError extends AdminError {
  override readonly name: string = 'InvalidInputError';
  override readonly exitCode: number = 2;
  constructor(
    readonly field: string,
    message: string,
  ) {
    super('invalid_input', message);
  }
}

/** The named ECU or thing is not ours (no registry row binds it). */
export class NotFoundError extends AdminError {
  override readonly name: string = 'NotFoundError';
  override readonly exitCode: number = 3;
  constructor(message: string) {
    super('not_found', message);
  }
}

/** The use case refuses: releasing now would be unsafe (reason code in `code`). */
export class RefusedError extends AdminError {
  override readonly name: string = 'RefusedError';
  override readonly exitCode: number = 4;
}

/** Configuration of the front door is missing or malformed (names the variable or flag). */
export class AdminConfigError extends AdminError {
  override readonly name: string = 'AdminConfigError';
  override readonly exitCode: number = 2;
  constructor(message: string) {
    super('config', message);
  }
}

/** The service kept some items unprocessed (throttling) through every retry; a re-run continues. */
export class RetriesExhaustedError extends AdminError {
  override readonly name: string = 'RetriesExhaustedError';
  override readonly exitCode: number = 5;
  constructor(readonly pending: number) {
    super(
      'retries_exhausted',
      `${pending} items still unprocessed after the last retry: run the command again`,
    );
  }
}

/** The service throttled a request (DynamoDB's throughput or request-rate limit): back off and retry. */
export class ThrottledError extends AdminError {
  override readonly name: string = 'ThrottledError';
  override readonly exitCode: number = 5;
  constructor(options?: { cause?: unknown }) {
    super('throttled', 'the service is throttling requests: run the command again later', options);
  }
}

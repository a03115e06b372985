/** Base of every error raised by @cv/runtime. */
export class RuntimeError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'RuntimeError';
  }
}

/** An environment variable is missing or malformed; raised at cold start. */
export class ConfigError extends RuntimeError {
  readonly variable: string;
  constructor(variable: string, problem: string) {
    super(`Configuration error: environment variable ${variable} ${problem}`);
    this.name = 'ConfigError';
    this.variable = variable;
  }
}

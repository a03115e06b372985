/** Errors of @cv/local-cloud. */

/** Base error of the local cloud. */
export class LocalCloudError extends Error {
  override readonly name: string = 'LocalCloudError';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

/**
 * An AWS API error as the real service answers it: the error code (shape name), the HTTP status
 * and a message. Each protocol serialises it in its own way (see wire.ts).
 */
export class AwsApiError extends LocalCloudError {
  override readonly name: string = 'AwsApiError';
  constructor(
    readonly code: string,
    message: string,
    readonly statusCode = 400,
    readonly extra: Record<string, unknown> = {},
  ) {
    super(`${code}: ${message}`);
    this.awsMessage = message;
  }
  readonly awsMessage: string;
}

/** The local cloud could not start (port, CA generation, child process). */
export class LocalCloudStartError extends LocalCloudError {
  override readonly name: string = 'LocalCloudStartError';
}

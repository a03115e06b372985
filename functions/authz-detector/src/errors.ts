/** Base of every error raised by authz-detector. */
export class AuthzDetectorError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'AuthzDetectorError';
  }
}

/** The CloudWatch Logs subscription payload cannot be decoded (not base64 gzip JSON of the documented shape). */
export class MalformedLogsError extends AuthzDetectorError {
  readonly reason: string;
  constructor(reason: string, options?: { cause?: unknown }) {
    super(`Malformed CloudWatch Logs payload: ${reason}`, options);
    this.name = 'MalformedLogsError';
    this.reason = reason;
  }
}

/** Security Hub refused the finding (BatchImportFindings FailedCount > 0). */
export class FindingImportError extends AuthzDetectorError {
  readonly findingId: string;
  readonly errorCode: string;
  constructor(findingId: string, errorCode: string) {
    super(`Security Hub did not import finding ${findingId}: ${errorCode}`);
    this.name = 'FindingImportError';
    this.findingId = findingId;
    this.errorCode = errorCode;
  }
}

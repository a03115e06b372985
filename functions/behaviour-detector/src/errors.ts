/** Base of every error raised by behaviour-detector. */
export class BehaviourDetectorError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'BehaviourDetectorError';
  }
}

/** An event that is not a lifecycle event or counter stream record of the documented shape. */
export class MalformedEventError extends BehaviourDetectorError {
  readonly reason: string;
  constructor(reason: string) {
    super(`Malformed event: ${reason}`);
    this.name = 'MalformedEventError';
    this.reason = reason;
  }
}

/** Security Hub refused the finding (BatchImportFindings FailedCount > 0). */
export class FindingImportError extends BehaviourDetectorError {
  readonly findingId: string;
  readonly errorCode: string;
  constructor(findingId: string, errorCode: string) {
    super(`Security Hub did not import finding ${findingId}: ${errorCode}`);
    this.name = 'FindingImportError';
    this.findingId = findingId;
    this.errorCode = errorCode;
  }
}

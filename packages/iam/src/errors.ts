/** Base error of @cv/iam. */
export class IamError extends Error {
  override name = 'IamError';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

/** A CloudFormation construct the template resolver does not know how to evaluate. */
export class TemplateResolutionError extends IamError {
  override name = 'TemplateResolutionError';
  constructor(
    readonly path: string,
    detail: string,
  ) {
    super(`${path}: ${detail}`);
  }
}

/** A recorded AWS call that cannot be turned into the IAM request(s) AWS would authorise. */
export class UnmappedCallError extends IamError {
  override name = 'UnmappedCallError';
  constructor(
    readonly call: string,
    detail: string,
  ) {
    super(`${call}: ${detail}`);
  }
}

/** Errors of the ECU simulator. */
export class EcuSimError extends Error {
  override readonly name: string = 'EcuSimError';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

/** The broker refused the enrolment. */
export class EnrolmentError extends EcuSimError {
  override readonly name: string = 'EnrolmentError';
  constructor(
    readonly statusCode: number,
    readonly code: string,
  ) {
    super(`enrolment refused: ${statusCode} ${code}`);
  }
}

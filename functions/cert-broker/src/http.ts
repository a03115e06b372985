import {
  badRequest,
  forbidden,
  HttpError,
  payloadTooLarge,
  serviceUnavailable,
  tooManyRequests,
  unauthorized,
} from '@cv/runtime';
import {
  AttestationNotTrustedError,
  EnrolmentInProgressError,
  IssuanceNotAllowedError,
  MalformedRequestError,
  MissingProofOfPossessionError,
  PayloadTooLargeError,
  UpstreamUnavailableError,
} from './errors.js';

/**
 * Maps the broker's errors to HTTP errors whose code and message are safe to return.
 * The detailed reason stays in the `cause` (logged). Anything unknown is rethrown as is
 * and becomes a generic 500.
 */
export function toHttpError(error: unknown): unknown {
  if (error instanceof HttpError) return error;
  if (error instanceof PayloadTooLargeError) return payloadTooLarge(error.limitBytes);
  if (error instanceof MalformedRequestError) return badRequest('invalid_request', error.message, error);
  if (error instanceof MissingProofOfPossessionError) {
    return unauthorized('proof_of_possession_required', error.message, error);
  }
  if (error instanceof AttestationNotTrustedError) {
    return forbidden('attestation_not_trusted', 'The attestation is not trusted', error);
  }
  if (error instanceof IssuanceNotAllowedError) {
    if (error.reason === 'key-type') {
      return forbidden('key_not_allowed', 'The CSR key type or size is not allowed', error);
    }
    if (error.reason === 'key-reuse') {
      return forbidden('key_not_allowed', 'The CSR must use a new key, not the attestation key', error);
    }
    return forbidden('ecu_not_allowed', 'This ECU may not obtain a certificate', error);
  }
  if (error instanceof EnrolmentInProgressError) {
    return new HttpError(409, 'enrolment_in_progress', error.message, {
      headers: { 'Retry-After': String(Math.max(1, error.retryAfterSeconds)) },
      cause: error,
    });
  }
  if (error instanceof UpstreamUnavailableError) {
    return error.throttled
      ? tooManyRequests(error.retryAfterSeconds, error)
      : serviceUnavailable(error.retryAfterSeconds, error);
  }
  return error;
}

/** Why a request was refused, for the INFO log line (never for the response). */
export interface RejectionReason {
  /** Internal reason code, e.g. `malformed`, `chain`, `supplier-mismatch`. */
  readonly reason: string;
  /** The failing check, e.g. `pem-text-outside-blocks`, `untrusted at depth 0`. */
  readonly check: string;
  /** The request field concerned, when there is one. */
  readonly field?: string;
}

/**
 * The internal reason code and failing check of a broker error; `undefined` for errors that are
 * not rejections (5xx). Carries no PEM, key, signature or request text: only codes and our own words.
 */
export function rejectionReasonOf(error: unknown): RejectionReason | undefined {
  if (error instanceof MalformedRequestError)
    return { reason: 'malformed', check: error.check, field: error.field };
  if (error instanceof PayloadTooLargeError)
    return { reason: 'too-large', check: `body over ${error.limitBytes} bytes` };
  if (error instanceof MissingProofOfPossessionError)
    return { reason: 'no-proof-of-possession', check: 'no client certificate and no attestation' };
  if (error instanceof AttestationNotTrustedError) return { reason: error.reason, check: error.detail };
  if (error instanceof IssuanceNotAllowedError) return { reason: error.reason, check: error.detail };
  if (error instanceof EnrolmentInProgressError)
    return { reason: 'proof-in-progress', check: 'lease held by another invocation' };
  return undefined;
}

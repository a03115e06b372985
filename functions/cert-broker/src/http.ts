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
  if (error instanceof UpstreamUnavailableError) {
    return error.throttled
      ? tooManyRequests(error.retryAfterSeconds, error)
      : serviceUnavailable(error.retryAfterSeconds, error);
  }
  return error;
}

import { CryptoError } from '../errors.js';

/** Base of every OCSP failure. Callers fail closed on any of them. */
export class OcspError extends CryptoError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'OcspError';
  }
}

/** The responder URL's host is not in the allowlist (raised before any request), or the URL is not http(s). */
export class OcspHostNotAllowedError extends OcspError {
  readonly url: string;
  readonly host: string;
  constructor(message: string, context: { url: string; host: string }) {
    super(message);
    this.name = 'OcspHostNotAllowedError';
    this.url = context.url;
    this.host = context.host;
  }
}

/** Why the exchange with the responder failed. */
export type OcspTransportFailureReason =
  | 'timeout'
  | 'too-large'
  | 'http-status'
  | 'network'
  | 'no-responder-url';

/** The request could not be completed: timeout, oversized body, non-200 status, network error, no URL. */
export class OcspTransportError extends OcspError {
  readonly reason: OcspTransportFailureReason;
  /** HTTP status when `reason` is `http-status`. */
  readonly statusCode: number | undefined;
  constructor(
    reason: OcspTransportFailureReason,
    message: string,
    context?: { statusCode?: number },
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'OcspTransportError';
    this.reason = reason;
    this.statusCode = context?.statusCode;
  }
}

/** Why a response was rejected. */
export type OcspResponseFailureReason =
  | 'malformed'
  | 'unsuccessful'
  | 'unsupported-algorithm'
  | 'bad-signature'
  | 'wrong-signer'
  | 'wrong-certificate'
  | 'stale'
  | 'not-yet-valid'
  | 'nonce-mismatch';

/** OCSPResponseStatus names (RFC 6960 4.2.1). */
export type OcspResponseStatus =
  | 'successful'
  | 'malformedRequest'
  | 'internalError'
  | 'tryLater'
  | 'sigRequired'
  | 'unauthorized'
  | 'unknown';

/** The response is malformed, unsuccessful, badly signed, for another certificate, stale or lacks our nonce. */
export class OcspResponseError extends OcspError {
  readonly reason: OcspResponseFailureReason;
  /** The responder's status when `reason` is `unsuccessful`. */
  readonly responseStatus: OcspResponseStatus | undefined;
  constructor(
    reason: OcspResponseFailureReason,
    message: string,
    context?: { responseStatus?: OcspResponseStatus },
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'OcspResponseError';
    this.reason = reason;
    this.responseStatus = context?.responseStatus;
  }
}

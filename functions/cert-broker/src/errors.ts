/**
 * Errors of the certificate broker's use case. The handler maps them to HTTP
 * statuses; their messages are safe to return, their `cause` is logged only.
 */
export class BrokerError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'BrokerError';
  }
}

/** The request is malformed: not JSON, wrong shape, unparsable PEM, CSR whose signature does not verify. */
export class MalformedRequestError extends BrokerError {
  readonly field: string;
  /** The check that failed (e.g. `pem-text-outside-blocks`, `json`, `schema`, `csr-signature`): logged only. */
  readonly check: string;
  constructor(field: string, message: string, options?: { cause?: unknown; check?: string }) {
    super(message, options);
    this.name = 'MalformedRequestError';
    this.field = field;
    this.check = options?.check ?? 'schema';
  }
}

/** The body is larger than the broker accepts. */
export class PayloadTooLargeError extends BrokerError {
  readonly limitBytes: number;
  constructor(limitBytes: number) {
    super(`Request body exceeds ${limitBytes} bytes`);
    this.name = 'PayloadTooLargeError';
    this.limitBytes = limitBytes;
  }
}

/** Neither a TLS client certificate nor a signed attestation proves possession of the attestation key. */
export class MissingProofOfPossessionError extends BrokerError {
  constructor() {
    super('Proof of possession of the attestation key is required (mutual TLS or a signed attestation)');
    this.name = 'MissingProofOfPossessionError';
  }
}

/** Why an attestation or its proof of possession is not trusted. */
export type UntrustedReason =
  | 'chain'
  | 'signature'
  | 'freshness'
  | 'client-certificate-mismatch'
  | 'identity';

/** The attestation (chain, proof of possession, identity) is not trusted. */
export class AttestationNotTrustedError extends BrokerError {
  readonly reason: UntrustedReason;
  readonly detail: string;
  constructor(reason: UntrustedReason, detail: string, options?: { cause?: unknown }) {
    super('The attestation is not trusted', options);
    this.name = 'AttestationNotTrustedError';
    this.reason = reason;
    this.detail = detail;
  }
}

/** Why a trusted request is still not allowed. */
export type NotAllowedReason =
  | 'key-type'
  | 'key-reuse'
  | 'ecu-unknown'
  | 'ecu-not-active'
  | 'registry-inconsistent'
  | 'supplier-unbound'
  | 'supplier-mismatch'
  | 'proof-used-for-other-identity';

/** The request is well-formed and attested but policy forbids issuing. */
export class IssuanceNotAllowedError extends BrokerError {
  readonly reason: NotAllowedReason;
  readonly detail: string;
  constructor(reason: NotAllowedReason, detail: string, options?: { cause?: unknown }) {
    super('Issuing a certificate for this request is not allowed', options);
    this.name = 'IssuanceNotAllowedError';
    this.reason = reason;
    this.detail = detail;
  }
}

/** An AWS dependency throttled or is temporarily unavailable; the client should retry later. */
export class UpstreamUnavailableError extends BrokerError {
  readonly service: string;
  readonly retryAfterSeconds: number;
  readonly throttled: boolean;
  constructor(service: string, opts: { retryAfterSeconds: number; throttled: boolean; cause?: unknown }) {
    super(`${service} is temporarily unavailable`, { cause: opts.cause });
    this.name = 'UpstreamUnavailableError';
    this.service = service;
    this.retryAfterSeconds = opts.retryAfterSeconds;
    this.throttled = opts.throttled;
  }
}

/**
 * The same proof of possession is being processed by another invocation (its lease is live):
 * the client retries after `retryAfterSeconds` and then receives the certificate issued for it.
 */
export class EnrolmentInProgressError extends BrokerError {
  readonly retryAfterSeconds: number;
  constructor(retryAfterSeconds: number) {
    super('An identical enrolment request is being processed; retry later');
    this.name = 'EnrolmentInProgressError';
    this.retryAfterSeconds = retryAfterSeconds;
  }
}

/** Which strict-PEM rule an input broke (logged as the rejection's `check`). */
export type PemCheck =
  | 'pem-not-text'
  | 'pem-empty'
  | 'pem-text-outside-blocks'
  | 'pem-unterminated'
  | 'pem-label'
  | 'pem-label-mismatch'
  | 'pem-base64'
  | 'pem-block-count';

/** A PEM input is not strict PEM (pem.ts); the use case turns it into a {@link MalformedRequestError}. */
export class PemFormatError extends BrokerError {
  readonly check: PemCheck;
  constructor(check: PemCheck, message: string) {
    super(message);
    this.name = 'PemFormatError';
    this.check = check;
  }
}

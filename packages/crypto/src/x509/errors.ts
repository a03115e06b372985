import { CryptoError } from '../errors.js';
import type { ChainFailureReason } from './types.js';

/** Input is not a well-formed PEM/DER certificate or CSR. */
export class CertificateParseError extends CryptoError {
  /** What was being parsed. */
  readonly kind: 'certificate' | 'csr' | 'pem' | 'spki';
  constructor(kind: 'certificate' | 'csr' | 'pem' | 'spki', message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'CertificateParseError';
    this.kind = kind;
  }
}

/** A CSR's self-signature does not verify or uses an unsupported algorithm. */
export class CsrSignatureError extends CryptoError {
  readonly reason: 'bad-signature' | 'unsupported-algorithm';
  constructor(
    reason: 'bad-signature' | 'unsupported-algorithm',
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'CsrSignatureError';
    this.reason = reason;
  }
}

/** A key's type or size is outside the allowed set. */
export class KeyPolicyError extends CryptoError {
  readonly keyType: string;
  readonly bits: number;
  readonly curve: string | undefined;
  constructor(message: string, context: { keyType: string; bits: number; curve?: string }) {
    super(message);
    this.name = 'KeyPolicyError';
    this.keyType = context.keyType;
    this.bits = context.bits;
    this.curve = context.curve;
  }
}

/** A certificate chain failed validation. `depth` 0 is the leaf; `subject` names the offending certificate. */
export class ChainValidationError extends CryptoError {
  readonly reason: ChainFailureReason;
  readonly depth: number;
  readonly subject: string;
  constructor(
    reason: ChainFailureReason,
    message: string,
    context: { depth: number; subject: string },
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'ChainValidationError';
    this.reason = reason;
    this.depth = context.depth;
    this.subject = context.subject;
  }
}

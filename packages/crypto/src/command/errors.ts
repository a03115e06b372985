import { CryptoError } from '../errors.js';

/**
 * Leaf errors of `@cv/crypto/command`. They live here rather than in `src/errors.ts`
 * because that file is shared with the other crypto sub-modules built concurrently;
 * every class extends the package's base {@link CryptoError}.
 */

/** A DER ECDSA signature is malformed or not strictly DER (tag, length, padding, range). */
export class DerSignatureError extends CryptoError {
  readonly reason: string;
  constructor(reason: string) {
    super(`Malformed DER ECDSA signature: ${reason}`);
    this.name = 'DerSignatureError';
    this.reason = reason;
  }
}

/** A signing algorithm, key type or key spec outside the allowlist. */
export class UnsupportedAlgorithmError extends CryptoError {
  readonly algorithm: string;
  constructor(algorithm: string, detail = 'is not allowed') {
    super(`Signing algorithm ${JSON.stringify(algorithm).slice(0, 64)} ${detail}`);
    this.name = 'UnsupportedAlgorithmError';
    this.algorithm = algorithm.slice(0, 64);
  }
}

/** The signer returned something that is not a usable signature, or threw. */
export class CommandSigningError extends CryptoError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'CommandSigningError';
  }
}

/** The command envelope is not valid JSON of the expected shape. */
export class CommandEnvelopeError extends CryptoError {
  readonly issues: string[];
  constructor(message: string, issues: string[] = [], options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'CommandEnvelopeError';
    this.issues = issues;
  }
}

/** The envelope could not be decrypted (wrong context, wrong key, tampered ciphertext). */
export class CommandDecryptionError extends CryptoError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'CommandDecryptionError';
  }
}

/** The JWS compact serialization is malformed (segments, base64url, JSON, header shape). */
export class JwsFormatError extends CryptoError {
  readonly part: 'jws' | 'header' | 'payload' | 'signature';
  constructor(
    part: 'jws' | 'header' | 'payload' | 'signature',
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'JwsFormatError';
    this.part = part;
  }
}

/** The JWS signature does not verify under the pinned key. */
export class JwsSignatureError extends CryptoError {
  readonly keyId: string;
  constructor(keyId: string) {
    super('JWS signature does not verify with the pinned key');
    this.name = 'JwsSignatureError';
    this.keyId = keyId;
  }
}

/** The JWS header names a key that is not pinned on this ECU. */
export class UnknownKeyError extends CryptoError {
  readonly keyId: string;
  constructor(keyId: string) {
    super('JWS key id is not pinned');
    this.name = 'UnknownKeyError';
    this.keyId = keyId.slice(0, 256);
  }
}

/** A claim (or the envelope binding) failed a check: typ, iss, aud, exp, iat, jti, vin. */
export class CommandClaimError extends CryptoError {
  readonly claim: string;
  constructor(claim: string, message: string) {
    super(message);
    this.name = 'CommandClaimError';
    this.claim = claim;
  }
}

/** The command id (`jti`) was already accepted: a replay. */
export class CommandReplayError extends CryptoError {
  readonly jti: string;
  constructor(jti: string) {
    super('Command id already seen (replay)');
    this.name = 'CommandReplayError';
    this.jti = jti;
  }
}

/**
 * Base of every error raised by @cv/crypto. Branch with `instanceof` on the leaf
 * classes, never on `name` (minifiers rename classes).
 */
export class CryptoError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'CryptoError';
  }
}

// Data-key cache bounds, shared by the decrypt path (decrypt.ts) and the encrypt side (materials.ts).

/** Bounds of the data-key cache: entries, age and (encrypt side) messages and bytes per data key. */
export interface TelemetryCacheLimits {
  /** Most cached data keys (LRU). Cloud side: at least the number of ECUs one container hears from. */
  capacity: number;
  /** Longest a data key stays cached, in milliseconds. */
  maxAgeMs: number;
  /** Encrypt side: most messages encrypted under one data key before a new one is generated. */
  maxMessagesEncrypted?: number;
  /** Encrypt side: most plaintext bytes encrypted under one data key. */
  maxBytesEncrypted?: number;
  /**
   * Decrypt side (`createTelemetryDecryptor`): most messages decrypted with one cached data key before it is fetched
   * again. Unbounded when absent, like the Encryption SDK's caching materials manager on decrypt.
   */
  maxMessagesDecrypted?: number;
}

/** Cloud defaults: 1,000 data keys for 5 minutes. */
export const DEFAULT_DECRYPT_CACHE_LIMITS: TelemetryCacheLimits = { capacity: 1000, maxAgeMs: 5 * 60_000 };

/** Vehicle defaults: one data key for at most 1 hour and 10,000 messages. */
export const DEFAULT_ENCRYPT_CACHE_LIMITS: TelemetryCacheLimits = {
  capacity: 4,
  maxAgeMs: 60 * 60_000,
  maxMessagesEncrypted: 10_000,
};

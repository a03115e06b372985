import {
  getLocalCryptographicMaterialsCache,
  type KeyringNode,
  KmsKeyringNode,
  type KmsNodeClientSupplier,
  NodeCachingMaterialsManager,
  type NodeMaterialsManager,
} from '@aws-crypto/client-node';

/** A KMS client as the Encryption SDK calls it (`decrypt`, `encrypt`, `generateDataKey`), e.g. SDK v3 `KMS`. */
export type EsdkKmsClient = Exclude<ReturnType<KmsNodeClientSupplier>, false>;

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

/**
 * A caching materials manager over a keyring, so the keyring (KMS) is called once per data key rather than once
 * per message. Create it once (module scope) and share it.
 *
 * @example
 * const materials = createTelemetryMaterialsManager(telemetryKmsKeyring({ keyId, client: kms }), {
 *   capacity: 1000, maxAgeMs: 300_000,
 * });
 */
export function createTelemetryMaterialsManager(
  keyring: KeyringNode,
  limits: TelemetryCacheLimits = DEFAULT_DECRYPT_CACHE_LIMITS,
): NodeMaterialsManager {
  if (!Number.isInteger(limits.capacity) || limits.capacity < 1)
    throw new RangeError('capacity must be >= 1');
  if (!(limits.maxAgeMs > 0)) throw new RangeError('maxAgeMs must be > 0');
  return new NodeCachingMaterialsManager({
    backingMaterials: keyring,
    cache: getLocalCryptographicMaterialsCache(limits.capacity),
    maxAge: limits.maxAgeMs,
    ...(limits.maxMessagesEncrypted === undefined
      ? {}
      : { maxMessagesEncrypted: limits.maxMessagesEncrypted }),
    ...(limits.maxBytesEncrypted === undefined ? {} : { maxBytesEncrypted: limits.maxBytesEncrypted }),
  });
}

/**
 * A KMS keyring on exactly one key (ARN), calling KMS through the given client (built by the caller, e.g. an SDK v3
 * `KMS` with adaptive retries), never a client the SDK builds itself.
 *
 * @example
 * import { KMS } from '@aws-sdk/client-kms';
 * const keyring = telemetryKmsKeyring({ keyId: process.env.TELEMETRY_KEY_ID, client: new KMS({}) });
 */
export function telemetryKmsKeyring(opts: {
  keyId: string;
  client: EsdkKmsClient;
  grantTokens?: string[];
}): KmsKeyringNode {
  const { client } = opts;
  return new KmsKeyringNode({
    generatorKeyId: opts.keyId,
    clientProvider: () => client,
    ...(opts.grantTokens === undefined ? {} : { grantTokens: opts.grantTokens }),
  });
}

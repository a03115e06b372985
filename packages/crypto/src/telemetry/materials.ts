import {
  getLocalCryptographicMaterialsCache,
  type KeyringNode,
  NodeCachingMaterialsManager,
  type NodeMaterialsManager,
} from '@aws-crypto/client-node';
import { DEFAULT_DECRYPT_CACHE_LIMITS, type TelemetryCacheLimits } from './limits.js';

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

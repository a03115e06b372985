import { createDecipheriv, createSecretKey, hkdfSync, KeyObject, timingSafeEqual } from 'node:crypto';
import {
  EncryptedDataKey,
  type KeyringNode,
  NodeAlgorithmSuite,
  NodeDefaultCryptographicMaterialsManager,
} from '@aws-crypto/material-management-node';
import { classify, parseJsonBody } from './classify.js';
import type { TelemetryContext } from './context.js';
import { DataKeyCache } from './data-key-cache.js';
import type { TelemetryEnvelope } from './envelope.js';
import { TelemetryDecryptError, TelemetryError } from './errors.js';
import { DEFAULT_DECRYPT_CACHE_LIMITS, type TelemetryCacheLimits } from './limits.js';
import {
  ESDK_COMMIT_KEY_SUITE_ID,
  ESDK_COMMITMENT_LENGTH,
  ESDK_CONTENT_TYPE_FRAMED,
  ESDK_IV_LENGTH,
  type EsdkFrame,
  type EsdkHeaderV2,
  readEsdkHeaderV2,
  walkEsdkFrames,
} from './message.js';
import { openTelemetryPlaintext } from './plaintext.js';

/** Default cap on the plaintext body, in bytes. */
export const DEFAULT_MAX_BODY_BYTES = 64 * 1024;

export interface DecryptedTelemetry {
  envelope: TelemetryEnvelope;
  context: TelemetryContext;
  /** The decrypted body, JSON-decoded but not yet validated: parse it with the kind's schema. */
  data: unknown;
  /**
   * The Encryption SDK message id (32 random bytes in the header, covered by the header tag), as 64
   * lower-case hex digits: the identity of this exact message, for deduplication.
   */
  esdkMessageId: string;
}

export interface TelemetryDecryptor {
  /**
   * Decrypts the envelope's Encryption SDK message for exactly `expected` (`{ thing, kind }`).
   * Throws {@link TelemetryDecryptError} (permanent: drop); anything else, {@link TelemetryKeyUnavailableError}
   * included, is transient: retry.
   */
  decrypt(envelope: TelemetryEnvelope, expected: TelemetryContext): Promise<DecryptedTelemetry>;
}

const KEY_LABEL = Buffer.concat([
  Buffer.from([ESDK_COMMIT_KEY_SUITE_ID >> 8, ESDK_COMMIT_KEY_SUITE_ID & 0xff]),
  Buffer.from('DERIVEKEY', 'ascii'),
]);
const COMMIT_LABEL = Buffer.from('COMMITKEY', 'ascii');
const HEADER_IV = Buffer.alloc(ESDK_IV_LENGTH);
const EMPTY = Buffer.alloc(0);
const FRAME_LABEL = Buffer.from('AWSKMSEncryptionClient Frame', 'ascii');
const FINAL_FRAME_LABEL = Buffer.from('AWSKMSEncryptionClient Final Frame', 'ascii');
const KIND = Buffer.from('kind', 'utf8');
const THING = Buffer.from('thing', 'utf8');

/**
 * Cloud side: decrypts telemetry envelopes in process, without the Encryption SDK's streaming pipeline, for exactly
 * one message shape: message format version 2, suite ALG_AES256_GCM_IV12_TAG16_HKDF_SHA512_COMMIT_KEY (0x0478),
 * one encrypted data key, framed content, encryption context exactly `{ kind, thing }`, and nothing after the final
 * frame. In order: strict header read (`malformed`), suite and context checks (`malformed` / `context-mismatch`)
 * before any key is requested, data key from the cache or else through the keyring's decrypt path (KMS errors
 * classified as before), HKDF-SHA512 key derivation with a constant-time key-commitment check and the header tag
 * (`tampered`), then every frame with AES-256-GCM (`tampered`, or `oversize` past `maxBodyBytes`), then JSON, whose
 * authenticated `messageId` and `sentAt` must be the envelope's (`envelope-mismatch`); `data` is its `body`.
 * Plaintext data keys are cached per (encrypted data key, serialized context) within `cache` bounds, so the keyring
 * (KMS) is called once per data key. Share one decryptor per process.
 *
 * @example
 * const decryptor = createTelemetryDecryptor({ keyring: telemetryKmsKeyring({ keyId, client: kms }) });
 * const { data } = await decryptor.decrypt(parseTelemetryEnvelope(raw), { thing: thingName, kind: 'telemetry' });
 */
export function createTelemetryDecryptor(opts: {
  keyring: KeyringNode;
  cache?: TelemetryCacheLimits;
  maxBodyBytes?: number;
}): TelemetryDecryptor {
  const limits = opts.cache ?? DEFAULT_DECRYPT_CACHE_LIMITS;
  const cache = new DataKeyCache({
    capacity: limits.capacity,
    maxAgeMs: limits.maxAgeMs,
    ...(limits.maxMessagesDecrypted === undefined ? {} : { maxMessages: limits.maxMessagesDecrypted }),
  });
  const cmm = new NodeDefaultCryptographicMaterialsManager(opts.keyring);
  const suite = new NodeAlgorithmSuite(ESDK_COMMIT_KEY_SUITE_ID);
  const maxBodyBytes = opts.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;

  /** The keyring's decrypt path (as the Encryption SDK's default materials manager calls it): one KMS call. */
  async function fetchDataKey(header: EsdkHeaderV2, expected: TelemetryContext, messageId: string) {
    const { providerId, providerInfo, ciphertext } = header.encryptedDataKey;
    let edk: EncryptedDataKey;
    try {
      edk = new EncryptedDataKey({
        providerId: providerId.toString('utf8'),
        providerInfo: providerInfo.toString('utf8'),
        rawInfo: new Uint8Array(providerInfo),
        encryptedDataKey: new Uint8Array(ciphertext),
      });
    } catch {
      throw new TelemetryDecryptError('malformed', 'encrypted data key malformed', { messageId });
    }
    let material: Awaited<ReturnType<typeof cmm.decryptMaterials>>;
    try {
      material = await cmm.decryptMaterials({
        suite,
        encryptionContext: { kind: expected.kind, thing: expected.thing },
        encryptedDataKeys: [edk],
      });
    } catch (cause) {
      throw classify(cause, true, messageId);
    }
    try {
      // The SDK hands the data key over as a KeyObject where it can: export it once for the cache to wrap.
      const dataKey: unknown = material.getUnencryptedDataKey();
      const exported =
        dataKey instanceof KeyObject ? dataKey.export() : dataKey instanceof Uint8Array ? dataKey : undefined;
      if (exported?.byteLength !== 32) throw new TelemetryError('keyring returned no usable data key');
      const owned = Buffer.alloc(32);
      owned.set(exported);
      if (dataKey instanceof KeyObject) exported.fill(0);
      return owned;
    } finally {
      material.zeroUnencryptedDataKey();
    }
  }

  return {
    async decrypt(envelope, expected) {
      const messageId = envelope.messageId;
      const bytes = Buffer.from(envelope.esdk, 'base64');
      const header = readEsdkHeaderV2(bytes, messageId);
      // Exactly { kind, thing }, compared as bytes (invalid UTF-8 never matches), before any key is requested.
      if (!contextIs(header.context, expected)) {
        throw new TelemetryDecryptError('context-mismatch', 'encryption context does not match', {
          messageId,
        });
      }
      if (!KIND.equals(header.context[0]?.[0] ?? EMPTY)) {
        // The same two pairs, not in the canonical (sorted) order no Encryption SDK writes.
        throw new TelemetryDecryptError('malformed', 'encryption context not in canonical order', {
          messageId,
        });
      }

      const derivedKey = await cache.use(
        header.keyAndContextBytes.toString('latin1'),
        () => fetchDataKey(header, expected, messageId),
        (dataKey) => deriveKey(dataKey, header, messageId),
      );
      // Authenticated header: its remaining fields are now the sender's choice, judged as such.
      if (header.contentType !== ESDK_CONTENT_TYPE_FRAMED || header.frameLength === 0) {
        throw new TelemetryDecryptError('malformed', 'content must be framed', { messageId });
      }
      const chunks: Buffer[] = [];
      let plaintext: Buffer | undefined;
      try {
        const problem = walkEsdkFrames(bytes, header, maxBodyBytes, (frame) => {
          chunks.push(decryptFrame(derivedKey, header.messageId, frame, messageId));
        });
        if (problem === 'body exceeds the cap') {
          throw new TelemetryDecryptError('oversize', 'body exceeds the cap', { messageId });
        }
        if (problem !== undefined) throw new TelemetryDecryptError('tampered', problem, { messageId });
        plaintext = chunks.length === 1 ? chunks[0] : Buffer.concat(chunks);
        return {
          envelope,
          context: { thing: expected.thing, kind: expected.kind },
          data: openTelemetryPlaintext(parseJsonBody(plaintext ?? EMPTY, messageId), envelope),
          esdkMessageId: header.messageId.toString('hex'),
        };
      } finally {
        plaintext?.fill(0);
        for (const chunk of chunks) chunk.fill(0);
      }
    },
  };
}

/** True when the pairs are exactly `kind` and `thing` with the expected values (byte comparison). */
function contextIs(pairs: EsdkHeaderV2['context'], expected: TelemetryContext): boolean {
  if (pairs.length !== 2) return false;
  let kind = false;
  let thing = false;
  for (const [key, value] of pairs) {
    if (key.equals(KIND)) kind = utf8Equals(value, expected.kind);
    else if (key.equals(THING)) thing = utf8Equals(value, expected.thing);
  }
  return kind && thing;
}

function utf8Equals(bytes: Buffer, text: string): boolean {
  return bytes.length === Buffer.byteLength(text, 'utf8') && bytes.equals(Buffer.from(text, 'utf8'));
}

/**
 * HKDF-SHA512 (salt = message id) as the Encryption SDK does for committing suites: the commitment is
 * expand(32, "COMMITKEY"), compared in constant time with the header's suite data; the data encryption key is
 * expand(32, suite id || "DERIVEKEY"). Then the header tag (AES-GCM, IV all zeros, AAD = header body).
 */
function deriveKey(dataKey: KeyObject, header: EsdkHeaderV2, messageId: string): KeyObject {
  const commitment = new Uint8Array(
    hkdfSync('sha512', dataKey, header.messageId, COMMIT_LABEL, ESDK_COMMITMENT_LENGTH),
  );
  if (!timingSafeEqual(commitment, header.commitment)) {
    throw new TelemetryDecryptError('tampered', 'key commitment does not match', { messageId });
  }
  const derivedBytes = new Uint8Array(hkdfSync('sha512', dataKey, header.messageId, KEY_LABEL, 32));
  let derivedKey: KeyObject;
  try {
    derivedKey = createSecretKey(derivedBytes);
  } finally {
    derivedBytes.fill(0);
  }
  try {
    const auth = createDecipheriv('aes-256-gcm', derivedKey, HEADER_IV);
    auth.setAAD(header.headerBody);
    auth.setAuthTag(header.headerAuthTag);
    auth.update(EMPTY);
    auth.final();
  } catch {
    throw new TelemetryDecryptError('tampered', 'header authentication failed', { messageId });
  }
  return derivedKey;
}

/** One frame: body AAD = message id || content string || sequence number (uint32) || content length (uint64). */
function decryptFrame(key: KeyObject, esdkMessageId: Buffer, frame: EsdkFrame, messageId: string): Buffer {
  const label = frame.isFinal ? FINAL_FRAME_LABEL : FRAME_LABEL;
  const aad = Buffer.allocUnsafe(esdkMessageId.length + label.length + 4 + 8);
  esdkMessageId.copy(aad, 0);
  label.copy(aad, esdkMessageId.length);
  let at = esdkMessageId.length + label.length;
  aad.writeUInt32BE(frame.sequenceNumber, at);
  at += 4;
  aad.writeUInt32BE(0, at); // content length < 2^32: high word
  aad.writeUInt32BE(frame.ciphertext.length, at + 4);
  try {
    const decipher = createDecipheriv('aes-256-gcm', key, frame.iv);
    decipher.setAAD(aad);
    decipher.setAuthTag(frame.tag);
    const head = decipher.update(frame.ciphertext);
    const tail = decipher.final();
    return tail.length === 0 ? head : Buffer.concat([head, tail]);
  } catch {
    throw new TelemetryDecryptError('tampered', 'frame authentication failed', { messageId });
  }
}

import {
  buildClient,
  CommitmentPolicy,
  KeyringNode,
  type NodeDecryptionMaterial,
  NodeDefaultCryptographicMaterialsManager,
  type NodeMaterialsManager,
} from '@aws-crypto/client-node';
import { contextMatches, type TelemetryContext } from './context.js';
import { TELEMETRY_SUITE } from './encrypt.js';
import type { TelemetryEnvelope } from './envelope.js';
import { TelemetryDecryptError, TelemetryError, TelemetryKeyUnavailableError } from './errors.js';

/** KMS errors that mean "this data key will never decrypt here": the message is dropped, not retried. */
const PERMANENT_KMS_ERRORS: Readonly<Record<string, 'tampered' | 'wrong-key'>> = {
  InvalidCiphertextException: 'tampered',
  IncorrectKeyException: 'wrong-key',
  AccessDeniedException: 'wrong-key',
  NotFoundException: 'wrong-key',
  DisabledException: 'wrong-key',
  KMSInvalidStateException: 'wrong-key',
  InvalidKeyUsageException: 'wrong-key',
  InvalidGrantTokenException: 'wrong-key',
};

/** Default cap on the plaintext body, in bytes. */
export const DEFAULT_MAX_BODY_BYTES = 64 * 1024;

export interface DecryptedTelemetry {
  envelope: TelemetryEnvelope;
  context: TelemetryContext;
  /** The decrypted body, JSON-decoded but not yet validated: parse it with the kind's schema. */
  data: unknown;
}

export interface TelemetryDecryptor {
  /**
   * Decrypts the envelope's Encryption SDK message for exactly `expected` (`{ thing, kind }`).
   * Throws {@link TelemetryDecryptError} (permanent: drop); anything else, {@link TelemetryKeyUnavailableError}
   * included, is transient: retry.
   */
  decrypt(envelope: TelemetryEnvelope, expected: TelemetryContext): Promise<DecryptedTelemetry>;
}

/**
 * Cloud side: decrypts telemetry envelopes. The encryption context and algorithm suite in the message header are
 * checked before any data key is requested (a message for another thing never reaches KMS), and again on the
 * decrypted result. Share one decryptor (and its caching materials manager) per process.
 *
 * @example
 * const decryptor = createTelemetryDecryptor({ materials: createTelemetryMaterialsManager(keyring) });
 * const { data } = await decryptor.decrypt(parseTelemetryEnvelope(raw), { thing: thingName, kind: 'telemetry' });
 */
export function createTelemetryDecryptor(opts: {
  materials: NodeMaterialsManager | KeyringNode;
  maxBodyBytes?: number;
}): TelemetryDecryptor {
  const { decrypt } = buildClient({
    commitmentPolicy: CommitmentPolicy.REQUIRE_ENCRYPT_REQUIRE_DECRYPT,
    maxEncryptedDataKeys: 1,
  });
  const inner: NodeMaterialsManager =
    opts.materials instanceof KeyringNode
      ? new NodeDefaultCryptographicMaterialsManager(opts.materials)
      : opts.materials;
  const maxBodySize = opts.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;

  return {
    async decrypt(envelope, expected) {
      const messageId = envelope.messageId;
      const ciphertext = Buffer.from(envelope.esdk, 'base64');
      // Set by the pinning materials manager when the header is refused before any key is fetched.
      let refused: TelemetryDecryptError | undefined;
      let keyRequested = false;
      const pinned = {
        getEncryptionMaterials() {
          throw new Error('decrypt only');
        },
        async decryptMaterials(request: Parameters<NodeMaterialsManager['decryptMaterials']>[0]) {
          if (request.suite.id !== TELEMETRY_SUITE) {
            refused = new TelemetryDecryptError('malformed', 'algorithm suite not allowed', { messageId });
            throw refused;
          }
          if (!contextMatches(request.encryptionContext, expected)) {
            refused = new TelemetryDecryptError('context-mismatch', 'encryption context does not match', {
              messageId,
            });
            throw refused;
          }
          keyRequested = true;
          return (await inner.decryptMaterials(request)) as NodeDecryptionMaterial;
        },
      } as unknown as NodeMaterialsManager;

      let result: Awaited<ReturnType<typeof decrypt>>;
      try {
        result = await decrypt(pinned, ciphertext, { maxBodySize });
      } catch (cause) {
        if (refused) throw refused;
        throw classify(cause, keyRequested, messageId);
      }
      const { plaintext, messageHeader } = result;
      try {
        // Belt and braces: the header the SDK authenticated must carry exactly the expected context.
        if (!contextMatches(messageHeader.encryptionContext, expected)) {
          throw new TelemetryDecryptError('context-mismatch', 'encryption context does not match', {
            messageId,
          });
        }
        if (messageHeader.suiteId !== TELEMETRY_SUITE) {
          throw new TelemetryDecryptError('malformed', 'algorithm suite not allowed', { messageId });
        }
        let data: unknown;
        try {
          data = JSON.parse(plaintext.toString('utf8'));
        } catch {
          // No cause: the parser's message quotes the plaintext.
          throw new TelemetryDecryptError('malformed', 'decrypted body is not JSON', { messageId });
        }
        return { envelope, context: { thing: expected.thing, kind: expected.kind }, data };
      } finally {
        plaintext.fill(0);
      }
    },
  };
}

/** Maps an Encryption SDK failure to a permanent rejection or a transient key failure. */
function classify(cause: unknown, keyRequested: boolean, messageId: string): Error {
  if (cause instanceof TelemetryDecryptError || cause instanceof TelemetryKeyUnavailableError) return cause;
  const text = cause instanceof Error ? `${cause.name}: ${cause.message}` : String(cause);
  // Before materials were requested the SDK only parsed the header: the bytes are not an ESDK message we accept.
  if (!keyRequested)
    return new TelemetryDecryptError('malformed', 'not a valid Encryption SDK message', { messageId });
  if (text.includes('KMS CMKs had an error')) {
    for (const [name, reason] of Object.entries(PERMANENT_KMS_ERRORS)) {
      if (text.includes(name))
        return new TelemetryDecryptError(reason, `KMS refused the data key (${name})`, { messageId });
    }
    const name = /\b([A-Z][A-Za-z]+(?:Exception|Error))\b/.exec(text.slice(text.indexOf('Error #1')))?.[1];
    return new TelemetryKeyUnavailableError(`KMS call failed (${name ?? 'unknown'})`, { messageId, cause });
  }
  if (text.includes('maxBodySize exceeded')) {
    return new TelemetryDecryptError('oversize', 'body exceeds the cap', { messageId });
  }
  if (/unencryptedDataKey has not been set|Unable to decrypt data key/i.test(text)) {
    return new TelemetryDecryptError('wrong-key', 'no keyring could decrypt the data key', { messageId });
  }
  if (TAMPER_SIGNS.some((sign) => text.includes(sign))) {
    return new TelemetryDecryptError('tampered', 'authentication failed', { messageId });
  }
  // Not a known permanent failure: let it be retried (retries are bounded by the event source and end in a DLQ).
  return new TelemetryError('unexpected failure while decrypting', { cause });
}

/** Encryption SDK failures, after the data key was obtained, that mean the message bytes were altered. */
const TAMPER_SIGNS = [
  'Commitment does not match',
  'unable to authenticate data',
  'sequence out of order',
  'Malformed sequenceNumber',
  'Final frame length exceeds',
  'Incomplete message',
  'Context does not contain required public key',
  'Overflow',
];

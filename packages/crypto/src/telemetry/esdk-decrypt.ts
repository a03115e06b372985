import {
  buildClient,
  CommitmentPolicy,
  KeyringNode,
  type NodeDecryptionMaterial,
  NodeDefaultCryptographicMaterialsManager,
  type NodeMaterialsManager,
} from '@aws-crypto/client-node';
import { classify, parseJsonBody } from './classify.js';
import { contextMatches } from './context.js';
import { DEFAULT_MAX_BODY_BYTES, type TelemetryDecryptor } from './decrypt.js';
import { TELEMETRY_SUITE } from './encrypt.js';
import { TelemetryDecryptError } from './errors.js';
import { openTelemetryPlaintext } from './plaintext.js';

/**
 * Reference decryptor through the AWS Encryption SDK's own (streaming) decrypt, kept as the independent peer that the
 * tests run beside {@link createTelemetryDecryptor} (same inputs, same results and rejection reasons) and as the
 * bench reference; production uses {@link createTelemetryDecryptor}. The encryption context and algorithm suite in the message header are
 * checked before any data key is requested (a message for another thing never reaches KMS), and again on the
 * decrypted result. Share one decryptor (and its caching materials manager) per process.
 *
 * @example
 * const decryptor = createEsdkTelemetryDecryptor({ materials: createTelemetryMaterialsManager(keyring) });
 * const { data } = await decryptor.decrypt(parseTelemetryEnvelope(raw), { thing: thingName, kind: 'telemetry' });
 */
export function createEsdkTelemetryDecryptor(opts: {
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
        const data = openTelemetryPlaintext(parseJsonBody(plaintext, messageId), envelope);
        return {
          envelope,
          context: { thing: expected.thing, kind: expected.kind },
          data,
          esdkMessageId: Buffer.from(messageHeader.messageId).toString('hex'),
        };
      } finally {
        plaintext.fill(0);
      }
    },
  };
}

import { randomUUID } from 'node:crypto';
import {
  AlgorithmSuiteIdentifier,
  buildClient,
  CommitmentPolicy,
  type KeyringNode,
  type NodeMaterialsManager,
} from '@aws-crypto/client-node';
import { type TelemetryKind, telemetryEncryptionContext } from './context.js';
import {
  serializeTelemetryEnvelope,
  TELEMETRY_ENVELOPE_VERSION,
  type TelemetryEnvelope,
} from './envelope.js';
import { TelemetryEncryptError } from './errors.js';
import { sealTelemetryPlaintext } from './plaintext.js';

/** The one algorithm suite telemetry uses: key-committing AES-256-GCM with HKDF-SHA512, no signature. */
export const TELEMETRY_SUITE = AlgorithmSuiteIdentifier.ALG_AES256_GCM_IV12_TAG16_HKDF_SHA512_COMMIT_KEY;

export interface EncryptTelemetryInput {
  thingName: string;
  kind: TelemetryKind;
  /** The JSON-serialisable body (telemetry reading or command result). */
  data: unknown;
  /** Defaults to a fresh UUID v4. */
  messageId?: string;
  /** Defaults to now. */
  sentAt?: Date;
}

export interface EncryptedTelemetry {
  envelope: TelemetryEnvelope;
  /** The UTF-8 JSON to publish on `ecus/<thingName>/<kind>s`. */
  payload: string;
}

export interface TelemetryEncryptor {
  encrypt(input: EncryptTelemetryInput): Promise<EncryptedTelemetry>;
}

/**
 * Vehicle side: encrypts a body into the telemetry envelope with the Encryption SDK (committing suite, no signature,
 * encryption context `{ thing, kind }`). The plaintext is `{ messageId, sentAt, body }`, so the envelope's
 * `messageId` and `sentAt` are authenticated copies. Pass a caching materials manager to reuse data keys.
 *
 * @example
 * const encryptor = createTelemetryEncryptor({ materials: createTelemetryMaterialsManager(keyring, DEFAULT_ENCRYPT_CACHE_LIMITS) });
 * const { payload } = await encryptor.encrypt({ thingName, kind: 'telemetry', data: { speedKmh: 42 } });
 */
export function createTelemetryEncryptor(opts: {
  materials: NodeMaterialsManager | KeyringNode;
  frameLength?: number;
}): TelemetryEncryptor {
  const { encrypt } = buildClient({
    commitmentPolicy: CommitmentPolicy.REQUIRE_ENCRYPT_REQUIRE_DECRYPT,
    maxEncryptedDataKeys: 1,
  });
  return {
    async encrypt(input) {
      const messageId = input.messageId ?? randomUUID();
      const sentAt = (input.sentAt ?? new Date()).toISOString();
      const plaintext = sealTelemetryPlaintext({ messageId, sentAt, body: input.data ?? null });
      let result: Buffer;
      try {
        ({ result } = await encrypt(opts.materials, plaintext, {
          encryptionContext: telemetryEncryptionContext(input.thingName, input.kind),
          suiteId: TELEMETRY_SUITE,
          ...(opts.frameLength === undefined ? {} : { frameLength: opts.frameLength }),
        }));
      } catch (cause) {
        throw new TelemetryEncryptError('the Encryption SDK failed', { cause });
      } finally {
        plaintext.fill(0);
      }
      const envelope: TelemetryEnvelope = {
        v: TELEMETRY_ENVELOPE_VERSION,
        messageId,
        sentAt,
        esdk: result.toString('base64'),
      };
      return { envelope, payload: serializeTelemetryEnvelope(envelope) };
    },
  };
}

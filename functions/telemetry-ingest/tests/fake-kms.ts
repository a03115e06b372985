/**
 * (Same fake as packages/crypto/tests/telemetry-fake-kms.ts; functions may not import another package's tests.)
 * A KMS that behaves for real behind aws-sdk-client-mock: GenerateDataKey returns a fresh random data key and a
 * ciphertext blob (AES-256-GCM under a per-key master secret, the encryption context as AAD); Decrypt maps the blob
 * back and fails with InvalidCiphertextException when the blob or the encryption context differ.
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import {
  DecryptCommand,
  EncryptCommand,
  GenerateDataKeyCommand,
  IncorrectKeyException,
  InvalidCiphertextException,
  type KMSClient,
  KMSServiceException,
  NotFoundException,
} from '@aws-sdk/client-kms';
import type { AwsStub } from 'aws-sdk-client-mock';

// biome-ignore lint/suspicious/noExplicitAny: the stub's input/output generics are the SDK's union types
type KmsStub = AwsStub<any, any, KMSClient['config']>;

const meta = { httpStatusCode: 400, attempts: 1, totalRetryDelay: 0 };

function aad(keyArn: string, context: Record<string, string> | undefined): Buffer {
  const entries = Object.entries(context ?? {}).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return Buffer.from(JSON.stringify([keyArn, entries]), 'utf8');
}

export interface FakeKms {
  keyArns: readonly string[];
  /** The next `count` Decrypt calls (matching `when`, if given) fail with the named service error (e.g. ThrottlingException). */
  failNextDecrypts(
    count: number,
    name: string,
    when?: (input: { EncryptionContext?: Record<string, string> }) => boolean,
  ): void;
}

/** Installs the fake on a stub. Keys are the given ARNs; each gets its own random master secret. */
export function installFakeKms(stub: KmsStub, keyArns: readonly string[]): FakeKms {
  const masters = new Map(keyArns.map((arn) => [arn, randomBytes(32)]));
  type Failures = {
    count: number;
    name: string;
    when?: (input: { EncryptionContext?: Record<string, string> }) => boolean;
  };
  let failures: Failures = { count: 0, name: '' };
  const wrap = (arn: string, master: Buffer, plaintext: Uint8Array, context?: Record<string, string>) => {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', master, iv);
    cipher.setAAD(aad(arn, context));
    const body = Buffer.concat([cipher.update(plaintext), cipher.final()]);
    const keyIndex = Buffer.alloc(1, keyArns.indexOf(arn));
    return new Uint8Array(Buffer.concat([keyIndex, iv, body, cipher.getAuthTag()]));
  };
  const generate = (input: {
    KeyId?: string;
    NumberOfBytes?: number;
    EncryptionContext?: Record<string, string>;
  }) => {
    const arn = input.KeyId ?? '';
    const master = masters.get(arn);
    if (!master) throw new NotFoundException({ message: 'Key not found', $metadata: meta });
    const plaintext = new Uint8Array(randomBytes(input.NumberOfBytes ?? 32));
    return {
      KeyId: arn,
      Plaintext: plaintext,
      CiphertextBlob: wrap(arn, master, plaintext, input.EncryptionContext),
    };
  };
  stub.on(GenerateDataKeyCommand).callsFake(generate);
  stub
    .on(EncryptCommand)
    .callsFake(
      (input: { KeyId?: string; Plaintext?: Uint8Array; EncryptionContext?: Record<string, string> }) => {
        const arn = input.KeyId ?? '';
        const master = masters.get(arn);
        if (!master || !input.Plaintext)
          throw new NotFoundException({ message: 'Key not found', $metadata: meta });
        return { KeyId: arn, CiphertextBlob: wrap(arn, master, input.Plaintext, input.EncryptionContext) };
      },
    );
  stub
    .on(DecryptCommand)
    .callsFake(
      (input: {
        KeyId?: string;
        CiphertextBlob?: Uint8Array;
        EncryptionContext?: Record<string, string>;
      }) => {
        if (failures.count > 0 && (failures.when === undefined || failures.when(input))) {
          failures = { ...failures, count: failures.count - 1 };
          throw new KMSServiceException({
            name: failures.name,
            $fault: 'client',
            message: 'Rate exceeded',
            $metadata: meta,
          });
        }
        const blob = Buffer.from(input.CiphertextBlob ?? new Uint8Array());
        const arn = keyArns[blob[0] ?? 255];
        const master = arn === undefined ? undefined : masters.get(arn);
        if (arn === undefined || !master || blob.length < 1 + 12 + 16) {
          throw new InvalidCiphertextException({ message: 'invalid ciphertext', $metadata: meta });
        }
        if (input.KeyId !== undefined && input.KeyId !== arn) {
          throw new IncorrectKeyException({ message: 'incorrect key', $metadata: meta });
        }
        try {
          const decipher = createDecipheriv('aes-256-gcm', master, blob.subarray(1, 13));
          decipher.setAAD(aad(arn, input.EncryptionContext));
          decipher.setAuthTag(blob.subarray(blob.length - 16));
          const plaintext = Buffer.concat([
            decipher.update(blob.subarray(13, blob.length - 16)),
            decipher.final(),
          ]);
          return {
            KeyId: arn,
            Plaintext: new Uint8Array(plaintext),
            EncryptionAlgorithm: 'SYMMETRIC_DEFAULT',
          };
        } catch {
          throw new InvalidCiphertextException({ message: 'invalid ciphertext', $metadata: meta });
        }
      },
    );
  return {
    keyArns,
    failNextDecrypts(count, name, when) {
      failures = when === undefined ? { count, name } : { count, name, when };
    },
  };
}

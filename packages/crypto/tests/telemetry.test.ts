import { randomBytes, randomUUID } from 'node:crypto';
import {
  AlgorithmSuiteIdentifier,
  buildClient,
  CommitmentPolicy,
  type KeyringNode,
  RawAesKeyringNode,
  RawAesWrappingSuiteIdentifier,
} from '@aws-crypto/client-node';
import { DecryptCommand, GenerateDataKeyCommand, KMS, KMSClient } from '@aws-sdk/client-kms';
import { type FakeKms, installFakeKms } from '@cv/test-support';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  createEsdkTelemetryDecryptor,
  createTelemetryDecryptor,
  createTelemetryEncryptor,
  createTelemetryMaterialsManager,
  DEFAULT_ENCRYPT_CACHE_LIMITS,
  parseTelemetryEnvelope,
  sealTelemetryPlaintext,
  serializeTelemetryEnvelope,
  TELEMETRY_SUITE,
  type TelemetryCacheLimits,
  TelemetryDecryptError,
  type TelemetryDecryptor,
  type TelemetryEnvelope,
  TelemetryKeyUnavailableError,
  telemetryKmsKeyring,
} from '../src/telemetry/index.js';

const THING_A = '1HGCM82633A004352_gw-01';
const THING_B = '1HGCM82633A004352_tcu-02';
const KEY_ARN = 'arn:aws:kms:eu-west-1:111122223333:key/11111111-2222-4333-8444-555555555555';
const OTHER_KEY_ARN = 'arn:aws:kms:eu-west-1:111122223333:key/99999999-2222-4333-8444-555555555555';
const reading = { speedKmh: 87.5, odometerKm: 12345.6, doorsLocked: true };

function aesKeyring(key: Uint8Array = randomBytes(32)) {
  return new RawAesKeyringNode({
    keyNamespace: 'cv-test',
    keyName: 'telemetry',
    unencryptedMasterKey: new Uint8Array(key),
    wrappingSuite: RawAesWrappingSuiteIdentifier.AES256_GCM_IV12_TAG16_NO_PADDING,
  });
}

/** Rewrites the envelope's ESDK bytes. */
function withEsdk(envelope: TelemetryEnvelope, change: (bytes: Buffer) => Buffer): TelemetryEnvelope {
  return { ...envelope, esdk: change(Buffer.from(envelope.esdk, 'base64')).toString('base64') };
}

async function rejection(p: Promise<unknown>): Promise<unknown> {
  try {
    await p;
  } catch (error) {
    return error;
  }
  throw new Error('expected a rejection');
}

type MakeDecryptor = (
  keyring: KeyringNode,
  opts?: { cache?: TelemetryCacheLimits; maxBodyBytes?: number },
) => TelemetryDecryptor;

/**
 * Every test below runs on both decrypt paths: the in-process one (production) and the Encryption SDK's own decrypt
 * (the independent reference), so they are shown to agree on results and on rejection reasons.
 */
const IMPLEMENTATIONS: ReadonlyArray<readonly [string, MakeDecryptor]> = [
  ['in-process decrypt', (keyring, opts = {}) => createTelemetryDecryptor({ keyring, ...opts })],
  [
    'Encryption SDK decrypt (reference)',
    (keyring, { cache, maxBodyBytes } = {}) =>
      createEsdkTelemetryDecryptor({
        materials: createTelemetryMaterialsManager(keyring, cache),
        ...(maxBodyBytes === undefined ? {} : { maxBodyBytes }),
      }),
  ],
];

describe.each(IMPLEMENTATIONS)('telemetry with a raw AES keyring: %s', (_impl, makeDecryptor) => {
  const key = randomBytes(32);
  const keyring = aesKeyring(key);
  const encryptor = createTelemetryEncryptor({ materials: keyring });
  const decryptor = makeDecryptor(keyring);

  it('round-trips a reading for the right thing and kind', async () => {
    const messageId = randomUUID();
    const { payload } = await encryptor.encrypt({
      thingName: THING_A,
      kind: 'telemetry',
      data: reading,
      messageId,
    });

    const envelope = parseTelemetryEnvelope(payload);
    const out = await decryptor.decrypt(envelope, { thing: THING_A, kind: 'telemetry' });

    expect(out.data).toEqual(reading);
    expect(out.envelope.messageId).toBe(messageId);
    expect(out.context).toEqual({ thing: THING_A, kind: 'telemetry' });
    expect(payload).not.toContain('87.5');
  });

  it('produces a message the plain Encryption SDK decrypts with the committing unsigned suite and exact context', async () => {
    const { envelope } = await encryptor.encrypt({
      thingName: THING_A,
      kind: 'command-result',
      data: reading,
    });

    const peer = buildClient(CommitmentPolicy.REQUIRE_ENCRYPT_REQUIRE_DECRYPT);
    const { plaintext, messageHeader } = await peer.decrypt(
      aesKeyring(key),
      Buffer.from(envelope.esdk, 'base64'),
    );

    // Version 2: the plaintext repeats the envelope's claims, so the SDK's authentication covers them.
    expect(JSON.parse(plaintext.toString('utf8'))).toEqual({
      messageId: envelope.messageId,
      sentAt: envelope.sentAt,
      body: reading,
    });
    expect(envelope.v).toBe(2);
    expect(messageHeader.suiteId).toBe(
      AlgorithmSuiteIdentifier.ALG_AES256_GCM_IV12_TAG16_HKDF_SHA512_COMMIT_KEY,
    );
    expect(messageHeader.encryptionContext).toEqual({ thing: THING_A, kind: 'command-result' });
  });

  it('decrypts a message made by the plain Encryption SDK with the same context', async () => {
    const peer = buildClient(CommitmentPolicy.REQUIRE_ENCRYPT_REQUIRE_DECRYPT);
    const meta = { messageId: randomUUID(), sentAt: new Date().toISOString() };
    const { result } = await peer.encrypt(
      aesKeyring(key),
      sealTelemetryPlaintext({ ...meta, body: reading }),
      {
        encryptionContext: { kind: 'telemetry', thing: THING_A },
        suiteId: TELEMETRY_SUITE,
      },
    );
    const envelope = { v: 2 as const, ...meta, esdk: result.toString('base64') };

    const out = await decryptor.decrypt(envelope, { thing: THING_A, kind: 'telemetry' });

    expect(out.data).toEqual(reading);
  });

  it.each([
    ['another thing', { thing: THING_B, kind: 'telemetry' as const }],
    ['another kind', { thing: THING_A, kind: 'command-result' as const }],
  ])('rejects a message whose context names %s', async (_label, expected) => {
    const { envelope } = await encryptor.encrypt({ thingName: THING_A, kind: 'telemetry', data: reading });

    const error = await rejection(decryptor.decrypt(envelope, expected));

    expect(error).toBeInstanceOf(TelemetryDecryptError);
    expect((error as TelemetryDecryptError).reason).toBe('context-mismatch');
    expect((error as TelemetryDecryptError).messageId).toBe(envelope.messageId);
  });

  it.each([
    ['an extra key', { thing: THING_A, kind: 'telemetry', extra: 'x' }],
    ['a missing key', { thing: THING_A }],
  ])('rejects a context with %s', async (_label, encryptionContext) => {
    const peer = buildClient(CommitmentPolicy.REQUIRE_ENCRYPT_REQUIRE_DECRYPT);
    const { result } = await peer.encrypt(keyring, JSON.stringify(reading), {
      encryptionContext,
      suiteId: TELEMETRY_SUITE,
    });
    const envelope = {
      v: 2 as const,
      messageId: randomUUID(),
      sentAt: new Date().toISOString(),
      esdk: result.toString('base64'),
    };

    const error = await rejection(decryptor.decrypt(envelope, { thing: THING_A, kind: 'telemetry' }));

    expect((error as TelemetryDecryptError).reason).toBe('context-mismatch');
  });

  it.each([
    [
      'signed committing suite',
      AlgorithmSuiteIdentifier.ALG_AES256_GCM_IV12_TAG16_HKDF_SHA512_COMMIT_KEY_ECDSA_P384,
      CommitmentPolicy.REQUIRE_ENCRYPT_REQUIRE_DECRYPT,
    ],
    [
      'non-committing suite',
      AlgorithmSuiteIdentifier.ALG_AES256_GCM_IV12_TAG16_HKDF_SHA256,
      CommitmentPolicy.FORBID_ENCRYPT_ALLOW_DECRYPT,
    ],
  ])('rejects a %s as malformed', async (_label, suiteId, commitmentPolicy) => {
    const peer = buildClient(commitmentPolicy);
    const { result } = await peer.encrypt(keyring, JSON.stringify(reading), {
      encryptionContext: { thing: THING_A, kind: 'telemetry' },
      suiteId,
    });
    const envelope = {
      v: 2 as const,
      messageId: randomUUID(),
      sentAt: new Date().toISOString(),
      esdk: result.toString('base64'),
    };

    const error = await rejection(decryptor.decrypt(envelope, { thing: THING_A, kind: 'telemetry' }));

    expect(error).toBeInstanceOf(TelemetryDecryptError);
    expect((error as TelemetryDecryptError).reason).toBe('malformed');
  });

  it('rejects a flipped bit in the body as tampered', async () => {
    const { envelope } = await encryptor.encrypt({ thingName: THING_A, kind: 'telemetry', data: reading });
    const tampered = withEsdk(envelope, (b) => {
      const copy = Buffer.from(b);
      const at = copy.length - 20; // inside the last frame's ciphertext
      copy[at] = (copy[at] ?? 0) ^ 0x01;
      return copy;
    });

    const error = await rejection(decryptor.decrypt(tampered, { thing: THING_A, kind: 'telemetry' }));

    expect(error).toBeInstanceOf(TelemetryDecryptError);
    expect((error as TelemetryDecryptError).reason).toBe('tampered');
  });

  it('rejects a truncated message', async () => {
    const { envelope } = await encryptor.encrypt({ thingName: THING_A, kind: 'telemetry', data: reading });
    const truncated = withEsdk(envelope, (b) => b.subarray(0, b.length - 8));

    const error = await rejection(decryptor.decrypt(truncated, { thing: THING_A, kind: 'telemetry' }));

    expect(error).toBeInstanceOf(TelemetryDecryptError);
    expect(['tampered', 'malformed']).toContain((error as TelemetryDecryptError).reason);
  });

  it('rejects bytes that are not an Encryption SDK message as malformed', async () => {
    const envelope = {
      v: 2 as const,
      messageId: randomUUID(),
      sentAt: new Date().toISOString(),
      esdk: randomBytes(200).toString('base64'),
    };

    const error = await rejection(decryptor.decrypt(envelope, { thing: THING_A, kind: 'telemetry' }));

    expect((error as TelemetryDecryptError).reason).toBe('malformed');
  });

  it('rejects a message under another wrapping key as wrong-key', async () => {
    const other = createTelemetryEncryptor({ materials: aesKeyring() });
    const { envelope } = await other.encrypt({ thingName: THING_A, kind: 'telemetry', data: reading });

    const error = await rejection(decryptor.decrypt(envelope, { thing: THING_A, kind: 'telemetry' }));

    expect((error as TelemetryDecryptError).reason).toBe('wrong-key');
  });

  it('rejects a body over the cap', async () => {
    const small = makeDecryptor(keyring, { maxBodyBytes: 1024 });
    const { envelope } = await encryptor.encrypt({
      thingName: THING_A,
      kind: 'telemetry',
      data: { blob: 'x'.repeat(4096) },
    });

    const error = await rejection(small.decrypt(envelope, { thing: THING_A, kind: 'telemetry' }));

    expect(error).toBeInstanceOf(TelemetryDecryptError);
    expect((error as TelemetryDecryptError).reason).toBe('oversize');
  });

  it('rejects a body that is not JSON without quoting it', async () => {
    const peer = buildClient(CommitmentPolicy.REQUIRE_ENCRYPT_REQUIRE_DECRYPT);
    const { result } = await peer.encrypt(keyring, 'SECRET-PLAINTEXT{', {
      encryptionContext: { thing: THING_A, kind: 'telemetry' },
      suiteId: TELEMETRY_SUITE,
    });
    const envelope = {
      v: 2 as const,
      messageId: randomUUID(),
      sentAt: new Date().toISOString(),
      esdk: result.toString('base64'),
    };

    const error = await rejection(decryptor.decrypt(envelope, { thing: THING_A, kind: 'telemetry' }));

    expect((error as TelemetryDecryptError).reason).toBe('malformed');
    expect(String((error as Error).message)).not.toContain('SECRET');
    expect((error as Error).cause).toBeUndefined();
  });

  it('serialises the envelope with exactly the four fields', async () => {
    const { envelope, payload } = await encryptor.encrypt({ thingName: THING_A, kind: 'telemetry', data: 1 });

    expect(Object.keys(JSON.parse(payload))).toEqual(['v', 'messageId', 'sentAt', 'esdk']);
    expect(serializeTelemetryEnvelope(envelope)).toBe(payload);
  });
});

describe.each(IMPLEMENTATIONS)(
  'telemetry with a KMS keyring over a mocked KMS: %s',
  (_impl, makeDecryptor) => {
    const kms = new KMS({
      region: 'eu-west-1',
      credentials: { accessKeyId: 'AKIDTEST', secretAccessKey: 'test' },
    });
    const kmsMock = mockClient(KMSClient);

    let fake: FakeKms;
    beforeEach(() => {
      kmsMock.reset();
      fake = installFakeKms(kmsMock, [KEY_ARN, OTHER_KEY_ARN]);
    });
    afterEach(() => {
      vi.useRealTimers();
    });

    const keyring = (keyId = KEY_ARN) => telemetryKmsKeyring({ keyId, client: kms });
    const vehicle = (keyId = KEY_ARN, limits = DEFAULT_ENCRYPT_CACHE_LIMITS) =>
      createTelemetryEncryptor({ materials: createTelemetryMaterialsManager(keyring(keyId), limits) });

    it('round-trips through KMS, binding the encryption context into the data key', async () => {
      const { envelope } = await vehicle().encrypt({ thingName: THING_A, kind: 'telemetry', data: reading });
      const decryptor = makeDecryptor(keyring());

      const out = await decryptor.decrypt(envelope, { thing: THING_A, kind: 'telemetry' });

      expect(out.data).toEqual(reading);
      const [generate] = kmsMock.commandCalls(GenerateDataKeyCommand);
      const [decrypt] = kmsMock.commandCalls(DecryptCommand);
      expect(generate?.args[0].input).toMatchObject({
        KeyId: KEY_ARN,
        EncryptionContext: { thing: THING_A, kind: 'telemetry' },
      });
      expect(decrypt?.args[0].input).toMatchObject({
        KeyId: KEY_ARN,
        EncryptionContext: { thing: THING_A, kind: 'telemetry' },
      });
    });

    it('calls KMS Decrypt exactly once per data key: 1,000 messages from 100 ECUs make 100 calls', async () => {
      const ecus = Array.from({ length: 100 }, (_, i) => `1HGCM82633A004352_ecu-${i}`);
      const messages: Array<{ thing: string; envelope: TelemetryEnvelope }> = [];
      for (const thing of ecus) {
        const ecu = vehicle();
        for (let m = 0; m < 10; m++) {
          const { envelope } = await ecu.encrypt({
            thingName: thing,
            kind: 'telemetry',
            data: { ...reading, m },
          });
          messages.push({ thing, envelope });
        }
      }
      const decryptor = makeDecryptor(keyring(), { cache: { capacity: 1000, maxAgeMs: 300_000 } });

      for (const { thing, envelope } of messages) {
        await decryptor.decrypt(envelope, { thing, kind: 'telemetry' });
      }

      expect(kmsMock.commandCalls(GenerateDataKeyCommand)).toHaveLength(100);
      expect(kmsMock.commandCalls(DecryptCommand)).toHaveLength(100);
    }, 120_000);

    it('never calls KMS for a message whose context names another thing', async () => {
      const { envelope } = await vehicle().encrypt({ thingName: THING_A, kind: 'telemetry', data: reading });
      const decryptor = makeDecryptor(keyring());

      const error = await rejection(decryptor.decrypt(envelope, { thing: THING_B, kind: 'telemetry' }));

      expect((error as TelemetryDecryptError).reason).toBe('context-mismatch');
      expect(kmsMock.commandCalls(DecryptCommand)).toHaveLength(0);
    });

    it('rejects a data key under another KMS key as wrong-key without asking KMS', async () => {
      const { envelope } = await vehicle(OTHER_KEY_ARN).encrypt({
        thingName: THING_A,
        kind: 'telemetry',
        data: reading,
      });
      const decryptor = makeDecryptor(keyring());

      const error = await rejection(decryptor.decrypt(envelope, { thing: THING_A, kind: 'telemetry' }));

      expect((error as TelemetryDecryptError).reason).toBe('wrong-key');
      expect(kmsMock.commandCalls(DecryptCommand)).toHaveLength(0);
    });

    it('rejects a tampered encrypted data key (KMS InvalidCiphertextException) as tampered', async () => {
      const { envelope } = await vehicle().encrypt({ thingName: THING_A, kind: 'telemetry', data: reading });
      const decryptor = makeDecryptor(keyring());
      // Flip the last byte of the EDK's blob (the GCM tag of the fake KMS). The header layout of a v2 message:
      // version, suite, message id(32), AAD length, AAD, EDK count, provider id, provider info, blob...
      const bytes = Buffer.from(envelope.esdk, 'base64');
      const blobEnd = bytes.indexOf(Buffer.from(KEY_ARN)) + KEY_ARN.length + 2 + 1 + 12 + 32 + 16; // len, idx, iv, key, tag
      const tampered = withEsdk(envelope, (b) => {
        const copy = Buffer.from(b);
        copy[blobEnd - 1] = (copy[blobEnd - 1] ?? 0) ^ 0xff;
        return copy;
      });

      const error = await rejection(decryptor.decrypt(tampered, { thing: THING_A, kind: 'telemetry' }));

      expect(error).toBeInstanceOf(TelemetryDecryptError);
      expect((error as TelemetryDecryptError).reason).toBe('tampered');
      expect(kmsMock.commandCalls(DecryptCommand)).toHaveLength(1);
    });

    it('reports KMS throttling as a transient failure and succeeds once KMS answers', async () => {
      const { envelope } = await vehicle().encrypt({ thingName: THING_A, kind: 'telemetry', data: reading });
      const decryptor = makeDecryptor(keyring());
      fake.failNextDecrypts(1, 'ThrottlingException');

      const error = await rejection(decryptor.decrypt(envelope, { thing: THING_A, kind: 'telemetry' }));
      expect(error).toBeInstanceOf(TelemetryKeyUnavailableError);
      expect(error).not.toBeInstanceOf(TelemetryDecryptError);

      const out = await decryptor.decrypt(envelope, { thing: THING_A, kind: 'telemetry' });
      expect(out.data).toEqual(reading);
      expect(kmsMock.commandCalls(DecryptCommand)).toHaveLength(2);
    });

    it('treats KMS AccessDeniedException as a permanent wrong-key rejection', async () => {
      const { envelope } = await vehicle().encrypt({ thingName: THING_A, kind: 'telemetry', data: reading });
      const decryptor = makeDecryptor(keyring());
      fake.failNextDecrypts(1, 'AccessDeniedException');

      const error = await rejection(decryptor.decrypt(envelope, { thing: THING_A, kind: 'telemetry' }));

      expect(error).toBeInstanceOf(TelemetryDecryptError);
      expect((error as TelemetryDecryptError).reason).toBe('wrong-key');
    });

    it('bounds the vehicle cache by messages per data key', async () => {
      const ecu = vehicle(KEY_ARN, { capacity: 4, maxAgeMs: 3_600_000, maxMessagesEncrypted: 3 });

      for (let m = 0; m < 10; m++) await ecu.encrypt({ thingName: THING_A, kind: 'telemetry', data: { m } });

      expect(kmsMock.commandCalls(GenerateDataKeyCommand)).toHaveLength(4);
    });

    it('bounds the cloud cache by entries: capacity 1 with two ECUs alternating calls KMS every time', async () => {
      const a = vehicle();
      const b = vehicle();
      const decryptor = makeDecryptor(keyring(), { cache: { capacity: 1, maxAgeMs: 300_000 } });
      const sent = [];
      for (let m = 0; m < 3; m++) {
        sent.push({
          thing: THING_A,
          envelope: (await a.encrypt({ thingName: THING_A, kind: 'telemetry', data: { m } })).envelope,
        });
        sent.push({
          thing: THING_B,
          envelope: (await b.encrypt({ thingName: THING_B, kind: 'telemetry', data: { m } })).envelope,
        });
      }

      for (const { thing, envelope } of sent) await decryptor.decrypt(envelope, { thing, kind: 'telemetry' });

      expect(kmsMock.commandCalls(DecryptCommand)).toHaveLength(6);
    });

    it('bounds the cloud cache by age', async () => {
      vi.useFakeTimers({ toFake: ['Date'] });
      vi.setSystemTime(new Date('2026-11-25T10:00:00Z'));
      const { envelope } = await vehicle().encrypt({ thingName: THING_A, kind: 'telemetry', data: reading });
      const decryptor = makeDecryptor(keyring(), { cache: { capacity: 10, maxAgeMs: 60_000 } });
      const expected = { thing: THING_A, kind: 'telemetry' as const };

      await decryptor.decrypt(envelope, expected);
      vi.setSystemTime(new Date('2026-11-25T10:00:30Z'));
      await decryptor.decrypt(envelope, expected);
      expect(kmsMock.commandCalls(DecryptCommand)).toHaveLength(1);
      vi.setSystemTime(new Date('2026-11-25T10:01:31Z'));
      await decryptor.decrypt(envelope, expected);

      expect(kmsMock.commandCalls(DecryptCommand)).toHaveLength(2);
    });
  },
);

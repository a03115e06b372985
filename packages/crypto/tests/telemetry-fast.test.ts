/**
 * The in-process decrypt path against the AWS Encryption SDK as the independent peer: messages the SDK encrypts
 * (various sizes, frame lengths and contexts) decrypt to the same data on both paths; every single-byte change,
 * truncation and append is rejected, with the same reason as the SDK's own decrypt (except appended bytes, which
 * the SDK accepts and we refuse).
 */
import { randomBytes, randomUUID } from 'node:crypto';
import {
  AlgorithmSuiteIdentifier,
  buildClient,
  CommitmentPolicy,
  type KeyringNode,
  MultiKeyringNode,
  RawAesKeyringNode,
  RawAesWrappingSuiteIdentifier,
} from '@aws-crypto/client-node';
import { DecryptCommand, KMS, KMSClient } from '@aws-sdk/client-kms';
import { installFakeKms } from '@cv/test-support';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import {
  createEsdkTelemetryDecryptor,
  createTelemetryDecryptor,
  createTelemetryEncryptor,
  createTelemetryMaterialsManager,
  DEFAULT_ENCRYPT_CACHE_LIMITS,
  readEsdkHeaderV2,
  sealTelemetryPlaintext,
  TELEMETRY_SUITE,
  type TelemetryContext,
  TelemetryDecryptError,
  type TelemetryDecryptor,
  type TelemetryEnvelope,
  telemetryKmsKeyring,
} from '../src/telemetry/index.js';

const THING = '1HGCM82633A004352_gw-01';
const KEY_ARN = 'arn:aws:kms:eu-west-1:111122223333:key/11111111-2222-4333-8444-555555555555';
const peer = buildClient({
  commitmentPolicy: CommitmentPolicy.REQUIRE_ENCRYPT_REQUIRE_DECRYPT,
  maxEncryptedDataKeys: 1,
});

function aesKeyring(key: Uint8Array, name = 'telemetry'): RawAesKeyringNode {
  return new RawAesKeyringNode({
    keyNamespace: 'cv-test',
    keyName: name,
    unencryptedMasterKey: new Uint8Array(key),
    wrappingSuite: RawAesWrappingSuiteIdentifier.AES256_GCM_IV12_TAG16_NO_PADDING,
  });
}

/** The envelope claims every message of this file is sealed with (the plaintext repeats them). */
const META = { messageId: randomUUID(), sentAt: new Date().toISOString() };

function envelopeOf(bytes: Buffer, meta: { messageId: string; sentAt: string } = META): TelemetryEnvelope {
  return { v: 2, ...meta, esdk: bytes.toString('base64') };
}

/** The v2 plaintext of a body: `{ messageId, sentAt, body }` with {@link META}. */
function sealed(body: unknown): string {
  return sealTelemetryPlaintext({ ...META, body }).toString('utf8');
}

/** A body whose sealed plaintext is exactly `bytes` long. */
function sealedOfLength(bytes: number): { p: string } {
  return { p: 'x'.repeat(bytes - Buffer.byteLength(sealed({ p: '' }))) };
}

/** Encrypts with the plain Encryption SDK (the peer), not with our encryptor. */
async function sdkEncrypt(
  keyring: KeyringNode,
  plaintext: string | Buffer,
  context: Record<string, string>,
  frameLength?: number,
): Promise<Buffer> {
  const { result } = await peer.encrypt(keyring, plaintext, {
    encryptionContext: context,
    suiteId: TELEMETRY_SUITE,
    ...(frameLength === undefined ? {} : { frameLength }),
  });
  return result;
}

/** The outcome of one decrypt: `ok` with the data, or the rejection reason ('transient:<name>' for other errors). */
async function outcome(decryptor: TelemetryDecryptor, bytes: Buffer, expected: TelemetryContext) {
  try {
    const { data } = await decryptor.decrypt(envelopeOf(bytes), expected);
    return { ok: true as const, data };
  } catch (error) {
    if (error instanceof TelemetryDecryptError) return { ok: false as const, reason: error.reason };
    return { ok: false as const, reason: `transient:${(error as Error).name}` };
  }
}

describe('in-process decrypt agrees with the Encryption SDK', () => {
  const keyring = aesKeyring(randomBytes(32));
  const fast = createTelemetryDecryptor({ keyring });
  const sdk = createEsdkTelemetryDecryptor({ materials: createTelemetryMaterialsManager(keyring) });

  const bodies: Array<[string, unknown, number | undefined]> = [
    [
      'a reading under the default frame length (one final frame)',
      { speedKmh: 1.5, doorsLocked: true },
      undefined,
    ],
    ['a body of exactly one frame', sealedOfLength(256), 256],
    ['a body of exactly two frames', sealedOfLength(512), 256],
    ['a body one byte over a frame', sealedOfLength(257), 256],
    ['many frames of 16 bytes', { p: 'y'.repeat(1000), n: [1, 2, 3] }, 16],
    ['frames of 1 byte', { a: 1 }, 1],
    ['a 20 KiB body under the default frame length', { p: 'z'.repeat(20_000) }, undefined],
    ['unicode text', { note: 'Grüße, 東京, ✓ 🚗' }, 32],
  ];

  it.each(bodies)('%s decrypts to the same data on both paths', async (_label, data, frameLength) => {
    const text = sealed(data);
    if (frameLength === 256 && _label.includes('exactly one')) expect(Buffer.byteLength(text)).toBe(256);
    const bytes = await sdkEncrypt(keyring, text, { thing: THING, kind: 'telemetry' }, frameLength);
    const expected = { thing: THING, kind: 'telemetry' as const };

    const [a, b] = [await outcome(fast, bytes, expected), await outcome(sdk, bytes, expected)];

    expect(a).toEqual({ ok: true, data });
    expect(b).toEqual(a);
  });

  it.each([
    ['an empty plaintext', ''],
    ['a plaintext that is not JSON', 'not json {'],
  ])('rejects %s as malformed on both paths', async (_label, plaintext) => {
    const bytes = await sdkEncrypt(keyring, plaintext, { thing: THING, kind: 'telemetry' });
    const expected = { thing: THING, kind: 'telemetry' as const };

    const [a, b] = [await outcome(fast, bytes, expected), await outcome(sdk, bytes, expected)];

    expect(a).toEqual({ ok: false, reason: 'malformed' });
    expect(b).toEqual(a);
  });

  const shifted = new Date(Date.parse(META.sentAt) + 1000).toISOString();
  it.each([
    ['another messageId', { messageId: randomUUID(), sentAt: META.sentAt }],
    ['sentAt one second later', { messageId: META.messageId, sentAt: shifted }],
    [
      'sentAt the same instant written with an offset',
      { messageId: META.messageId, sentAt: META.sentAt.replace('Z', '+00:00') },
    ],
    ['both changed', { messageId: randomUUID(), sentAt: shifted }],
  ])(
    'rejects an envelope whose claims differ from the sealed ones (%s) as envelope-mismatch on both paths',
    async (_label, meta) => {
      const bytes = await sdkEncrypt(keyring, sealed({ speedKmh: 3 }), { thing: THING, kind: 'telemetry' });
      const expected = { thing: THING, kind: 'telemetry' as const };

      const reasons = [];
      for (const decryptor of [fast, sdk]) {
        reasons.push(await decryptor.decrypt(envelopeOf(bytes, meta), expected).catch((e: unknown) => e));
      }

      for (const error of reasons) {
        expect(error).toBeInstanceOf(TelemetryDecryptError);
        expect((error as TelemetryDecryptError).reason).toBe('envelope-mismatch');
        expect((error as TelemetryDecryptError).messageId).toBe(meta.messageId);
      }
    },
  );

  it.each([
    ['a bare body (the version 1 plaintext)', JSON.stringify({ speedKmh: 3 })],
    ['an extra member', JSON.stringify({ ...META, body: {}, thing: THING })],
    ['no body', JSON.stringify({ ...META })],
    ['an array', JSON.stringify([META.messageId, META.sentAt, {}])],
    ['a messageId that is not a string', JSON.stringify({ ...META, messageId: 7, body: {} })],
  ])('rejects a sealed plaintext with %s as malformed on both paths', async (_label, plaintext) => {
    const bytes = await sdkEncrypt(keyring, plaintext, { thing: THING, kind: 'telemetry' });
    const expected = { thing: THING, kind: 'telemetry' as const };

    const [a, b] = [await outcome(fast, bytes, expected), await outcome(sdk, bytes, expected)];

    expect(a).toEqual({
      ok: false,
      reason: _label.startsWith('a messageId') ? 'envelope-mismatch' : 'malformed',
    });
    expect(b).toEqual(a);
  });

  it('reports the authenticated Encryption SDK message id, the same on both paths and as the SDK reads it', async () => {
    const bytes = await sdkEncrypt(keyring, sealed({ a: 1 }), { thing: THING, kind: 'telemetry' });
    const expected = { thing: THING, kind: 'telemetry' as const };
    const { messageHeader } = await peer.decrypt(keyring, bytes);

    const a = await fast.decrypt(envelopeOf(bytes), expected);
    const b = await sdk.decrypt(envelopeOf(bytes), expected);

    expect(a.esdkMessageId).toBe(Buffer.from(messageHeader.messageId).toString('hex'));
    expect(a.esdkMessageId).toMatch(/^[0-9a-f]{64}$/);
    expect(b.esdkMessageId).toBe(a.esdkMessageId);
  });

  it.each([
    ['a command result', { thing: THING, kind: 'command-result' as const }],
    ['a long thing name', { thing: `${'V'.repeat(17)}_${'e'.repeat(100)}`, kind: 'telemetry' as const }],
    ['a non-ASCII thing name', { thing: 'ÄÖÜ_ecu-😀', kind: 'telemetry' as const }],
  ])('decrypts %s on both paths', async (_label, expected) => {
    const bytes = await sdkEncrypt(keyring, sealed({ ok: true }), {
      thing: expected.thing,
      kind: expected.kind,
    });

    const [a, b] = [await outcome(fast, bytes, expected), await outcome(sdk, bytes, expected)];

    expect(a).toEqual({ ok: true, data: { ok: true } });
    expect(b).toEqual(a);
  });

  it('reads the header fields the SDK reports for the same message', async () => {
    const bytes = await sdkEncrypt(keyring, '{"a":1}', { thing: THING, kind: 'telemetry' }, 100);
    const { messageHeader } = await peer.decrypt(keyring, bytes);

    const header = readEsdkHeaderV2(bytes);

    expect(header.messageId.equals(Buffer.from(messageHeader.messageId))).toBe(true);
    expect(header.frameLength).toBe(100);
    expect(header.contentType).toBe(messageHeader.contentType);
    expect(header.suiteId).toBe(messageHeader.suiteId);
    expect(Object.fromEntries(header.context.map(([k, v]) => [k.toString(), v.toString()]))).toEqual(
      messageHeader.encryptionContext,
    );
    const [edk] = messageHeader.encryptedDataKeys;
    expect(header.encryptedDataKey.providerId.toString()).toBe(edk?.providerId);
    expect(header.encryptedDataKey.ciphertext.equals(Buffer.from(edk?.encryptedDataKey ?? []))).toBe(true);
    if (messageHeader.version !== 2) throw new Error('expected a v2 header');
    expect(header.commitment.equals(Buffer.from(messageHeader.suiteData))).toBe(true);
  });
});

describe('in-process decrypt rejects every alteration', () => {
  const keyring = aesKeyring(randomBytes(32));
  const fast = createTelemetryDecryptor({ keyring });
  const sdk = createEsdkTelemetryDecryptor({ materials: createTelemetryMaterialsManager(keyring) });
  const expected = { thing: THING, kind: 'telemetry' as const };
  const data = { location: { lat: 48.1, lon: 11.5 } };

  it('rejects every single-byte change (two masks per byte) with the reason the SDK gives', async () => {
    // Regular frames and a final frame, so every header and frame field is covered.
    const bytes = await sdkEncrypt(keyring, sealed(data), expected, 24);
    const disagreements: string[] = [];
    let rejected = 0;

    for (let at = 0; at < bytes.length; at++) {
      for (const mask of [0x01, 0x80]) {
        const altered = Buffer.from(bytes);
        altered[at] = (altered[at] ?? 0) ^ mask;
        const a = await outcome(fast, altered, expected);
        const b = await outcome(sdk, altered, expected);
        if (!a.ok && !a.reason.startsWith('transient')) rejected++;
        if (a.ok || JSON.stringify(a) !== JSON.stringify(b)) {
          disagreements.push(`byte ${at} ^ ${mask}: fast ${JSON.stringify(a)} sdk ${JSON.stringify(b)}`);
        }
      }
    }

    expect(disagreements).toEqual([]);
    expect(rejected).toBe(bytes.length * 2);
  }, 120_000);

  it('rejects every truncation with the reason the SDK gives', async () => {
    const bytes = await sdkEncrypt(keyring, sealed(data), expected, 24);
    const disagreements: string[] = [];

    for (let cut = 0; cut < bytes.length; cut++) {
      const a = await outcome(fast, bytes.subarray(0, cut), expected);
      const b = await outcome(sdk, bytes.subarray(0, cut), expected);
      if (a.ok || a.reason.startsWith('transient') || JSON.stringify(a) !== JSON.stringify(b)) {
        disagreements.push(`cut ${cut}: fast ${JSON.stringify(a)} sdk ${JSON.stringify(b)}`);
      }
    }

    expect(disagreements).toEqual([]);
  }, 120_000);

  it.each([
    ['one zero byte', Buffer.alloc(1)],
    ['16 random bytes', randomBytes(16)],
  ])(
    'rejects %s appended after the final frame as tampered (the SDK accepts them)',
    async (_label, extra) => {
      const bytes = await sdkEncrypt(keyring, sealed(data), expected);
      const appended = Buffer.concat([bytes, extra]);

      const a = await outcome(fast, appended, expected);
      const b = await outcome(sdk, appended, expected);

      expect(a).toEqual({ ok: false, reason: 'tampered' });
      expect(b).toEqual({ ok: true, data });
    },
  );

  it('rejects a copy of the final frame appended after it', async () => {
    const bytes = await sdkEncrypt(keyring, sealed(data), expected, 24);
    const header = readEsdkHeaderV2(bytes);
    const frameSize = 4 + 12 + 24 + 16;
    let finalStart = header.bodyOffset;
    while (bytes.readUInt32BE(finalStart) !== 0xffffffff) finalStart += frameSize;
    expect(finalStart).toBeGreaterThan(header.bodyOffset + 2 * frameSize);

    const a = await outcome(fast, Buffer.concat([bytes, bytes.subarray(finalStart)]), expected);

    expect(a).toEqual({ ok: false, reason: 'tampered' });
  });

  it('rejects a wrong key commitment and a wrong header tag as tampered, before any frame', async () => {
    const bytes = await sdkEncrypt(keyring, sealed(data), expected);
    const header = readEsdkHeaderV2(bytes);
    const commitmentAt = header.headerBody.length - 32;
    const tagAt = header.headerBody.length;

    for (const at of [commitmentAt, commitmentAt + 31, tagAt, tagAt + 15]) {
      const altered = Buffer.from(bytes);
      altered[at] = (altered[at] ?? 0) ^ 0x55;
      const error = await fast.decrypt(envelopeOf(altered), expected).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(TelemetryDecryptError);
      expect((error as TelemetryDecryptError).reason).toBe('tampered');
      expect((error as Error).message).toMatch(at < tagAt ? /commitment/ : /header authentication/);
    }
  });

  it('rejects reordered frames, with or without renumbering, as tampered', async () => {
    const bytes = await sdkEncrypt(keyring, sealed(data), expected, 24);
    const { bodyOffset } = readEsdkHeaderV2(bytes);
    const frameSize = 4 + 12 + 24 + 16;
    const first = bytes.subarray(bodyOffset, bodyOffset + frameSize);
    const second = bytes.subarray(bodyOffset + frameSize, bodyOffset + 2 * frameSize);
    const swapped = Buffer.concat([
      bytes.subarray(0, bodyOffset),
      second,
      first,
      bytes.subarray(bodyOffset + 2 * frameSize),
    ]);
    const renumbered = Buffer.from(swapped);
    renumbered.writeUInt32BE(1, bodyOffset);
    renumbered.writeUInt32BE(2, bodyOffset + frameSize);

    for (const altered of [swapped, renumbered]) {
      const a = await outcome(fast, altered, expected);
      const b = await outcome(sdk, altered, expected);
      expect(a).toEqual({ ok: false, reason: 'tampered' });
      expect(b).toEqual(a);
    }
  });

  it('rejects a dropped regular frame as tampered', async () => {
    const bytes = await sdkEncrypt(keyring, sealed(data), expected, 24);
    const { bodyOffset } = readEsdkHeaderV2(bytes);
    const frameSize = 4 + 12 + 24 + 16;
    const dropped = Buffer.concat([bytes.subarray(0, bodyOffset), bytes.subarray(bodyOffset + frameSize)]);

    expect(await outcome(fast, dropped, expected)).toEqual({ ok: false, reason: 'tampered' });
  });

  it.each([
    [
      'the signing committing suite 0x0578',
      AlgorithmSuiteIdentifier.ALG_AES256_GCM_IV12_TAG16_HKDF_SHA512_COMMIT_KEY_ECDSA_P384,
      CommitmentPolicy.REQUIRE_ENCRYPT_REQUIRE_DECRYPT,
    ],
    [
      'the non-committing suite 0x0178',
      AlgorithmSuiteIdentifier.ALG_AES256_GCM_IV12_TAG16_HKDF_SHA256,
      CommitmentPolicy.FORBID_ENCRYPT_ALLOW_DECRYPT,
    ],
  ])('rejects %s as malformed without asking the keyring', async (_label, suiteId, commitmentPolicy) => {
    const other = buildClient(commitmentPolicy);
    const { result } = await other.encrypt(keyring, sealed(data), {
      encryptionContext: expected,
      suiteId,
    });
    let keyringCalls = 0;
    const counting = new (class extends RawAesKeyringNode {
      override async onDecrypt(...args: Parameters<RawAesKeyringNode['onDecrypt']>) {
        keyringCalls++;
        return super.onDecrypt(...args);
      }
    })({
      keyNamespace: 'cv-test',
      keyName: 'unused',
      unencryptedMasterKey: new Uint8Array(randomBytes(32)),
      wrappingSuite: RawAesWrappingSuiteIdentifier.AES256_GCM_IV12_TAG16_NO_PADDING,
    });

    const a = await outcome(createTelemetryDecryptor({ keyring: counting }), result, expected);

    expect(a).toEqual({ ok: false, reason: 'malformed' });
    expect(keyringCalls).toBe(0);
  });

  it('rejects a message with two encrypted data keys as malformed on both paths', async () => {
    const second = aesKeyring(randomBytes(32), 'second');
    const multi = new MultiKeyringNode({ generator: keyring, children: [second] });
    const unrestricted = buildClient(CommitmentPolicy.REQUIRE_ENCRYPT_REQUIRE_DECRYPT);
    const bytes = await unrestricted.encrypt(multi, sealed(data), {
      encryptionContext: expected,
      suiteId: TELEMETRY_SUITE,
    });

    const a = await outcome(fast, bytes.result, expected);
    const b = await outcome(sdk, bytes.result, expected);

    expect(a).toEqual({ ok: false, reason: 'malformed' });
    expect(b).toEqual(a);
  });

  it('rejects a context mismatch before asking the keyring', async () => {
    const bytes = await sdkEncrypt(keyring, sealed(data), { thing: THING, kind: 'command-result' });

    const a = await outcome(fast, bytes, expected);

    expect(a).toEqual({ ok: false, reason: 'context-mismatch' });
  });
});

describe('in-process decrypt data-key cache over a mocked KMS', () => {
  const kms = new KMS({
    region: 'eu-west-1',
    credentials: { accessKeyId: 'AKIDTEST', secretAccessKey: 'test' },
  });
  const kmsMock = mockClient(KMSClient);
  beforeEach(() => {
    kmsMock.reset();
    installFakeKms(kmsMock, [KEY_ARN]);
  });
  const keyring = () => telemetryKmsKeyring({ keyId: KEY_ARN, client: kms });
  const expected = { thing: THING, kind: 'telemetry' as const };

  async function messagesUnderOneDataKey(count: number): Promise<TelemetryEnvelope[]> {
    const ecu = createTelemetryEncryptor({
      materials: createTelemetryMaterialsManager(keyring(), DEFAULT_ENCRYPT_CACHE_LIMITS),
    });
    const out: TelemetryEnvelope[] = [];
    for (let m = 0; m < count; m++)
      out.push((await ecu.encrypt({ thingName: THING, kind: 'telemetry', data: { m } })).envelope);
    return out;
  }

  it('asks KMS once for concurrent messages under the same data key', async () => {
    const envelopes = await messagesUnderOneDataKey(20);
    const decryptor = createTelemetryDecryptor({ keyring: keyring() });

    const results = await Promise.all(envelopes.map((e) => decryptor.decrypt(e, expected)));

    expect(results.map((r) => r.data)).toEqual(envelopes.map((_, m) => ({ m })));
    expect(kmsMock.commandCalls(DecryptCommand)).toHaveLength(1);
  });

  it('bounds messages per cached data key when asked to', async () => {
    const envelopes = await messagesUnderOneDataKey(5);
    const decryptor = createTelemetryDecryptor({
      keyring: keyring(),
      cache: { capacity: 10, maxAgeMs: 300_000, maxMessagesDecrypted: 2 },
    });

    for (const envelope of envelopes) await decryptor.decrypt(envelope, expected);

    expect(kmsMock.commandCalls(DecryptCommand)).toHaveLength(3);
  });

  it('never caches a data key under another context: the same encrypted data key with another context asks KMS', async () => {
    const [envelope] = await messagesUnderOneDataKey(1);
    if (!envelope) throw new Error('no message');
    const decryptor = createTelemetryDecryptor({ keyring: keyring() });
    await decryptor.decrypt(envelope, expected);
    // Rewrite the context value in place ('telemetry' -> 'telemetrx'): same EDK, another serialized context.
    const bytes = Buffer.from(envelope.esdk, 'base64');
    const at = bytes.indexOf(Buffer.from('telemetry')) + 8;
    bytes[at] = 'x'.charCodeAt(0);

    const error = await decryptor
      .decrypt({ ...envelope, esdk: bytes.toString('base64') }, { thing: THING, kind: 'telemetrx' as never })
      .catch((e: unknown) => e);

    expect((error as TelemetryDecryptError).reason).toBe('tampered');
    expect(kmsMock.commandCalls(DecryptCommand)).toHaveLength(2);
  });
});

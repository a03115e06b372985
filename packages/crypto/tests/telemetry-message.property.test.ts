import { randomBytes, randomUUID } from 'node:crypto';
import {
  buildClient,
  CommitmentPolicy,
  RawAesKeyringNode,
  RawAesWrappingSuiteIdentifier,
} from '@aws-crypto/client-node';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CryptoError } from '../src/errors.js';
import {
  createEsdkTelemetryDecryptor,
  createTelemetryDecryptor,
  createTelemetryMaterialsManager,
  readEsdkHeaderV2,
  TELEMETRY_SUITE,
  TelemetryDecryptError,
  type TelemetryDecryptor,
  walkEsdkFrames,
} from '../src/telemetry/index.js';

const expected = { thing: '1HGCM82633A004352_gw-01', kind: 'telemetry' as const };
const keyring = new RawAesKeyringNode({
  keyNamespace: 'cv-test',
  keyName: 'telemetry',
  unencryptedMasterKey: new Uint8Array(randomBytes(32)),
  wrappingSuite: RawAesWrappingSuiteIdentifier.AES256_GCM_IV12_TAG16_NO_PADDING,
});
const peer = buildClient(CommitmentPolicy.REQUIRE_ENCRYPT_REQUIRE_DECRYPT);
const { result: valid } = await peer.encrypt(keyring, JSON.stringify({ pad: 'q'.repeat(70) }), {
  encryptionContext: expected,
  suiteId: TELEMETRY_SUITE,
  frameLength: 32,
});

/** What the reader threw, or undefined. */
function thrown(f: () => unknown): unknown {
  try {
    f();
    return undefined;
  } catch (error) {
    return error;
  }
}

/** A valid message with some bytes replaced, inserted or removed (a structured mutation). */
const mutated = fc
  .array(
    fc.oneof(
      fc.record({ op: fc.constant('set' as const), at: fc.nat(), byte: fc.nat({ max: 255 }) }),
      fc.record({
        op: fc.constant('insert' as const),
        at: fc.nat(),
        bytes: fc.uint8Array({ maxLength: 300 }),
      }),
      fc.record({ op: fc.constant('delete' as const), at: fc.nat(), count: fc.integer({ min: 1, max: 40 }) }),
    ),
    { minLength: 1, maxLength: 4 },
  )
  .map((ops) => {
    let bytes = Buffer.from(valid);
    for (const op of ops) {
      const at = op.at % (bytes.length + 1);
      if (op.op === 'set' && at < bytes.length) {
        bytes = Buffer.from(bytes);
        bytes[at] = op.byte;
      } else if (op.op === 'insert') {
        bytes = Buffer.concat([bytes.subarray(0, at), op.bytes, bytes.subarray(at)]);
      } else if (op.op === 'delete') {
        bytes = Buffer.concat([bytes.subarray(0, at), bytes.subarray(at + op.count)]);
      }
    }
    return bytes;
  });

const anyBytes = fc.oneof(
  fc.uint8Array({ maxLength: 600 }).map((b) => Buffer.from(b)),
  // A v2 / 0x0478 prefix, so the reader gets past the first checks.
  fc.uint8Array({ maxLength: 600 }).map((b) => Buffer.concat([Buffer.from([0x02, 0x04, 0x78]), b])),
  mutated,
);

describe('ESDK v2 message reader (properties)', () => {
  it('on any bytes returns a header or throws a typed CryptoError (malformed), never anything else', () => {
    fc.assert(
      fc.property(anyBytes, (bytes) => {
        const error = thrown(() => readEsdkHeaderV2(bytes));
        if (error === undefined) return;
        expect(error).toBeInstanceOf(CryptoError);
        expect(error).toBeInstanceOf(TelemetryDecryptError);
        expect((error as TelemetryDecryptError).reason).toBe('malformed');
      }),
      { numRuns: 2000 },
    );
  });

  it('keeps every field of a header it returns inside the input', () => {
    fc.assert(
      fc.property(anyBytes, (bytes) => {
        let header: ReturnType<typeof readEsdkHeaderV2>;
        try {
          header = readEsdkHeaderV2(bytes);
        } catch {
          return;
        }
        expect(header.messageId.length).toBe(32);
        expect(header.commitment.length).toBe(32);
        expect(header.headerAuthTag.length).toBe(16);
        expect(header.bodyOffset).toBeLessThanOrEqual(bytes.length);
        expect(header.headerBody.equals(bytes.subarray(0, header.headerBody.length))).toBe(true);
      }),
      { numRuns: 1000 },
    );
  });

  it('walks any body to an end: each frame inside the input, in order, a bounded number of them', () => {
    fc.assert(
      fc.property(anyBytes, fc.integer({ min: 0, max: 100 }), (bytes, frameLength) => {
        const bodyOffset = Math.min(bytes.length, 80);
        let frames = 0;
        let last = 0;
        const problem = walkEsdkFrames(bytes, { bodyOffset, frameLength }, 64 * 1024, (frame) => {
          frames++;
          expect(frame.sequenceNumber).toBe(last + 1);
          last = frame.sequenceNumber;
          expect(frame.iv.length).toBe(12);
          expect(frame.tag.length).toBe(16);
        });
        expect(frames).toBeLessThanOrEqual(Math.ceil((bytes.length - bodyOffset) / 32) + 1);
        expect(
          problem === undefined ||
            [
              'truncated body',
              'frame sequence number out of order',
              'final frame longer than the frame length',
              'bytes after the final frame',
              'body exceeds the cap',
            ].includes(problem),
        ).toBe(true);
      }),
      { numRuns: 2000 },
    );
  });
});

describe('in-process decrypt on altered messages (properties)', () => {
  const fast: TelemetryDecryptor = createTelemetryDecryptor({ keyring });
  const sdk: TelemetryDecryptor = createEsdkTelemetryDecryptor({
    materials: createTelemetryMaterialsManager(keyring),
  });
  const envelope = (bytes: Buffer) => ({
    v: 2 as const,
    messageId: randomUUID(),
    sentAt: new Date().toISOString(),
    esdk: bytes.toString('base64'),
  });
  const reasonOf = (p: Promise<unknown>) =>
    p.then(
      () => 'ok',
      (e: unknown) => (e instanceof TelemetryDecryptError ? e.reason : `transient:${String(e)}`),
    );

  it('rejects any bytes other than the valid message with a permanent TelemetryDecryptError', async () => {
    await fc.assert(
      fc.asyncProperty(anyBytes, async (bytes) => {
        fc.pre(!bytes.equals(valid));
        const error = await fast.decrypt(envelope(bytes), expected).then(
          () => undefined,
          (e: unknown) => e,
        );
        expect(error).toBeInstanceOf(TelemetryDecryptError);
      }),
      { numRuns: 500 },
    );
  }, 120_000);

  it('gives the reason the SDK gives for any change that keeps the message length', async () => {
    const change = fc.array(
      fc.record({ at: fc.nat({ max: valid.length - 1 }), mask: fc.integer({ min: 1, max: 255 }) }),
      { minLength: 1, maxLength: 3 },
    );
    await fc.assert(
      fc.asyncProperty(change, async (changes) => {
        const bytes = Buffer.from(valid);
        for (const { at, mask } of changes) bytes[at] = (bytes[at] ?? 0) ^ mask;
        fc.pre(!bytes.equals(valid));
        const a = await reasonOf(fast.decrypt(envelope(bytes), expected));
        const b = await reasonOf(sdk.decrypt(envelope(bytes), expected));
        expect(a).not.toBe('ok');
        expect(a).toBe(b);
      }),
      { numRuns: 500 },
    );
  }, 120_000);
});

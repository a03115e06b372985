import { randomBytes } from 'node:crypto';
import { RawAesKeyringNode, RawAesWrappingSuiteIdentifier } from '@aws-crypto/client-node';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  createTelemetryDecryptor,
  createTelemetryEncryptor,
  parseTelemetryEnvelope,
  parseTelemetryEnvelopeObject,
  serializeTelemetryEnvelope,
  TelemetryDecryptError,
  type TelemetryEnvelope,
} from '../src/telemetry/index.js';

const envelopeArb: fc.Arbitrary<TelemetryEnvelope> = fc.record({
  v: fc.constant(2 as const),
  messageId: fc.uuid({ version: 4 }),
  sentAt: fc
    .date({
      min: new Date('2000-01-01T00:00:00Z'),
      max: new Date('2099-12-31T23:59:59Z'),
      noInvalidDate: true,
    })
    .map((d) => d.toISOString()),
  esdk: fc.uint8Array({ minLength: 3, maxLength: 512 }).map((b) => Buffer.from(b).toString('base64')),
});

/** Runs the parser and returns what it threw, or undefined on success. */
function thrown(f: () => unknown): unknown {
  try {
    f();
    return undefined;
  } catch (error) {
    return error;
  }
}

describe('telemetry envelope parser (properties)', () => {
  it('round-trips every valid envelope', () => {
    fc.assert(
      fc.property(envelopeArb, (envelope) => {
        expect(parseTelemetryEnvelope(serializeTelemetryEnvelope(envelope))).toEqual(envelope);
        expect(parseTelemetryEnvelope(Buffer.from(serializeTelemetryEnvelope(envelope)))).toEqual(envelope);
      }),
    );
  });

  it('on any string either parses or throws TelemetryDecryptError, never another error', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string(), fc.json(), fc.string({ unit: 'binary' })), (text) => {
        const error = thrown(() => parseTelemetryEnvelope(text));
        expect(error === undefined || error instanceof TelemetryDecryptError).toBe(true);
      }),
    );
  }, 60_000); // about 1 s alone; several times that on a loaded shared machine

  it('on any JSON value that is not exactly an envelope throws, and never quotes the input', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        const error = thrown(() => parseTelemetryEnvelopeObject(value));
        expect(error).toBeInstanceOf(TelemetryDecryptError);
        const text = JSON.stringify(value);
        if (text.length > 12) expect((error as Error).message).not.toContain(text);
      }),
    );
  });

  it('rejects an envelope with any extra key', () => {
    fc.assert(
      fc.property(
        envelopeArb,
        fc
          .string({ minLength: 1 })
          .filter((k) => !['v', 'messageId', 'sentAt', 'esdk', '__proto__'].includes(k)),
        fc.jsonValue(),
        (envelope, key, value) => {
          const error = thrown(() => parseTelemetryEnvelopeObject({ ...envelope, [key]: value }));
          expect((error as TelemetryDecryptError).reason).toBe('malformed');
        },
      ),
    );
  });

  it('rejects any envelope with one field replaced by another value, without echoing it', () => {
    fc.assert(
      fc.property(
        envelopeArb,
        fc.constantFrom('v', 'messageId', 'sentAt', 'esdk'),
        fc.oneof(fc.string(), fc.integer(), fc.constant(null), fc.boolean()),
        (envelope, field, value) => {
          fc.pre(value !== envelope[field as keyof TelemetryEnvelope]);
          fc.pre(!(field === 'esdk' && typeof value === 'string' && /^[A-Za-z0-9+/]{4,}={0,2}$/.test(value)));
          fc.pre(!(field === 'sentAt' && typeof value === 'string' && !Number.isNaN(Date.parse(value))));
          const error = thrown(() => parseTelemetryEnvelopeObject({ ...envelope, [field]: value }));
          expect(error).toBeInstanceOf(TelemetryDecryptError);
          expect(['malformed', 'unsupported-version']).toContain((error as TelemetryDecryptError).reason);
          if (typeof value === 'string' && value.length > 8)
            expect((error as Error).message).not.toContain(value);
        },
      ),
    );
  });

  it('rejects a messageId that is a UUID of another version', () => {
    fc.assert(
      fc.property(envelopeArb, fc.uuid({ version: [1, 3, 5, 7] }), (envelope, messageId) => {
        const error = thrown(() => parseTelemetryEnvelopeObject({ ...envelope, messageId }));
        expect((error as TelemetryDecryptError).reason).toBe('malformed');
      }),
    );
  });

  it('rejects any payload over the size cap before parsing it', () => {
    fc.assert(
      fc.property(envelopeArb, fc.integer({ min: 1, max: 200 }), (envelope, cap) => {
        const payload = serializeTelemetryEnvelope(envelope);
        fc.pre(Buffer.byteLength(payload) > cap);
        const error = thrown(() => parseTelemetryEnvelope(payload, { maxBytes: cap }));
        expect((error as TelemetryDecryptError).reason).toBe('oversize');
      }),
    );
  });
});

describe('telemetry decrypt on altered messages (properties)', () => {
  const keyring = new RawAesKeyringNode({
    keyNamespace: 'cv-test',
    keyName: 'telemetry',
    unencryptedMasterKey: new Uint8Array(randomBytes(32)),
    wrappingSuite: RawAesWrappingSuiteIdentifier.AES256_GCM_IV12_TAG16_NO_PADDING,
  });
  const encryptor = createTelemetryEncryptor({ materials: keyring, frameLength: 128 });
  const decryptor = createTelemetryDecryptor({ keyring });
  const expected = { thing: '1HGCM82633A004352_gw-01', kind: 'telemetry' as const };

  it('rejects every single-byte alteration or truncation with a permanent TelemetryDecryptError', async () => {
    const { envelope } = await encryptor.encrypt({
      thingName: expected.thing,
      kind: expected.kind,
      data: { location: { lat: 1, lon: 2 }, pad: 'p'.repeat(300) },
    });
    const bytes = Buffer.from(envelope.esdk, 'base64');
    const alteration = fc.oneof(
      fc.record({ at: fc.nat({ max: bytes.length - 1 }), mask: fc.integer({ min: 1, max: 255 }) }),
      fc.record({ cut: fc.integer({ min: 0, max: bytes.length - 1 }) }),
    );
    await fc.assert(
      fc.asyncProperty(alteration, async (change) => {
        const altered = Buffer.from(bytes);
        let esdk: Buffer;
        if ('cut' in change) esdk = altered.subarray(0, change.cut);
        else {
          altered[change.at] = (altered[change.at] ?? 0) ^ change.mask;
          esdk = altered;
        }
        const error = await decryptor
          .decrypt({ ...envelope, esdk: esdk.toString('base64') || 'AAAA' }, expected)
          .then(
            () => undefined,
            (e: unknown) => e,
          );
        expect(error).toBeInstanceOf(TelemetryDecryptError);
      }),
      { numRuns: 300 },
    );
  }, 120_000);
});

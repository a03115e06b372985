import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  CryptoError,
  createCommandDecoder,
  DerSignatureError,
  derToJose,
  InMemoryReplayCache,
  JwsFormatError,
  joseToDer,
  parseCommandEnvelope,
  parseJws,
} from '../src/command/index.js';
import { derSignature, localKey, localKms, SIGNING_KEY_ARN, THING } from './command-helpers.js';

const b64u = (s: string) => Buffer.from(s).toString('base64url');
const jsonText = fc.json({ maxDepth: 3 });
const N256 = 0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551n;

/** Runs `fn` and returns its value, or rethrows anything that is not of `type`. */
function valueOrTyped<T>(fn: () => T, type: new (...a: never[]) => Error): T | Error {
  try {
    return fn();
  } catch (e) {
    if (e instanceof type) return e;
    throw e;
  }
}

describe('parsers of untrusted input (property)', () => {
  it('parseCommandEnvelope: any string or bytes yields an envelope or a CommandEnvelopeError-typed CryptoError', () => {
    const envelopeLike = fc.record(
      {
        v: fc.oneof(fc.constant(1), fc.integer()),
        kind: fc.oneof(fc.constant('command'), fc.string()),
        commandId: fc.oneof(fc.uuid({ version: 4 }), fc.string()),
        keyId: fc.string(),
        context: fc.record(
          { aud: fc.oneof(fc.constant(THING), fc.string()), jti: fc.uuid({ version: 4 }) },
          {
            requiredKeys: [],
          },
        ),
        ciphertext: fc.oneof(fc.base64String(), fc.string()),
        extra: fc.anything(),
      },
      { requiredKeys: [] },
    );
    fc.assert(
      fc.property(
        fc.oneof(
          fc.string(),
          jsonText,
          envelopeLike.map((o) => JSON.stringify(o)),
          fc.uint8Array(),
        ),
        (input) => {
          const result = valueOrTyped(() => parseCommandEnvelope(input), CryptoError);
          if (!(result instanceof Error)) {
            expect(result.v).toBe(1);
            expect(result.context.jti).toBe(result.commandId);
          }
        },
      ),
      { numRuns: 500 },
    );
  });

  it('parseJws: any string, or three segments of arbitrary JSON, yields a value or JwsFormatError', () => {
    const segment = fc.oneof(
      fc.string(),
      jsonText.map(b64u),
      fc.record({ alg: fc.string(), kid: fc.string(), typ: fc.string() }).map((h) => b64u(JSON.stringify(h))),
    );
    fc.assert(
      fc.property(
        fc.oneof(
          fc.string(),
          fc.tuple(segment, segment, segment).map((p) => p.join('.')),
        ),
        (input) => {
          const result = valueOrTyped(() => parseJws(input), JwsFormatError);
          if (!(result instanceof Error)) expect(result.signature.length).toBeGreaterThan(0);
        },
      ),
      { numRuns: 500 },
    );
  });

  it('derToJose: arbitrary bytes yield 64 bytes or DerSignatureError', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 80 }), (bytes) => {
        const result = valueOrTyped(() => derToJose(bytes, 32), DerSignatureError);
        if (!(result instanceof Error)) expect(result.length).toBe(64);
      }),
      { numRuns: 1000 },
    );
  });

  it('derToJose inverts DER encoding for every R, S in [1, n-1], and joseToDer round-trips', () => {
    const scalar = fc.bigInt({ min: 1n, max: N256 - 1n });
    const bytes = (n: bigint) => new Uint8Array(Buffer.from(n.toString(16).padStart(64, '0'), 'hex'));
    fc.assert(
      fc.property(scalar, scalar, (r, s) => {
        const der = derSignature(bytes(r), bytes(s));
        const raw = derToJose(der, 32);
        expect(Buffer.from(raw)).toEqual(Buffer.concat([bytes(r), bytes(s)]));
        expect(Buffer.from(joseToDer(raw))).toEqual(Buffer.from(der));
      }),
      { numRuns: 300 },
    );
  });

  it('the decoder turns any payload into a verified command or a CryptoError, never anything else', async () => {
    const key = localKey('ES256');
    const kms = localKms();
    const decode = createCommandDecoder({
      thingName: THING,
      keys: [{ keyId: SIGNING_KEY_ARN, publicKey: key.spki }],
      decrypt: kms.decrypt,
      replayCache: new InMemoryReplayCache(),
    });
    await fc.assert(
      fc.asyncProperty(fc.oneof(fc.string(), jsonText, fc.uint8Array()), async (input) => {
        await expect(decode(input)).rejects.toBeInstanceOf(CryptoError);
      }),
      { numRuns: 300 },
    );
  });
});

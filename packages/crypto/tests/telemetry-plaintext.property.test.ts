/** `openTelemetryPlaintext` on untrusted decrypted JSON: only the exact shape with the envelope's claims opens. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  openTelemetryPlaintext,
  sealTelemetryPlaintext,
  TelemetryDecryptError,
  type TelemetryEnvelope,
} from '../src/telemetry/index.js';

const claims = fc.record({
  messageId: fc.uuid({ version: 4 }),
  sentAt: fc
    .date({
      min: new Date('2000-01-01T00:00:00Z'),
      max: new Date('2099-12-31T23:59:59Z'),
      noInvalidDate: true,
    })
    .map((d) => d.toISOString()),
});
const envelopeOf = (c: { messageId: string; sentAt: string }): TelemetryEnvelope => ({
  v: 2,
  ...c,
  esdk: 'AAAA',
});

function outcome(value: unknown, envelope: TelemetryEnvelope): unknown {
  try {
    return { body: openTelemetryPlaintext(value, envelope) };
  } catch (error) {
    return error;
  }
}

describe('openTelemetryPlaintext (properties)', () => {
  it('opens what sealTelemetryPlaintext sealed for the same claims, body unchanged', () => {
    fc.assert(
      fc.property(claims, fc.jsonValue(), (c, body) => {
        const sealed = JSON.parse(sealTelemetryPlaintext({ ...c, body }).toString('utf8'));
        expect(outcome(sealed, envelopeOf(c))).toEqual({ body: JSON.parse(JSON.stringify(body)) });
      }),
    );
  });

  it('refuses the message under any other envelope claims (envelope-mismatch)', () => {
    fc.assert(
      fc.property(claims, claims, fc.boolean(), (sealedClaims, other, keepId) => {
        const envelope = envelopeOf(keepId ? { ...other, messageId: sealedClaims.messageId } : other);
        fc.pre(envelope.messageId !== sealedClaims.messageId || envelope.sentAt !== sealedClaims.sentAt);
        const sealed = JSON.parse(sealTelemetryPlaintext({ ...sealedClaims, body: {} }).toString('utf8'));
        const error = outcome(sealed, envelope);
        expect(error).toBeInstanceOf(TelemetryDecryptError);
        expect((error as TelemetryDecryptError).reason).toBe('envelope-mismatch');
      }),
    );
  });

  it('on any other JSON value throws malformed or envelope-mismatch, never quoting the input', () => {
    fc.assert(
      fc.property(claims, fc.jsonValue(), (c, value) => {
        const result = outcome(value, envelopeOf(c));
        if (!(result instanceof TelemetryDecryptError)) {
          // Only the exact shape with these claims opens.
          expect(value).toMatchObject({ messageId: c.messageId, sentAt: c.sentAt });
          expect(Object.keys(value as object).sort()).toEqual(['body', 'messageId', 'sentAt']);
          return;
        }
        expect(['malformed', 'envelope-mismatch']).toContain(result.reason);
        const text = JSON.stringify(value);
        if (text.length > 12) expect(result.message).not.toContain(text);
      }),
      { numRuns: 500 },
    );
  });
});

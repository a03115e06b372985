import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type IngestDeps, ingestMessage } from '../src/ingest.js';

const deps = (): IngestDeps & { stored: number } => {
  const d = {
    stored: 0,
    decryptor: {
      async decrypt() {
        return { data: {}, esdkMessageId: 'a'.repeat(64) }; // an empty body never passes the schemas
      },
    },
    telemetry: {
      async put() {
        d.stored += 1;
        return 'stored' as const;
      },
    },
    commands: {
      async applyResult() {
        return 'applied' as const;
      },
    },
    now: () => new Date('2026-11-25T10:00:00Z'),
    ttlDays: 30,
    maxPayloadBytes: 65_536,
  };
  return d;
};

const ruleLike = fc.record(
  {
    v: fc.oneof(fc.constant(2), fc.constant(1), fc.jsonValue()),
    messageId: fc.oneof(fc.uuid({ version: 4 }), fc.string()),
    sentAt: fc.oneof(
      fc.date({ noInvalidDate: true }).map((d) => d.toISOString()),
      fc.string(),
    ),
    esdk: fc.oneof(fc.base64String(), fc.string()),
    thingName: fc.oneof(fc.constant('1HGCM82633A004352_gw-01'), fc.string()),
    topicKind: fc.oneof(
      fc.constantFrom('telemetry', 'command-results', '__proto__', 'constructor'),
      fc.string(),
    ),
  },
  { requiredKeys: [] },
);

describe('ingestMessage on untrusted input (properties)', () => {
  it('never throws and never stores for arbitrary values, text and rule-like objects', async () => {
    await fc.assert(
      fc.asyncProperty(fc.oneof(fc.jsonValue(), fc.string(), fc.json(), ruleLike), async (message) => {
        const d = deps();
        const outcome = await ingestMessage(message, d);
        expect(outcome.result).toBe('dropped');
        expect(d.stored).toBe(0);
      }),
    );
  });
});

/** The manifest's edge: line splitting in bounded memory and row parsing of untrusted input (property-based). */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { linesOf } from '../src/manifests/lines.js';
import { csvColumns, parseLine } from '../src/manifests/row.js';

async function collect(chunks: Uint8Array[], max?: number) {
  const out: { number: number; text: string | undefined; end: number }[] = [];
  async function* gen() {
    yield* chunks;
  }
  for await (const line of linesOf(gen(), max)) out.push(line);
  return out;
}

describe('linesOf', () => {
  it('yields the same lines and end offsets however the bytes are chunked', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.string({ unit: 'binary', maxLength: 30 }), { maxLength: 20 }),
        fc.array(fc.integer({ min: 1, max: 9 }), { minLength: 1, maxLength: 10 }),
        async (lines, cuts) => {
          const bytes = Buffer.from(lines.join('\n'), 'utf8');
          const chunks: Uint8Array[] = [];
          for (let i = 0, c = 0; i < bytes.length; c++) {
            const size = cuts[c % cuts.length] ?? 1;
            chunks.push(bytes.subarray(i, i + size));
            i += size;
          }
          const whole = await collect([bytes]);
          const pieces = await collect(chunks);
          expect(pieces).toEqual(whole);
          const expected = bytes.toString('utf8').split('\n');
          if (expected.at(-1) === '') expected.pop();
          expect(whole.map((l) => l.text)).toEqual(
            expected.map((l) => (l.endsWith('\r') ? l.slice(0, -1) : l)),
          );
          expect(whole.at(-1)?.end ?? 0).toBe(bytes.length);
        },
      ),
    );
  });

  it('skips a line longer than the limit without keeping it, and goes on with the next', async () => {
    const long = Buffer.alloc(1_000_000, 0x41);

    const lines = await collect([Buffer.from('a\n'), long, long, Buffer.from('\nb\n')], 4096);

    expect(lines.map((l) => l.text)).toEqual(['a', undefined, 'b']);
    expect(lines[1]?.end).toBe(2 + 2_000_000 + 1);
  });
});

describe('parseLine', () => {
  const good = { ecuId: 'GW-1', vin: 'WVWZZZ1JZXW000001', role: 'gateway', supplier: 'acme' };

  it('never throws on any input, accepts only rows whose every field is valid, never echoes the input', () => {
    fc.assert(
      fc.property(
        fc.string({ unit: 'binary', maxLength: 300 }),
        fc.constantFrom('jsonl' as const, 'csv' as const),
        (line, format) => {
          const parsed = parseLine(line, format, ['ecuId', 'vin', 'role', 'supplier']);
          if (parsed.kind === 'row') {
            expect(parsed.row.ecuId).toMatch(/^[A-Za-z0-9-]{1,40}$/);
            expect(parsed.row.vin).toMatch(/^[A-HJ-NPR-Z0-9]{17}$/);
          }
          // The message never echoes the input: one of a few fixed forms naming a manifest field.
          if (parsed.kind === 'invalid') {
            expect(parsed.message).toMatch(
              /^(not a JSON object|expected 4 fields, without commas or quotes inside|the row has a field no manifest has|(ecuId|vin|role|supplier|attestationIssuerKeySha256|attestationCertificateSha256) is missing or malformed)$/,
            );
          }
        },
      ),
    );
  });

  it('refuses any one field changed to a value outside its rule, naming that field', () => {
    const bad: Record<string, fc.Arbitrary<unknown>> = {
      ecuId: fc.oneof(fc.constant(''), fc.constant('GW_1'), fc.constant('x'.repeat(41)), fc.integer()),
      vin: fc.oneof(fc.constant('WVWZZZ1JZXW00000I'), fc.constant('WVWZZZ1JZXW0000'), fc.constant(null)),
      role: fc.constantFrom('root', 'Gateway', ''),
      supplier: fc.constantFrom('Acme', '-acme', 'a', 'acme/../x'),
      attestationIssuerKeySha256: fc.constantFrom('ab', 'g'.repeat(64), 'a'.repeat(65)),
    };
    fc.assert(
      fc.property(fc.constantFrom(...Object.keys(bad)), fc.nat(), (field, seed) => {
        const value = fc.sample(bad[field] as fc.Arbitrary<unknown>, { seed, numRuns: 1 })[0];
        const parsed = parseLine(JSON.stringify({ ...good, [field]: value }), 'jsonl');
        expect(parsed).toMatchObject({ kind: 'invalid', reason: `invalid_${field}` });
      }),
    );
  });

  it('normalises fingerprints to lowercase; refuses prototype keys and unknown fields', () => {
    const key = 'AB'.repeat(32);

    expect(parseLine(JSON.stringify({ ...good, attestationIssuerKeySha256: key }), 'jsonl')).toMatchObject({
      kind: 'row',
      row: { attestationIssuerKeySha256: key.toLowerCase() },
    });
    expect(parseLine(`{"__proto__":{"x":1},${JSON.stringify(good).slice(1)}`, 'jsonl')).toMatchObject({
      reason: 'unknown_field',
    });
    expect(parseLine('[1,2]', 'jsonl')).toMatchObject({ reason: 'malformed' });
  });

  it('csvColumns: refuses unknown, duplicate and missing columns', () => {
    expect(csvColumns('vin, ecuId ,role,supplier')).toEqual(['vin', 'ecuId', 'role', 'supplier']);
    expect(() => csvColumns('ecuId,vin,role,supplier,secret')).toThrow('unknown CSV column');
    expect(() => csvColumns('ecuId,vin,role,supplier,vin')).toThrow('twice');
    expect(() => csvColumns('ecuId,vin,role')).toThrow('missing CSV column: supplier');
  });
});

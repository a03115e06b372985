/**
 * The row cap of POST /manifests counts the rows the import itself reports on: for any body (blank lines of spaces,
 * tabs and CRs, CRLF endings, lines over 4 KiB, garbage, JSON that is almost a row, no final newline), the import's
 * written + unchanged + refused equals manifestRows(body). A cap that counted otherwise would let more rows through
 * than it says, or refuse a manifest under the cap.
 */
import { type ImportDeps, importManifest, type ManifestSource } from '@cv/admin';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { manifestRows } from '../src/routes/manifests.js';

/** The use case with no supplier onboarded: every row it sees is refused (never written), and counted. */
const deps: ImportDeps = {
  registryImport: { getMany: async () => new Map(), putIfAbsent: async () => true },
  suppliers: { casOf: async () => [], all: async () => [] },
  checkpoints: { load: async () => undefined, save: async () => undefined, clear: async () => undefined },
  caller: { whoAmI: async () => 'arn:aws:sts::123456789012:assumed-role/test/test' },
  clock: { now: () => new Date() },
  audit: { record: async () => undefined },
};

const source = (text: string): ManifestSource => {
  const bytes = Buffer.from(text, 'utf8');
  return {
    name: 'body',
    size: bytes.length,
    async *open(start = 0) {
      yield bytes.subarray(start);
    },
  };
};

const line = fc.oneof(
  fc.constantFrom('', ' ', '\t', '\r', ' \r', '\u00a0'),
  fc.constantFrom(
    '{"ecuId":"GW-1","vin":"WVWZZZ1JZXW000001","role":"gateway","supplier":"acme"}',
    'GW-1,WVWZZZ1JZXW000001,gateway,acme',
    '{"ecuId":"GW-2"',
    'a,b',
  ),
  fc.string({ maxLength: 40 }).map((s) => s.replace(/\n/g, ' ')),
  fc.integer({ min: 4090, max: 4200 }).map((n) => 'x'.repeat(n)),
);
const body = fc.record({
  lines: fc.array(line, { maxLength: 30 }),
  crlf: fc.boolean(),
  finalNewline: fc.boolean(),
});
const text = ({ lines, crlf, finalNewline }: { lines: string[]; crlf: boolean; finalNewline: boolean }) =>
  lines.join(crlf ? '\r\n' : '\n') + (finalNewline && lines.length > 0 ? '\n' : '');

describe('manifestRows (the cap of POST /manifests)', () => {
  it('equals the rows the import reports on, JSON lines', async () => {
    await fc.assert(
      fc.asyncProperty(body, async (b) => {
        const manifest = text(b);
        const report = await importManifest({ source: source(manifest), format: 'jsonl' }, deps);
        expect(report.written + report.unchanged + report.refused).toBe(manifestRows(manifest, 'jsonl'));
      }),
      { numRuns: 200 },
    );
  });

  it('equals the rows the import reports on, CSV (the header not counted)', async () => {
    await fc.assert(
      fc.asyncProperty(body, async (b) => {
        const manifest = `ecuId,vin,role,supplier${b.crlf ? '\r\n' : '\n'}${text(b)}`;
        const report = await importManifest({ source: source(manifest), format: 'csv' }, deps);
        expect(report.written + report.unchanged + report.refused).toBe(manifestRows(manifest, 'csv'));
      }),
      { numRuns: 200 },
    );
  });
});

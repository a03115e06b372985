/**
 * Vitest setup file of every project (`setupFiles` in each vitest.config.ts).
 *
 * Handlers log through Powertools, which writes JSON lines (logs, and EMF metrics) straight
 * to `process.stdout` / `process.stderr`, past vitest's console interception, so vitest's
 * `silent: 'passed-only'` does not hide them. This buffers what each test writes to either
 * stream and replays it only when that test fails. Tests that capture the streams themselves
 * (`vi.spyOn(process.stdout, 'write')`, or assigning `process.stdout.write`) wrap this writer
 * and see every line as before. Output written outside a test (module import, `beforeAll`)
 * is dropped.
 */
import { beforeEach } from 'vitest';

type Write = typeof process.stdout.write;
const streams = [process.stdout, process.stderr] as const;
const real = streams.map((s) => s.write.bind(s) as Write);
let buffered: Array<[number, string | Uint8Array]> = [];

streams.forEach((stream, i) => {
  stream.write = ((chunk: string | Uint8Array) => {
    buffered.push([i, chunk]);
    return true;
  }) as Write;
});

beforeEach(({ onTestFailed }) => {
  buffered = [];
  onTestFailed(() => {
    for (const [i, chunk] of buffered) real[i]?.(chunk);
    buffered = [];
  });
});

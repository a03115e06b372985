/** The import's progress bar: rows per second and time left from this run's pace, silent off a terminal. */
import { describe, expect, it } from 'vitest';
import { formatEta, progressObserver } from '../src/manifests/progress.js';

const state = (bytes: number, rows: number) => ({
  bytes,
  totalBytes: 10_000,
  lines: rows,
  written: rows,
  unchanged: 0,
  refused: 0,
});

describe('progressObserver', () => {
  it('shows rows/s and the ETA from this run’s pace, not counting the rows a resumed run started with', () => {
    const out: string[] = [];
    let t = 0;
    const bar = progressObserver({ isTTY: true, write: (s) => out.push(s) }, undefined, () => t);

    bar.progress(state(4_000, 400)); // resumed at 40%: 400 rows done before this run
    t = 10_000;
    bar.progress(state(5_000, 1_400)); // 1,000 rows and 1,000 bytes in 10 s

    expect(out.at(-1)).toContain('50.0%');
    expect(out.at(-1)).toContain('100 rows/s');
    expect(out.at(-1)).toContain('ETA 50s'); // 5,000 bytes left at 100 bytes/s
  });

  it('writes nothing when the stream is not a terminal', () => {
    const out: string[] = [];
    const bar = progressObserver({ isTTY: false, write: (s) => out.push(s) });

    bar.progress(state(1, 1));
    bar.done();

    expect(out).toEqual([]);
  });

  it.each([
    [0, '0s'],
    [59.4, '59s'],
    [61, '1m01s'],
    [3599, '59m59s'],
    [3725, '1h02m'],
    [-5, '0s'],
  ])('formats %s s as %s', (seconds, text) => {
    expect(formatEta(seconds)).toBe(text);
  });
});

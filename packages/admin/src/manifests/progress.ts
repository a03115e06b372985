import type { ImportObserver, RefusedRow } from './ports.js';

export interface ProgressStream {
  readonly isTTY?: boolean | undefined;
  write(text: string): unknown;
}

const WIDTH = 30;

/**
 * The import's progress bar on a terminal (stderr): bytes done, rows per second, counts; redrawn at most every
 * 200 ms, nothing at all when the stream is not a TTY (logs and pipes stay clean). Refused rows go to `rejects`
 * (e.g. a JSON-lines file) as they happen.
 */
export function progressObserver(
  stream: ProgressStream,
  rejects?: (row: RefusedRow) => void | Promise<void>,
  now: () => number = Date.now,
): ImportObserver {
  const started = now();
  let drawn = 0;
  let dirty = false;
  return {
    progress(s) {
      if (stream.isTTY !== true) return;
      const t = now();
      if (t - drawn < 200) {
        dirty = true;
        return;
      }
      drawn = t;
      dirty = false;
      const ratio = s.totalBytes === 0 ? 1 : Math.min(1, s.bytes / s.totalBytes);
      const filled = Math.round(ratio * WIDTH);
      const rate = Math.round((s.written + s.unchanged + s.refused) / Math.max(0.001, (t - started) / 1000));
      stream.write(
        `\r[${'#'.repeat(filled)}${'.'.repeat(WIDTH - filled)}] ${(ratio * 100).toFixed(1)}%  ${rate} rows/s  written ${s.written}  unchanged ${s.unchanged}  refused ${s.refused}`,
      );
    },
    async refused(row) {
      await rejects?.(row);
    },
    done() {
      if (stream.isTTY === true && (drawn > 0 || dirty)) stream.write('\n');
    },
  };
}

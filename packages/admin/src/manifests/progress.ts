import type { ImportObserver, RefusedRow } from './ports.js';

export interface ProgressStream {
  readonly isTTY?: boolean | undefined;
  write(text: string): unknown;
}

const WIDTH = 30;

/** A duration for the bar: `42s`, `7m05s`, `1h02m`. */
export function formatEta(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}

/**
 * The import's progress bar on a terminal (stderr): bytes done, rows per second and the time left (both from this
 * run's own pace: a resumed import does not count the rows of the run before), counts; redrawn at most every
 * 200 ms, nothing at all when the stream is not a TTY (logs and pipes stay clean). Refused rows go to `rejects`
 * (e.g. a JSON-lines file) as they happen.
 */
export function progressObserver(
  stream: ProgressStream,
  rejects?: (row: RefusedRow) => void | Promise<void>,
  now: () => number = Date.now,
): ImportObserver {
  const started = now();
  let first: { rows: number; bytes: number } | undefined;
  let drawn = 0;
  let dirty = false;
  return {
    progress(s) {
      if (stream.isTTY !== true) return;
      const rows = s.written + s.unchanged + s.refused;
      first ??= { rows, bytes: s.bytes };
      const t = now();
      if (t - drawn < 200) {
        dirty = true;
        return;
      }
      drawn = t;
      dirty = false;
      const ratio = s.totalBytes === 0 ? 1 : Math.min(1, s.bytes / s.totalBytes);
      const filled = Math.round(ratio * WIDTH);
      const elapsed = Math.max(0.001, (t - started) / 1000);
      const rate = Math.round((rows - first.rows) / elapsed);
      const bytesPerSecond = (s.bytes - first.bytes) / elapsed;
      const eta = bytesPerSecond > 0 ? formatEta((s.totalBytes - s.bytes) / bytesPerSecond) : '?';
      stream.write(
        `\r[${'#'.repeat(filled)}${'.'.repeat(WIDTH - filled)}] ${(ratio * 100).toFixed(1)}%  ${rate} rows/s  ETA ${eta}  written ${s.written}  unchanged ${s.unchanged}  refused ${s.refused}`,
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

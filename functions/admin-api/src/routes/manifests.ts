import {
  type CheckpointPort,
  type ImportReport,
  InvalidInputError,
  importManifest,
  type ManifestSource,
  type RefusedRow,
} from '@cv/admin';
import { HttpError } from '@cv/runtime';
import type { Route } from '../route.js';

/**
 * The manifest import over the API takes what one invocation can do well inside API Gateway's 29 s: at most
 * {@link MAX_MANIFEST_ROWS} rows and {@link MAX_MANIFEST_BYTES} per request (Lambda's synchronous payload is 6 MB,
 * the event's envelope included). A larger file is split by the caller, or imported with `cv-admin manifest import`,
 * which streams a million rows from disk and resumes after an interruption.
 */
export const MAX_MANIFEST_ROWS = 10_000;
export const MAX_MANIFEST_BYTES = 4 * 1024 * 1024;

const CSV_TYPE = /^text\/csv\s*(;|$)/i;

/** The request body as the use case's {@link ManifestSource} (opened once to hash it, once to import it). */
function bodySource(body: string, format: 'jsonl' | 'csv'): ManifestSource {
  const bytes = Buffer.from(body, 'utf8');
  return {
    name: `request.${format}`,
    size: bytes.length,
    async *open(start = 0) {
      yield bytes.subarray(start);
    },
  };
}

/**
 * No checkpoint between invocations: a request is imported whole or, when interrupted (a timeout), POSTed again,
 * which writes only what is missing (the import is idempotent: rows already there with the same binding are
 * `unchanged`).
 */
const NO_CHECKPOINTS: CheckpointPort = {
  load: async () => undefined,
  save: async () => undefined,
  clear: async () => undefined,
};

function formatOf(query: Readonly<Record<string, string>>, contentType: string | undefined): 'jsonl' | 'csv' {
  const format = query.format;
  if (format === undefined) return CSV_TYPE.test(contentType ?? '') ? 'csv' : 'jsonl';
  if (format !== 'jsonl' && format !== 'csv') throw new InvalidInputError('format', 'format is jsonl or csv');
  return format;
}

/**
 * Data rows of the body as the import counts them (one per line that is not blank, the CSV header left out): what the
 * cap of {@link MAX_MANIFEST_ROWS} holds.
 * @example manifestRows('ecuId,vin,role,supplier\nGW-1,...\n\n', 'csv') // 1
 */
export function manifestRows(body: string, format: 'jsonl' | 'csv'): number {
  let rows = 0;
  for (const line of body.split('\n')) if (line.trim() !== '') rows += 1;
  return format === 'csv' ? Math.max(0, rows - 1) : rows;
}

/**
 * Factory manifest import (packages/admin/src/manifests), the use case of `cv-admin manifest import`: the body is the
 * manifest (JSON lines, or CSV with `?format=csv` or `Content-Type: text/csv`), validated row by row and written
 * idempotently; the response is the CLI's report plus every refused row (`refusedRows`, what `--rejects` writes).
 */
export const MANIFEST_ROUTES: readonly Route[] = [
  {
    method: 'POST',
    path: '/manifests',
    maxBodyBytes: MAX_MANIFEST_BYTES,
    run: async (req, deps): Promise<ImportReport & { refusedRows: RefusedRow[] }> => {
      const format = formatOf(req.query, req.headers['content-type']);
      const body = req.body ?? '';
      if (manifestRows(body, format) > MAX_MANIFEST_ROWS) {
        throw new HttpError(
          413,
          'manifest_too_large',
          `at most ${MAX_MANIFEST_ROWS} rows per request: split the manifest, or import it with cv-admin manifest import`,
        );
      }
      const refusedRows: RefusedRow[] = [];
      const report = await importManifest(
        { source: bodySource(body, format), format },
        {
          ...deps,
          checkpoints: NO_CHECKPOINTS,
          observer: {
            progress: () => undefined,
            refused: (row) => {
              refusedRows.push(row);
            },
            done: () => undefined,
          },
        },
      );
      return { ...report, refusedRows };
    },
  },
];

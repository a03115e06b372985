import { type AuditLogPort, audited } from '../audit.js';
import { AdminError, InvalidInputError } from '../errors.js';
import type { CallerPort, Clock } from '../ports.js';
import type { Backoff } from '../retry.js';
import type { SupplierDirectoryPort } from '../suppliers/ports.js';
import { type BatchContext, type BatchResult, processBatch } from './batch.js';
import { AdaptiveLimit } from './limit.js';
import { linesOf, sha256Of } from './lines.js';
import type {
  CheckpointPort,
  ImportCheckpoint,
  ImportObserver,
  ManifestSource,
  RefusedRow,
  RegistryImportPort,
} from './ports.js';
import { SupplierCache } from './resolve.js';
import { csvColumns, type ManifestFormat, type ManifestRow, parseLine } from './row.js';

export interface ImportInput {
  readonly source: ManifestSource;
  /** Default: `csv` for a `.csv` name, else `jsonl`. */
  readonly format?: ManifestFormat | undefined;
  /** How often the checkpoint is saved (default every second; 0: after every batch). */
  readonly checkpointEveryMs?: number | undefined;
  /** Conditional writes in flight at most (default 25, 1 to 200); halved on throttling, grown back after. */
  readonly concurrency?: number | undefined;
}

export interface ImportDeps {
  readonly registryImport: RegistryImportPort;
  readonly suppliers: SupplierDirectoryPort;
  readonly checkpoints: CheckpointPort;
  readonly caller: CallerPort;
  readonly clock: Clock;
  readonly audit: AuditLogPort;
  readonly observer?: ImportObserver | undefined;
  /** Backoff of throttled writes (default: 50 ms doubling to 5 s, 10 attempts). */
  readonly backoff?: Backoff | undefined;
}

export interface ImportReport {
  readonly manifestSha256: string;
  /** Lines read (the CSV header and blank lines included). */
  readonly lines: number;
  readonly written: number;
  readonly unchanged: number;
  readonly refused: number;
  readonly refusedByReason: Readonly<Record<string, number>>;
  /** The first refused rows (all of them go to the observer, e.g. `--rejects FILE`). */
  readonly refusedExamples: readonly RefusedRow[];
  /** The line an interrupted run had finished, when this run resumed from its checkpoint. */
  readonly resumedAfterLine?: number;
}

/** Rows per read (BatchGetItem's limit); batches in flight (read, written, or waiting to be folded). */
const BATCH = 100;
const WINDOW = 4;
export const DEFAULT_CONCURRENCY = 25;
export const MAX_CONCURRENCY = 200;
const EXAMPLES = 20;
const CHECKPOINT_EVERY_MS = 1000;

const isAdminError = (e: unknown): e is AdminError => e instanceof AdminError;

/**
 * Imports a factory manifest (JSON lines or CSV: ecuId, vin, role, supplier, and optionally
 * attestationIssuerKeySha256 / attestationCertificateSha256) into the ECU registry, streaming, in bounded memory.
 * Each row is validated, bound to an ACTIVE attestation CA of its supplier, and written only if no row has its ECU id
 * (conditional write); a row that exists with the same binding is `unchanged`, one bound otherwise is refused and
 * kept. A checkpoint (keyed by the manifest's SHA-256) is saved as it goes, so an interrupted import resumes after the
 * last finished batch; a re-run of a finished import writes nothing. The import is recorded in the audit trail
 * (`manifest.import`, target `manifest:<sha256>`, the counts).
 *
 * @example const report = await importManifest({ source: fileSource('line-7.jsonl') }, deps);
 */
export async function importManifest(input: ImportInput, deps: ImportDeps): Promise<ImportReport> {
  const format = input.format ?? (input.source.name.toLowerCase().endsWith('.csv') ? 'csv' : 'jsonl');
  const concurrency = input.concurrency ?? DEFAULT_CONCURRENCY;
  if (!Number.isSafeInteger(concurrency) || concurrency < 1 || concurrency > MAX_CONCURRENCY) {
    throw new InvalidInputError(
      'concurrency',
      `the concurrency is a whole number from 1 to ${MAX_CONCURRENCY}`,
    );
  }
  const manifestSha256 = await sha256Of(input.source);
  const ctx = { audit: deps.audit, actor: await deps.caller.whoAmI(), now: () => deps.clock.now() };
  return audited(
    ctx,
    'manifest.import',
    `manifest:${manifestSha256}`,
    async () => {
      const report = await run(input, format, manifestSha256, ctx.actor, deps);
      return {
        outcome: report.written > 0 ? 'succeeded' : 'unchanged',
        result: report,
        detail: {
          lines: report.lines,
          written: report.written,
          unchanged: report.unchanged,
          refused: report.refused,
          format,
          ...(report.resumedAfterLine === undefined ? {} : { resumedAfterLine: report.resumedAfterLine }),
        },
      };
    },
    isAdminError,
  );
}

async function csvHeader(source: ManifestSource): Promise<string[]> {
  for await (const line of linesOf(source.open())) {
    try {
      return csvColumns(line.text ?? '');
    } catch (error) {
      throw new InvalidInputError(
        'manifest',
        `the CSV header is not a manifest header: ${(error as Error).message}`,
      );
    }
  }
  throw new InvalidInputError('manifest', 'the manifest is empty');
}

async function run(
  input: ImportInput,
  format: ManifestFormat,
  manifestSha256: string,
  actor: string,
  deps: ImportDeps,
): Promise<ImportReport> {
  const source = input.source;
  const every = input.checkpointEveryMs ?? CHECKPOINT_EVERY_MS;
  const columns = format === 'csv' ? await csvHeader(source) : [];
  const resumed = await deps.checkpoints.load(manifestSha256);
  const state = {
    lines: resumed?.lines ?? 0,
    bytes: resumed?.bytes ?? 0,
    written: resumed?.written ?? 0,
    unchanged: resumed?.unchanged ?? 0,
    refused: resumed?.refused ?? 0,
    refusedByReason: { ...(resumed?.refusedByReason ?? {}) } as Record<string, number>,
  };
  const examples: RefusedRow[] = [];
  const ctx: BatchContext = {
    registry: deps.registryImport,
    suppliers: new SupplierCache(deps.suppliers),
    provenance: { manifestSha256, importedBy: actor, importedAt: deps.clock.now().toISOString() },
    resuming: resumed !== undefined,
    limit: new AdaptiveLimit(input.concurrency ?? DEFAULT_CONCURRENCY),
    backoff: deps.backoff ?? {},
  };
  let lastSave = Date.now();

  // The batch being filled, and the window of batches in flight (oldest first). A batch's counts and refusals are
  // folded into `state` only when every batch before it has been, so the checkpoint never counts a row twice.
  let rows: { line: number; row: ManifestRow }[] = [];
  let parsedRefusals: RefusedRow[] = [];
  const ids = new Set<string>();
  const inFlightIds = new Map<string, number>();
  const window: InFlight[] = [];
  let upTo = { lines: state.lines, bytes: state.bytes };

  const fold = async (batch: InFlight) => {
    const result = await batch.result;
    state.written += result.written;
    state.unchanged += result.unchanged;
    const refusals = [...batch.parsedRefusals, ...result.refusals].sort((a, b) => a.line - b.line);
    for (const r of refusals) {
      state.refused += 1;
      state.refusedByReason[r.reason] = (state.refusedByReason[r.reason] ?? 0) + 1;
      if (examples.length < EXAMPLES) examples.push(r);
      await deps.observer?.refused(r);
    }
    for (const id of batch.ids) {
      const n = (inFlightIds.get(id) ?? 1) - 1;
      if (n === 0) inFlightIds.delete(id);
      else inFlightIds.set(id, n);
    }
    state.lines = batch.upTo.lines;
    state.bytes = batch.upTo.bytes;
    deps.observer?.progress({ ...state, totalBytes: source.size });
    if (Date.now() - lastSave >= every) {
      await deps.checkpoints.save(checkpointOf(manifestSha256, state));
      lastSave = Date.now();
    }
  };
  const foldOldest = async () => {
    const oldest = window[0];
    if (oldest === undefined) return;
    await fold(oldest);
    window.shift();
  };
  /** Starts the batch being filled; waits for the oldest when the window is full. */
  const dispatch = async () => {
    const batchIds = [...ids];
    const result = processBatch(rows, ctx);
    // A failure is raised when the batch is folded; until then it must not count as unhandled.
    result.catch(() => undefined);
    window.push({ result, parsedRefusals, ids: batchIds, upTo });
    for (const id of batchIds) inFlightIds.set(id, (inFlightIds.get(id) ?? 0) + 1);
    rows = [];
    parsedRefusals = [];
    ids.clear();
    while (window.length >= WINDOW) await foldOldest();
  };
  const drain = async () => {
    while (window.length > 0) await foldOldest();
  };

  try {
    for await (const line of linesOf(source.open(state.bytes))) {
      const lineNo = (resumed?.lines ?? 0) + line.number;
      if (!(format === 'csv' && lineNo === 1)) {
        if (line.text === undefined) {
          parsedRefusals.push({
            line: lineNo,
            ecuId: undefined,
            reason: 'line_too_long',
            message: 'the line is longer than 4096 bytes',
          });
        } else {
          const parsed = parseLine(line.text, format, columns);
          if (parsed.kind === 'invalid') {
            parsedRefusals.push({
              line: lineNo,
              ecuId: parsed.ecuId,
              reason: parsed.reason,
              message: parsed.message,
            });
          } else if (parsed.kind === 'row') {
            const id = parsed.row.ecuId;
            // The same ECU id again: its earlier row is written (or judged) first, so the file's first binding wins.
            if (ids.has(id)) await dispatch();
            if (inFlightIds.has(id)) await drain();
            ids.add(id);
            rows.push({ line: lineNo, row: parsed.row });
          }
        }
      }
      upTo = { lines: lineNo, bytes: (resumed?.bytes ?? 0) + line.end };
      if (rows.length >= BATCH) await dispatch();
    }
    await dispatch();
    await drain();
  } catch (error) {
    // Keep what the finished batches did: wait for the rest, fold the leading ones that succeeded, save.
    await Promise.allSettled(window.map((b) => b.result));
    try {
      while (window.length > 0) await foldOldest();
    } catch {
      // the first failed batch: stop folding there
    }
    // Best effort: the import's own error is the one to report.
    await deps.checkpoints.save(checkpointOf(manifestSha256, state)).catch(() => undefined);
    throw error;
  }
  await deps.checkpoints.clear(manifestSha256);
  await deps.observer?.done();
  return {
    manifestSha256,
    lines: state.lines,
    written: state.written,
    unchanged: state.unchanged,
    refused: state.refused,
    refusedByReason: state.refusedByReason,
    refusedExamples: examples,
    ...(resumed === undefined ? {} : { resumedAfterLine: resumed.lines }),
  };
}

interface InFlight {
  readonly result: Promise<BatchResult>;
  readonly parsedRefusals: readonly RefusedRow[];
  readonly ids: readonly string[];
  readonly upTo: { readonly lines: number; readonly bytes: number };
}

function checkpointOf(manifestSha256: string, s: Omit<ImportCheckpoint, 'manifestSha256'>): ImportCheckpoint {
  return {
    manifestSha256,
    lines: s.lines,
    bytes: s.bytes,
    written: s.written,
    unchanged: s.unchanged,
    refused: s.refused,
    refusedByReason: { ...s.refusedByReason },
  };
}

import { type AuditLogPort, audited } from '../audit.js';
import { AdminError, InvalidInputError } from '../errors.js';
import type { CallerPort, Clock } from '../ports.js';
import type { SupplierDirectoryPort } from '../suppliers/ports.js';
import { linesOf, sha256Of } from './lines.js';
import type {
  CheckpointPort,
  ImportCheckpoint,
  ImportObserver,
  ImportProvenance,
  ManifestRegistryRow,
  ManifestSource,
  RefusedRow,
  RegistryImportPort,
} from './ports.js';
import { bindingOf, compare, SupplierCache, type Verdict } from './resolve.js';
import { csvColumns, type ManifestFormat, type ManifestRow, parseLine } from './row.js';

export interface ImportInput {
  readonly source: ManifestSource;
  /** Default: `csv` for a `.csv` name, else `jsonl`. */
  readonly format?: ManifestFormat | undefined;
  /** How often the checkpoint is saved (default every second; 0: after every batch). */
  readonly checkpointEveryMs?: number | undefined;
}

export interface ImportDeps {
  readonly registryImport: RegistryImportPort;
  readonly suppliers: SupplierDirectoryPort;
  readonly checkpoints: CheckpointPort;
  readonly caller: CallerPort;
  readonly clock: Clock;
  readonly audit: AuditLogPort;
  readonly observer?: ImportObserver | undefined;
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

/** Rows per read (BatchGetItem's limit) and conditional writes in flight. */
const BATCH = 100;
const WRITES_IN_FLIGHT = 25;
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
  const provenance: ImportProvenance = {
    manifestSha256,
    importedBy: actor,
    importedAt: deps.clock.now().toISOString(),
  };
  const suppliers = new SupplierCache(deps.suppliers);
  let lastSave = Date.now();

  let rows: { line: number; row: ManifestRow }[] = [];
  let pendingRefusals: RefusedRow[] = [];
  const ids = new Set<string>();
  let upTo = { lines: state.lines, bytes: state.bytes };

  const refuse = (r: RefusedRow) => {
    pendingRefusals.push(r);
  };
  const flush = async () => {
    if (rows.length > 0) {
      await processBatch(
        rows,
        deps.registryImport,
        suppliers,
        provenance,
        resumed !== undefined,
        state,
        refuse,
      );
    }
    for (const r of pendingRefusals) {
      state.refused += 1;
      state.refusedByReason[r.reason] = (state.refusedByReason[r.reason] ?? 0) + 1;
      if (examples.length < EXAMPLES) examples.push(r);
      await deps.observer?.refused(r);
    }
    state.lines = upTo.lines;
    state.bytes = upTo.bytes;
    rows = [];
    pendingRefusals = [];
    ids.clear();
    deps.observer?.progress({ ...state, totalBytes: source.size });
    if (Date.now() - lastSave >= every) {
      await deps.checkpoints.save(checkpointOf(manifestSha256, state));
      lastSave = Date.now();
    }
  };

  for await (const line of linesOf(source.open(state.bytes))) {
    const lineNo = (resumed?.lines ?? 0) + line.number;
    if (!(format === 'csv' && lineNo === 1)) {
      if (line.text === undefined) {
        refuse({
          line: lineNo,
          ecuId: undefined,
          reason: 'line_too_long',
          message: 'the line is longer than 4096 bytes',
        });
      } else {
        const parsed = parseLine(line.text, format, columns);
        if (parsed.kind === 'invalid') {
          refuse({ line: lineNo, ecuId: parsed.ecuId, reason: parsed.reason, message: parsed.message });
        } else if (parsed.kind === 'row') {
          if (ids.has(parsed.row.ecuId)) await flush();
          ids.add(parsed.row.ecuId);
          rows.push({ line: lineNo, row: parsed.row });
        }
      }
    }
    upTo = { lines: lineNo, bytes: (resumed?.bytes ?? 0) + line.end };
    if (rows.length >= BATCH) await flush();
  }
  await flush();
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

/** Runs `fn` over `items` with at most `limit` in flight. */
async function pool<T>(items: readonly T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const item = items[next++] as T;
      await fn(item);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}

/**
 * One batch of distinct ECU ids: one batched read, then a conditional write per new row (at most 25 in flight).
 * Caveat of resuming: a row this manifest wrote past the checkpoint counts as written even if a duplicate of it
 * earlier in the file had made it "unchanged" in an uninterrupted run (the counts can then differ by such rows).
 */
async function processBatch(
  rows: readonly { line: number; row: ManifestRow }[],
  registry: RegistryImportPort,
  suppliers: SupplierCache,
  provenance: ImportProvenance,
  resuming: boolean,
  counts: { written: number; unchanged: number },
  refuse: (r: RefusedRow) => void,
): Promise<void> {
  const existing = await registry.getMany(rows.map((r) => r.row.ecuId));
  const toWrite: { line: number; row: ManifestRegistryRow }[] = [];
  const settle = (line: number, ecuId: string, verdict: Verdict) => {
    if (verdict.kind === 'unchanged') counts.unchanged += 1;
    else if (verdict.kind === 'refused')
      refuse({ line, ecuId, reason: verdict.reason, message: verdict.message });
  };
  for (const { line, row } of rows) {
    const wanted = await bindingOf(row, suppliers);
    if (wanted.kind !== 'write') {
      settle(line, row.ecuId, wanted);
      continue;
    }
    const current = existing.get(row.ecuId);
    if (current === undefined) {
      toWrite.push({ line, row: wanted.row });
      continue;
    }
    const verdict = compare(wanted.row, current);
    // Resuming: a row past the checkpoint that this manifest wrote before the interruption counts as written,
    // so the report of an interrupted and resumed import is the report of an uninterrupted one.
    if (verdict.kind === 'unchanged' && resuming && current.manifestSha256 === provenance.manifestSha256) {
      counts.written += 1;
    } else {
      settle(line, row.ecuId, verdict);
    }
  }
  await pool(toWrite, WRITES_IN_FLIGHT, async ({ line, row }) => {
    if (await registry.putIfAbsent(row, provenance)) {
      counts.written += 1;
      return;
    }
    // Another writer (a second importer, an operator) created the row since the read: judge against it.
    const raced = (await registry.getMany([row.ecuId])).get(row.ecuId);
    settle(
      line,
      row.ecuId,
      raced === undefined
        ? {
            kind: 'refused',
            reason: 'concurrent_change',
            message: `ECU ${row.ecuId} changed during the import`,
          }
        : compare(row, raced),
    );
  });
}

import { RetriesExhaustedError, ThrottledError } from '../errors.js';
import { type Backoff, jitteredDelay } from '../retry.js';
import type { AdaptiveLimit } from './limit.js';
import type { ImportProvenance, ManifestRegistryRow, RefusedRow, RegistryImportPort } from './ports.js';
import { bindingOf, compare, type SupplierCache, type Verdict } from './resolve.js';
import type { ManifestRow } from './row.js';

/** What one batch did: its counts and refusals, folded into the import's report in file order. */
export interface BatchResult {
  written: number;
  unchanged: number;
  readonly refusals: RefusedRow[];
}

export interface BatchContext {
  readonly registry: RegistryImportPort;
  readonly suppliers: SupplierCache;
  readonly provenance: ImportProvenance;
  /** This run resumes an interrupted one (rows this manifest wrote past the checkpoint count as written). */
  readonly resuming: boolean;
  /** Conditional writes in flight, shared by every batch of the import. */
  readonly limit: AdaptiveLimit;
  readonly backoff: Backoff;
}

const sleepMs = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * A conditional write, retried while the service throttles it: each throttle halves the import's write limit and
 * waits a jittered exponential delay; after `backoff.attempts` (default 10) throttled tries it gives up with
 * {@link RetriesExhaustedError} (the checkpoint lets a re-run continue).
 */
async function putThrottled(row: ManifestRegistryRow, ctx: BatchContext): Promise<boolean> {
  const attempts = ctx.backoff.attempts ?? 10;
  for (let attempt = 0; ; attempt++) {
    await ctx.limit.acquire();
    try {
      const written = await ctx.registry.putIfAbsent(row, ctx.provenance);
      ctx.limit.succeeded();
      return written;
    } catch (error) {
      if (!(error instanceof ThrottledError)) throw error;
      ctx.limit.throttled();
      if (attempt + 1 >= attempts) throw new RetriesExhaustedError(1);
    } finally {
      ctx.limit.release();
    }
    await (ctx.backoff.sleep ?? sleepMs)(jitteredDelay(attempt, ctx.backoff));
  }
}

/**
 * One batch of distinct ECU ids: one batched read (so a re-run is reads only), then a conditional write per new row,
 * as many in flight as the shared limit allows. A row another writer created since the read is judged against that
 * row (unchanged or refused), never overwritten.
 * Caveat of resuming: a row this manifest wrote past the checkpoint counts as written even if a duplicate of it
 * earlier in the file had made it "unchanged" in an uninterrupted run (the counts can then differ by such rows).
 */
export async function processBatch(
  rows: readonly { line: number; row: ManifestRow }[],
  ctx: BatchContext,
): Promise<BatchResult> {
  const result: BatchResult = { written: 0, unchanged: 0, refusals: [] };
  const settle = (line: number, ecuId: string, verdict: Verdict) => {
    if (verdict.kind === 'unchanged') result.unchanged += 1;
    else if (verdict.kind === 'refused')
      result.refusals.push({ line, ecuId, reason: verdict.reason, message: verdict.message });
  };
  const existing = rows.length === 0 ? new Map() : await ctx.registry.getMany(rows.map((r) => r.row.ecuId));
  const toWrite: { line: number; row: ManifestRegistryRow }[] = [];
  for (const { line, row } of rows) {
    const wanted = await bindingOf(row, ctx.suppliers);
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
    if (
      verdict.kind === 'unchanged' &&
      ctx.resuming &&
      current.manifestSha256 === ctx.provenance.manifestSha256
    ) {
      result.written += 1;
    } else {
      settle(line, row.ecuId, verdict);
    }
  }
  // Every write settles before the batch does, so a failed import leaves no write running behind it.
  const settled = await Promise.allSettled(
    toWrite.map(async ({ line, row }) => {
      if (await putThrottled(row, ctx)) {
        result.written += 1;
        return;
      }
      // Another writer (a second importer, an operator) created the row since the read: judge against it.
      const raced = (await ctx.registry.getMany([row.ecuId])).get(row.ecuId);
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
    }),
  );
  const failed = settled.find((s) => s.status === 'rejected');
  if (failed !== undefined) throw failed.reason;
  result.refusals.sort((a, b) => a.line - b.line);
  return result;
}

import { buildFinding, findingId, GENERATOR_ID, productArnOf } from './finding.js';
import type { AuthorizationFailure } from './logs.js';
import type { FailureLedger, FindingImporter, ProvenanceWriter, RaisedFinding } from './ports.js';

export interface DetectorConfig {
  region: string;
  accountId: string;
  partition: string;
  /** Failures within the window that raise a finding. */
  threshold: number;
  windowSeconds: number;
}

export interface DetectDeps {
  ledger: FailureLedger;
  provenance: ProvenanceWriter;
  findings: FindingImporter;
  clock: { now(): Date };
  config: DetectorConfig;
}

export interface Detection {
  certificates: number;
  raised: string[];
}

/** How long failures and raise markers are kept after the window (DynamoDB TTL; late batches still dedupe). */
const KEEP_SECONDS = 24 * 3600;
/** How long a provenance record is kept: Security Hub keeps a finding 90 days, and the workflow may re-run. */
export const PROVENANCE_TTL_SECONDS = 90 * 86_400;

/**
 * Counts the failures per certificate exactly once (each stored under its log event id, so redelivery and retries
 * after a partial write add nothing) and evaluates every sliding window that holds one of the new failures, in any
 * arrival order. At the threshold it raises one finding for the earliest such window, FirstObservedAt = its first
 * failure; after that, the certificate is in cool-down for one window past the finding's last failure (a burst that
 * straddles any window boundary is one finding), and a later finding only counts failures after it. The raise is
 * recorded first (conditional), then the provenance record is written, then the finding imported, then marked
 * imported: a failure anywhere leaves a marker that the retry (or the next batch) completes with the same finding.
 */
export async function detectAuthorizationFailures(
  failures: readonly AuthorizationFailure[],
  deps: DetectDeps,
): Promise<Detection> {
  const byCert = new Map<string, Map<string, AuthorizationFailure>>();
  for (const f of failures) {
    const own = byCert.get(f.certificateId) ?? new Map<string, AuthorizationFailure>();
    own.set(f.eventId, f);
    byCert.set(f.certificateId, own);
  }
  const raised: string[] = [];
  for (const [certificateId, own] of [...byCert].sort(([a], [b]) => (a < b ? -1 : 1))) {
    const id = await evaluate(certificateId, [...own.values()], deps);
    if (id !== undefined) raised.push(id);
  }
  return { certificates: byCert.size, raised };
}

async function evaluate(
  certificateId: string,
  own: AuthorizationFailure[],
  deps: DetectDeps,
): Promise<string | undefined> {
  const { config } = deps;
  const windowMs = config.windowSeconds * 1000;
  const latest = Math.max(...own.map((f) => f.at));
  const keepUntil = Math.floor(latest / 1000) + config.windowSeconds + KEEP_SECONDS;
  await deps.ledger.record(
    certificateId,
    own.map((f) => ({ eventId: f.eventId, at: f.at })),
    keepUntil,
  );

  const previous = await deps.ledger.lastRaised(certificateId);
  if (previous !== undefined && !previous.imported) await importRaised(previous, deps);
  // Cool-down: failures up to one window after the last finding's last failure belong to that burst.
  const coolEnd = previous === undefined ? Number.NEGATIVE_INFINITY : previous.lastObservedAt + windowMs;
  const fresh = own.filter((f) => f.at > coolEnd).map((f) => f.at);
  if (fresh.length === 0) return undefined;
  // Every window that holds one of the new failures lies within [earliest new - window, latest new + window].
  const stored = await deps.ledger.failuresBetween(
    certificateId,
    Math.max(Math.min(...fresh) - windowMs, coolEnd + 1),
    Math.max(...fresh) + windowMs,
  );
  const window = firstBurst(stored, windowMs, config.threshold);
  if (window === undefined) return undefined;

  const next: RaisedFinding = {
    certificateId,
    findingId: findingId(certificateId, window.first),
    firstObservedAt: window.first,
    lastObservedAt: window.last,
    count: window.count,
    raisedAt: deps.clock.now().getTime(),
    imported: false,
    eventTypes: [...new Set(own.map((f) => f.eventType))].sort(),
    clientIds: [...new Set(own.flatMap((f) => (f.clientId ? [f.clientId] : [])))].sort().slice(0, 5),
    sourceIps: [...new Set(own.flatMap((f) => (f.sourceIp ? [f.sourceIp] : [])))].sort().slice(0, 5),
  };
  if (!(await deps.ledger.claimRaise(next, previous, keepUntil))) return undefined;
  await importRaised(next, deps);
  return next.findingId;
}

/** Provenance record, then the finding, then the imported mark: each step idempotent, so a retry completes it. */
async function importRaised(raised: RaisedFinding, deps: DetectDeps): Promise<void> {
  const { config } = deps;
  const raisedAt = new Date(raised.raisedAt);
  await deps.provenance.write(
    {
      findingId: raised.findingId,
      generatorId: GENERATOR_ID,
      productArn: productArnOf(config),
      accountId: config.accountId,
      targets: { certificateId: raised.certificateId },
      raisedAt: raisedAt.toISOString(),
    },
    Math.floor(raised.raisedAt / 1000) + PROVENANCE_TTL_SECONDS,
  );
  await deps.findings.import(
    buildFinding({
      ...config,
      certificateId: raised.certificateId,
      firstObservedAt: new Date(raised.firstObservedAt),
      lastObservedAt: new Date(raised.lastObservedAt),
      count: raised.count,
      eventTypes: raised.eventTypes,
      clientIds: raised.clientIds,
      sourceIps: raised.sourceIps,
      now: raisedAt,
    }),
  );
  await deps.ledger.markImported(raised.certificateId, raised.findingId);
}

/**
 * The earliest window of `windowMs` (starting at a failure) that holds at least `threshold` failures: its first and
 * last failure and how many it holds. `ats` ascending. Pure.
 */
export function firstBurst(
  ats: readonly number[],
  windowMs: number,
  threshold: number,
): { first: number; last: number; count: number } | undefined {
  let end = 0;
  for (let start = 0; start < ats.length; start++) {
    const first = ats[start] ?? 0;
    if (end < start) end = start;
    while (end < ats.length && (ats[end] ?? 0) <= first + windowMs) end++;
    const count = end - start;
    if (count >= threshold) return { first, last: ats[end - 1] ?? first, count };
  }
  return undefined;
}

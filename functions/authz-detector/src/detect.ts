import { buildFinding, findingId } from './finding.js';
import type { AuthorizationFailure } from './logs.js';
import type { FailureCounter, FindingImporter } from './ports.js';

export interface DetectorConfig {
  region: string;
  accountId: string;
  partition: string;
  /** Failures within the window that raise a finding. */
  threshold: number;
  windowSeconds: number;
  bucketSeconds: number;
}

export interface DetectDeps {
  counter: FailureCounter;
  findings: FindingImporter;
  clock: { now(): Date };
  config: DetectorConfig;
}

export interface Detection {
  certificates: number;
  raised: string[];
}

/**
 * Counts the failures per certificate in time buckets (atomic ADD), sums the sliding window ending at the
 * certificate's latest failure, and imports one finding per certificate and window slot when the sum reaches the
 * threshold. A slot already raised is not imported again; a concurrent duplicate import carries the same Id and
 * so updates the one finding.
 */
export async function detectAuthorizationFailures(
  failures: readonly AuthorizationFailure[],
  deps: DetectDeps,
): Promise<Detection> {
  const { config } = deps;
  const byCert = new Map<string, AuthorizationFailure[]>();
  for (const f of failures) byCert.set(f.certificateId, [...(byCert.get(f.certificateId) ?? []), f]);
  const raised: string[] = [];

  for (const [certificateId, own] of byCert) {
    const buckets = new Map<number, number>();
    for (const f of own) {
      const start = Math.floor(f.at / 1000 / config.bucketSeconds) * config.bucketSeconds;
      buckets.set(start, (buckets.get(start) ?? 0) + 1);
    }
    const keep = config.windowSeconds + config.bucketSeconds + 3600;
    for (const [start, count] of buckets) await deps.counter.add(certificateId, start, count, start + keep);

    const latest = Math.max(...own.map((f) => f.at));
    const end = Math.floor(latest / 1000);
    const from =
      Math.floor((end - config.windowSeconds) / config.bucketSeconds) * config.bucketSeconds +
      config.bucketSeconds;
    const sum = await deps.counter.sumSince(certificateId, from);
    if (sum < config.threshold) continue;

    const slot = Math.floor(end / config.windowSeconds);
    if (await deps.counter.wasRaised(certificateId, slot)) continue;
    const slotStart = slot * config.windowSeconds;
    await deps.findings.import(
      buildFinding({
        ...config,
        certificateId,
        slotStart,
        count: sum,
        eventTypes: [...new Set(own.map((f) => f.eventType))].sort(),
        clientIds: [...new Set(own.flatMap((f) => (f.clientId ? [f.clientId] : [])))].sort(),
        sourceIps: [...new Set(own.flatMap((f) => (f.sourceIp ? [f.sourceIp] : [])))].sort(),
        firstObservedAt: new Date(Math.min(...own.map((f) => f.at))),
        lastObservedAt: new Date(latest),
        now: deps.clock.now(),
      }),
    );
    await deps.counter.markRaised(certificateId, slot, slotStart + config.windowSeconds + keep);
    raised.push(findingId(certificateId, slotStart));
  }
  return { certificates: byCert.size, raised };
}

/**
 * Runs the detector's use cases over a synthetic fleet, hour by hour, the way the stack feeds them (lifecycle events
 * as they come; each ECU's hour of counters once written), and scores the findings against the injected anomalies.
 */
import { onCounters } from '../src/counters.js';
import { emptyCounts } from '../src/model.js';
import { onPresence } from '../src/presence.js';
import { ANOMALIES, type AnomalyKind, type FleetOptions, SyntheticFleet } from './fleet.js';
import { memoryDeps } from './memory.js';

export interface Scored {
  findingId: string;
  thingName: string;
  behaviour: string;
  raisedAt: number;
  truePositive: boolean;
}

export interface Evaluation {
  ecus: number;
  healthyEcuDays: number;
  findings: Scored[];
  recall: Record<AnomalyKind, { injected: number; detected: number; behaviours: string[] }>;
  precision: number;
  falsePositivesPer10kEcuDays: number;
  /** Seconds from onset to the first finding, per kind: median and max. */
  delay: Record<AnomalyKind, { medianSeconds: number; maxSeconds: number }>;
}

const HOUR = 3_600_000;
/** A finding on an anomalous ECU counts as detecting it from onset until this long after it ends. */
const GRACE = 2 * HOUR;

export async function evaluate(options: FleetOptions): Promise<Evaluation> {
  const fleet = new SyntheticFleet(options);
  const memory = memoryDeps(new Map(fleet.ecus.map((e) => [e.thingName, e.role])));
  const raised: Array<{ id: string; at: number }> = [];
  for (const hour of fleet.hours()) {
    // Lifecycle events in small batches, in time order (the IoT rule delivers them within seconds).
    for (let i = 0; i < hour.presence.length; i += 25) {
      const batch = hour.presence.slice(i, i + 25);
      const at = batch.at(-1)?.at ?? hour.start * 1000;
      memory.setNow(at);
      for (const id of await onPresence(batch, memory.deps)) raised.push({ id, at });
    }
    // The hour's counters from the writers; the stream then shows the detector each ECU's bucket.
    const end = (hour.start + 3600) * 1000;
    memory.setNow(end);
    await memory.deps.counters.add(hour.counters);
    const updates = [...new Set(hour.counters.map((c) => c.thingName))].map((thingName) => ({
      bucket: memory.counters.get(`${thingName}#${String(hour.start).padStart(12, '0')}`) ?? {
        thingName,
        start: hour.start,
        counts: emptyCounts(),
        disconnectReasons: {},
      },
      isNew: true,
    }));
    for (const id of await onCounters(updates, memory.deps)) raised.push({ id, at: end });
  }
  return score(fleet, raised);
}

function score(fleet: SyntheticFleet, raised: ReadonlyArray<{ id: string; at: number }>): Evaluation {
  const { options } = fleet;
  const end = options.start + options.days * 24 * HOUR;
  const findings: Scored[] = raised.map(({ id, at }) => {
    const [, , behaviour = '', thingName = ''] = id.split('/');
    const truePositive = fleet.injected.some(
      (a) => a.thingName === thingName && at >= a.onset && at <= a.end + GRACE,
    );
    return { findingId: id, thingName, behaviour, raisedAt: at, truePositive };
  });
  const recall = {} as Evaluation['recall'];
  const delay = {} as Evaluation['delay'];
  for (const kind of ANOMALIES) {
    const injected = fleet.injected.filter((a) => a.kind === kind);
    const delays: number[] = [];
    const behaviours = new Set<string>();
    for (const a of injected) {
      const hits = findings.filter(
        (f) =>
          f.truePositive &&
          f.thingName === a.thingName &&
          f.raisedAt >= a.onset &&
          f.raisedAt <= a.end + GRACE,
      );
      const first = hits.sort((x, y) => x.raisedAt - y.raisedAt)[0];
      if (first !== undefined) delays.push((first.raisedAt - a.onset) / 1000);
      for (const h of hits) behaviours.add(h.behaviour);
    }
    delays.sort((x, y) => x - y);
    recall[kind] = { injected: injected.length, detected: delays.length, behaviours: [...behaviours].sort() };
    delay[kind] = {
      medianSeconds: Math.round(delays[Math.floor((delays.length - 1) / 2)] ?? Number.NaN),
      maxSeconds: Math.round(delays.at(-1) ?? Number.NaN),
    };
  }
  const anomalous = new Set(fleet.injected.map((a) => a.thingName));
  const healthyEcuDays = fleet.ecus
    .filter((e) => !anomalous.has(e.thingName))
    .reduce((sum, e) => sum + (end - e.joins) / (24 * HOUR), 0);
  const falsePositives = findings.filter((f) => !f.truePositive).length;
  const tp = findings.length - falsePositives;
  return {
    ecus: fleet.ecus.length,
    healthyEcuDays: Math.round(healthyEcuDays),
    findings,
    recall,
    precision: findings.length === 0 ? 1 : tp / findings.length,
    falsePositivesPer10kEcuDays: (falsePositives / healthyEcuDays) * 10_000,
    delay,
  };
}

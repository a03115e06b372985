/**
 * In-memory implementations of the detector's ports, for the tests and the evaluation: same semantics as the
 * DynamoDB adapters (ADD counters, optimistic versions, conditional raise), no I/O.
 */
import type { FindingProvenance } from '@cv/runtime';
import type { DetectDeps, DetectorConfig } from '../src/detect.js';
import { type BucketCounts, emptyCounts, type Role } from '../src/model.js';
import type { CounterIncrement, RaisedFinding, Versioned } from '../src/ports.js';

export interface Memory {
  deps: DetectDeps;
  counters: Map<string, BucketCounts>;
  findings: Record<string, unknown>[];
  provenance: Map<string, FindingProvenance>;
  raised: Map<string, RaisedFinding>;
  setNow(ms: number): void;
}

export function memoryDeps(roles: ReadonlyMap<string, Role>, config: Partial<DetectorConfig> = {}): Memory {
  const counters = new Map<string, BucketCounts>();
  const keyed = new Map<string, Versioned<unknown>>();
  const raised = new Map<string, RaisedFinding>();
  const findings: Record<string, unknown>[] = [];
  const provenance = new Map<string, FindingProvenance>();
  let now = 0;
  const get = async <T>(key: string) => keyed.get(key) as Versioned<T> | undefined;
  const put = async (key: string, value: unknown, previous: number | undefined) => {
    const had = keyed.get(key);
    if ((had?.version ?? undefined) !== previous) return false;
    keyed.set(key, { value: structuredClone(value), version: (had?.version ?? 0) + 1 });
    return true;
  };
  const deps: DetectDeps = {
    counters: {
      async add(increments: readonly CounterIncrement[]) {
        for (const inc of increments) {
          const key = `${inc.thingName}#${String(inc.start).padStart(12, '0')}`;
          const b = counters.get(key) ?? {
            thingName: inc.thingName,
            start: inc.start,
            counts: emptyCounts(),
            disconnectReasons: {},
          };
          for (const [m, v] of Object.entries(inc.add)) {
            const metric = m as keyof typeof b.counts;
            b.counts[metric] = metric === 'maxBytes' ? Math.max(b.counts[metric], v) : b.counts[metric] + v;
          }
          for (const [r, v] of Object.entries(inc.disconnectReasons ?? {}))
            b.disconnectReasons[r] = (b.disconnectReasons[r] ?? 0) + v;
          const ips = new Set([...(ipsOf.get(key) ?? []), ...(inc.sourceIps ?? [])]);
          ipsOf.set(key, ips);
          b.counts.sourceIps = ips.size;
          counters.set(key, b);
        }
      },
      async between(thingName, from, to, limit) {
        const out: BucketCounts[] = [];
        for (let s = Math.max(from, to - limit * 3600); s <= to; s += 3600) {
          const b = counters.get(`${thingName}#${String(s).padStart(12, '0')}`);
          if (b !== undefined) out.push(structuredClone(b));
        }
        return out.slice(0, limit);
      },
    },
    state: {
      ecuBaseline: (t) => get(`ecu#${t}`),
      saveEcuBaseline: (t, v, p) => put(`ecu#${t}`, v, p),
      roleBaseline: (r) => get(`role#${r}`),
      saveRoleBaseline: (r, v, p) => put(`role#${r}`, v, p),
      presence: (t) => get(`presence#${t}`),
      savePresence: (t, v, p) => put(`presence#${t}`, v, p),
    },
    ledger: {
      async lastRaised(thingName, behaviour) {
        const r = raised.get(`${thingName}#${behaviour}`);
        return r === undefined ? undefined : structuredClone(r);
      },
      async claimRaise(next, previous) {
        const key = `${next.finding.thingName}#${next.finding.behaviour}`;
        if (raised.get(key)?.findingId !== previous?.findingId) return false;
        raised.set(key, structuredClone(next));
        return true;
      },
      async markImported(thingName, behaviour, findingId) {
        const r = raised.get(`${thingName}#${behaviour}`);
        if (r?.findingId === findingId) r.imported = true;
      },
    },
    roles: { roleOf: async (t) => roles.get(t) },
    provenance: {
      async write(record) {
        provenance.set(record.findingId, record);
      },
    },
    findings: {
      async import(finding) {
        const i = findings.findIndex((f) => f.Id === finding.Id);
        if (i >= 0) findings[i] = finding;
        else findings.push(finding);
      },
    },
    clock: { now: () => new Date(now) },
    config: {
      region: 'eu-west-1',
      partition: 'aws',
      accountId: '123456789012',
      roleSampleModulo: 8,
      ...config,
    },
  };
  const ipsOf = new Map<string, Set<string>>();
  return {
    deps,
    counters,
    findings,
    provenance,
    raised,
    setNow: (ms) => {
      now = ms;
    },
  };
}

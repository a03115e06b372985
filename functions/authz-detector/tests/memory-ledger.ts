import type { FindingProvenance } from '@cv/runtime';
import type { CountedFailure, FailureLedger, ProvenanceWriter, RaisedFinding } from '../src/ports.js';

/** The ledger's semantics in memory: items keyed by (certificate, event id), one raise marker per certificate. */
export class MemoryLedger implements FailureLedger {
  readonly events = new Map<string, number>();
  readonly markers = new Map<string, RaisedFinding>();
  /** Calls of record() that fail (after storing `partial` of their failures) before succeeding again. */
  failRecords: Array<{ partial: number }> = [];

  async record(cert: string, failures: readonly CountedFailure[]) {
    const fail = this.failRecords.shift();
    const upTo = fail === undefined ? failures.length : fail.partial;
    for (const f of failures.slice(0, upTo)) this.events.set(`${cert}|${f.eventId}`, f.at);
    if (fail !== undefined) throw new Error('ProvisionedThroughputExceededException');
  }
  async failuresBetween(cert: string, from: number, to: number) {
    return [...this.events]
      .filter(([k, at]) => k.startsWith(`${cert}|`) && at >= from && at <= to)
      .map(([, at]) => at)
      .sort((a, b) => a - b);
  }
  async lastRaised(cert: string) {
    const m = this.markers.get(cert);
    return m && { ...m };
  }
  async claimRaise(next: RaisedFinding, previous: RaisedFinding | undefined) {
    const current = this.markers.get(next.certificateId);
    if (current?.findingId !== previous?.findingId) return false;
    this.markers.set(next.certificateId, { ...next });
    return true;
  }
  async markImported(cert: string, findingId: string) {
    const m = this.markers.get(cert);
    if (m?.findingId === findingId) m.imported = true;
  }
  stored(cert: string): number {
    return [...this.events.keys()].filter((k) => k.startsWith(`${cert}|`)).length;
  }
}

export class MemoryProvenance implements ProvenanceWriter {
  readonly records = new Map<string, FindingProvenance>();
  async write(record: FindingProvenance) {
    this.records.set(record.findingId, record);
  }
}

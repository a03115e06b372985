/** Ports of the detector; src/adapters/*.ts implement them on DynamoDB and Security Hub. */
import type { FindingProvenance } from '@cv/runtime';
import type { BehaviourFinding } from './finding.js';
import type { BucketCounts, Metric, Role } from './model.js';
import type { PresenceState } from './rules.js';
import type { Baseline } from './stats.js';

/** Increments for one ECU and bucket, aggregated over a batch (one write per ECU and bucket). */
export interface CounterIncrement {
  thingName: string;
  start: number;
  add: Partial<Record<Metric, number>>;
  disconnectReasons?: Record<string, number>;
  sourceIps?: string[];
}

export interface CounterStore {
  /** Adds the increments (DynamoDB `ADD`: commutative, so concurrent writers need no lock). */
  add(increments: readonly CounterIncrement[]): Promise<void>;
  /** One ECU's stored buckets with `from <= start <= to`, ascending (at most `limit`). */
  between(thingName: string, from: number, to: number, limit: number): Promise<BucketCounts[]>;
}

/** A stored value with the version it was read at (optimistic concurrency: a write names the version it replaces). */
export interface Versioned<T> {
  value: T;
  version: number;
}

export interface StateStore {
  ecuBaseline(thingName: string): Promise<Versioned<Baseline & { lastFolded: number }> | undefined>;
  /** `false` when another invocation wrote first (the caller re-reads and retries). */
  saveEcuBaseline(
    thingName: string,
    value: Baseline & { lastFolded: number },
    previous: number | undefined,
  ): Promise<boolean>;
  roleBaseline(role: Role): Promise<Versioned<Baseline> | undefined>;
  saveRoleBaseline(role: Role, value: Baseline, previous: number | undefined): Promise<boolean>;
  presence(thingName: string): Promise<Versioned<PresenceState> | undefined>;
  savePresence(thingName: string, value: PresenceState, previous: number | undefined): Promise<boolean>;
}

/** The finding raised for one ECU and behaviour: the de-duplication and cool-down reference. */
export interface RaisedFinding {
  findingId: string;
  finding: BehaviourFinding;
  /** Epoch ms. */
  raisedAt: number;
  imported: boolean;
}

export interface FindingLedger {
  lastRaised(thingName: string, behaviour: string): Promise<RaisedFinding | undefined>;
  /** Records `next` only if the last one is still `previous` (of two racing raises, one wins). */
  claimRaise(next: RaisedFinding, previous: RaisedFinding | undefined): Promise<boolean>;
  markImported(thingName: string, behaviour: string, findingId: string): Promise<void>;
}

/** The ECU's role (ECU registry), or undefined for an ECU the registry does not know. */
export interface RoleDirectory {
  roleOf(thingName: string): Promise<Role | undefined>;
}

export interface ProvenanceWriter {
  write(record: FindingProvenance, expiresAt: number): Promise<void>;
}

export interface FindingImporter {
  import(finding: Record<string, unknown>): Promise<void>;
}

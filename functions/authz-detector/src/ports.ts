/** Ports of the detector; src/adapters/*.ts implement them on DynamoDB and Security Hub. */
import type { FindingProvenance } from '@cv/runtime';

/** One counted failure: its CloudWatch Logs event id (unique in the log group) and its time (epoch ms). */
export interface CountedFailure {
  eventId: string;
  at: number;
}

/** The finding raised for a certificate, kept until it is imported (and then as the cool-down reference). */
export interface RaisedFinding {
  certificateId: string;
  findingId: string;
  /** Epoch ms of the first and last failure the finding covers. */
  firstObservedAt: number;
  lastObservedAt: number;
  count: number;
  /** Epoch ms of the decision to raise (the finding's CreatedAt). */
  raisedAt: number;
  imported: boolean;
  eventTypes: string[];
  clientIds: string[];
  sourceIps: string[];
}

export interface FailureLedger {
  /**
   * Stores each failure under its log event id. Idempotent: the same event stored again (a redelivered batch, a
   * Lambda retry after a partial write) is the same item, so it counts once.
   */
  record(certificateId: string, failures: readonly CountedFailure[], expiresAt: number): Promise<void>;
  /** The times (epoch ms, ascending) of the certificate's stored failures with `from <= at <= to`. */
  failuresBetween(certificateId: string, from: number, to: number): Promise<number[]>;
  /** The last finding raised for the certificate, if any. */
  lastRaised(certificateId: string): Promise<RaisedFinding | undefined>;
  /**
   * Records a new finding for the certificate, only if the last one is still `previous` (optimistic concurrency:
   * of two invocations raising at once, one wins). `false` when another raise won.
   */
  claimRaise(next: RaisedFinding, previous: RaisedFinding | undefined, expiresAt: number): Promise<boolean>;
  /** Marks the certificate's finding `findingId` as imported into Security Hub. */
  markImported(certificateId: string, findingId: string): Promise<void>;
}

export interface ProvenanceWriter {
  /** Writes the provenance record of a finding before it is imported (idempotent: same record, same item). */
  write(record: FindingProvenance, expiresAt: number): Promise<void>;
}

export interface FindingImporter {
  /** BatchImportFindings of one finding (same Id = update of the existing finding). */
  import(finding: Record<string, unknown>): Promise<void>;
}

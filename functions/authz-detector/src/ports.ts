/** Ports of the detector; src/adapters/*.ts implement them on DynamoDB and Security Hub. */

export interface FailureCounter {
  /** Atomically adds `count` failures of the certificate to the bucket starting at `bucketStart` (epoch s). */
  add(certificateId: string, bucketStart: number, count: number, expiresAt: number): Promise<void>;
  /** Sum of the certificate's buckets starting at or after `from` (epoch s). */
  sumSince(certificateId: string, from: number): Promise<number>;
  /** Records that the finding of this window slot was imported; `false` when it already was. */
  markRaised(certificateId: string, slot: number, expiresAt: number): Promise<boolean>;
  /** Whether the finding of this window slot was already imported. */
  wasRaised(certificateId: string, slot: number): Promise<boolean>;
}

export interface FindingImporter {
  /** BatchImportFindings of one finding (same Id = update of the existing finding). */
  import(finding: Record<string, unknown>): Promise<void>;
}

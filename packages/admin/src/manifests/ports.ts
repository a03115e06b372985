/** Ports of the factory manifest import (src/manifests/import.ts). */

/** A registry row as the import writes it (the form cert-broker reads: docs/cert-lifecycle.md). */
export interface ManifestRegistryRow {
  readonly ecuId: string;
  readonly vin: string;
  readonly role: string;
  readonly supplierId: string;
  /** SHA-256 of the SPKI of the CA that issues the ECU's attestation certificate (the supplier binding). */
  readonly attestationIssuerKeySha256: string;
  /** SHA-256 of the ECU's attestation certificate, when the manifest gives it. */
  readonly attestationCertificateSha256?: string | undefined;
}

/** What the registry holds for an ECU id, as far as the import compares it. */
export interface ExistingBinding {
  readonly ecuId: string;
  readonly vin: string;
  readonly role: string;
  readonly status: string;
  readonly supplierId: string | undefined;
  readonly attestationIssuerKeySha256: string | undefined;
  readonly attestationCertificateSha256: string | undefined;
  /** The manifest that wrote the row (absent on rows written otherwise). */
  readonly manifestSha256?: string | undefined;
}

export interface ImportProvenance {
  readonly manifestSha256: string;
  readonly importedBy: string;
  readonly importedAt: string;
}

export interface RegistryImportPort {
  /** The rows that exist among `ecuIds` (at most 100), read consistently; unprocessed keys retried. */
  getMany(ecuIds: readonly string[]): Promise<Map<string, ExistingBinding>>;
  /**
   * Writes the row only if no row has its ecuId (a conditional write: of two importers racing on one ECU id, one
   * wins and the other sees its row).
   * @returns true when written, false when a row already exists.
   */
  putIfAbsent(row: ManifestRegistryRow, provenance: ImportProvenance): Promise<boolean>;
}

/** The manifest file: opened once to hash it and once to import it. */
export interface ManifestSource {
  readonly name: string;
  /** Size in bytes (for the progress bar). */
  readonly size: number;
  /** The bytes from offset `start` (default 0) to the end. */
  open(start?: number): AsyncIterable<Uint8Array>;
}

/** Where an interrupted import resumes: lines fully processed, and the counts so far, per manifest hash. */
export interface ImportCheckpoint {
  readonly manifestSha256: string;
  readonly lines: number;
  readonly bytes: number;
  readonly written: number;
  readonly unchanged: number;
  readonly refused: number;
  readonly refusedByReason: Readonly<Record<string, number>>;
}

export interface CheckpointPort {
  load(manifestSha256: string): Promise<ImportCheckpoint | undefined>;
  save(checkpoint: ImportCheckpoint): Promise<void>;
  clear(manifestSha256: string): Promise<void>;
}

/** One refused row, streamed out as it happens (the report keeps only counts and the first few). */
export interface RefusedRow {
  readonly line: number;
  readonly ecuId: string | undefined;
  readonly reason: string;
  readonly message: string;
}

export interface ImportObserver {
  progress(state: {
    bytes: number;
    totalBytes: number;
    lines: number;
    written: number;
    unchanged: number;
    refused: number;
  }): void;
  refused(row: RefusedRow): void | Promise<void>;
  done(): void | Promise<void>;
}

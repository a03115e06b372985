/**
 * The supplier directory: which attestation CAs each supplier has onboarded (src/adapters/suppliers.ts keeps it in
 * the suppliers table). Manifest import reads it; supplier add/retire write it.
 */

export type SupplierCaStatus = 'ACTIVE' | 'RETIRED';

export interface SupplierCa {
  readonly supplierId: string;
  /** SHA-256 (lowercase hex) of the CA certificate's SubjectPublicKeyInfo: the registry's `attestationIssuerKeySha256`. */
  readonly caKeySha256: string;
  /** SHA-256 (lowercase hex) of the CA certificate (DER). */
  readonly certificateSha256: string;
  readonly certificatePem: string;
  readonly subject: string;
  readonly notAfter: string;
  readonly status: SupplierCaStatus;
  readonly addedAt: string;
  readonly addedBy: string;
  readonly retiredAt?: string | undefined;
  readonly retiredBy?: string | undefined;
}

export interface SupplierDirectoryPort {
  /** Every CA of the supplier (ACTIVE and RETIRED); empty when the supplier is unknown. */
  casOf(supplierId: string): Promise<SupplierCa[]>;
  /** Every CA of every supplier (for the trust bundle and `supplier list`). */
  all(): Promise<SupplierCa[]>;
}

/** Writes of the suppliers table (conditional: a concurrent change makes them return false). */
export interface SupplierStorePort extends SupplierDirectoryPort {
  /** Adds the CA as ACTIVE unless an item for (supplier, key) exists. @returns false when it exists. */
  addCa(ca: SupplierCa): Promise<boolean>;
  /** Removes an item added by {@link addCa} (the compensation of a failed publication). */
  removeCa(supplierId: string, caKeySha256: string): Promise<void>;
  /** Sets the listed ACTIVE CAs RETIRED (only those still ACTIVE). */
  retireCas(supplierId: string, caKeySha256s: readonly string[], by: string, at: string): Promise<void>;
  /** Sets the listed RETIRED CAs ACTIVE again (the compensation of a failed retirement). */
  reactivateCas(supplierId: string, caKeySha256s: readonly string[]): Promise<void>;
  /**
   * Takes the suppliers lease (one publisher at a time: two operators adding suppliers at once would each publish
   * a bundle without the other's CA). @returns false while another owner holds an unexpired lease.
   */
  lock(owner: string, until: Date): Promise<boolean>;
  unlock(owner: string): Promise<void>;
}

/**
 * The three places the attestation trust lives: the broker's trust bundle (SSM parameter), the mTLS truststore
 * object (S3, versioned) and the custom domain's truststore version (API Gateway). src/suppliers/publish.ts changes
 * them together.
 */
export interface TrustPlacesPort {
  /** The trust bundle cert-broker reads (SSM parameter value). */
  readBundle(): Promise<string>;
  writeBundle(pem: string): Promise<void>;
  /** The truststore object version the domain is pinned to, and its URI. */
  pinnedTruststore(): Promise<{ uri: string; version: string | undefined }>;
  readTruststore(version: string): Promise<string>;
  /** Writes a new version of the truststore object. @returns its version id. */
  writeTruststore(pem: string): Promise<string>;
  deleteTruststoreVersion(version: string): Promise<void>;
  /** Pins the domain to this truststore object version. */
  pinTruststore(version: string): Promise<void>;
}

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

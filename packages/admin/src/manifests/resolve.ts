import type { SupplierCa, SupplierDirectoryPort } from '../suppliers/ports.js';
import type { ExistingBinding, ManifestRegistryRow } from './ports.js';
import type { ManifestRow } from './row.js';

export type Verdict =
  | { readonly kind: 'write'; readonly row: ManifestRegistryRow }
  | { readonly kind: 'unchanged' }
  | { readonly kind: 'refused'; readonly reason: string; readonly message: string };

const CACHE_LIMIT = 1000;

/** The supplier directory, read once per supplier per import (bounded: cleared past 1,000 suppliers). */
export class SupplierCache {
  private readonly cache = new Map<string, Promise<SupplierCa[]>>();
  constructor(private readonly directory: SupplierDirectoryPort) {}

  casOf(supplierId: string): Promise<SupplierCa[]> {
    let cas = this.cache.get(supplierId);
    if (cas === undefined) {
      if (this.cache.size >= CACHE_LIMIT) this.cache.clear();
      cas = this.directory.casOf(supplierId);
      this.cache.set(supplierId, cas);
    }
    return cas;
  }
}

const refused = (reason: string, message: string): Verdict => ({ kind: 'refused', reason, message });

/**
 * The registry row a manifest row asks for: its supplier binding is the key of one of the supplier's ACTIVE CAs
 * (the one the row names, or the supplier's only one). Refusals: `unknown_supplier`, `supplier_retired` (no ACTIVE CA,
 * or the named CA is retired), `issuer_not_of_supplier`, `issuer_ambiguous` (several ACTIVE CAs, none named).
 */
export async function bindingOf(row: ManifestRow, suppliers: SupplierCache): Promise<Verdict> {
  const cas = await suppliers.casOf(row.supplier);
  if (cas.length === 0) return refused('unknown_supplier', `supplier ${row.supplier} is not onboarded`);
  const active = cas.filter((c) => c.status === 'ACTIVE').map((c) => c.caKeySha256);
  let key = row.attestationIssuerKeySha256;
  if (key !== undefined) {
    if (!active.includes(key)) {
      return cas.some((c) => c.caKeySha256 === key)
        ? refused('supplier_retired', 'the named attestation CA is retired')
        : refused('issuer_not_of_supplier', `the named attestation CA is not one of ${row.supplier}'s`);
    }
  } else {
    if (active.length === 0) return refused('supplier_retired', `supplier ${row.supplier} is retired`);
    if (active.length > 1) {
      return refused('issuer_ambiguous', `${row.supplier} has several attestation CAs: name one`);
    }
    key = active[0];
  }
  if (key === undefined) return refused('supplier_retired', `supplier ${row.supplier} is retired`);
  return {
    kind: 'write',
    row: {
      ecuId: row.ecuId,
      vin: row.vin,
      role: row.role,
      supplierId: row.supplier,
      attestationIssuerKeySha256: key,
      ...(row.attestationCertificateSha256 === undefined
        ? {}
        : { attestationCertificateSha256: row.attestationCertificateSha256 }),
    },
  };
}

/**
 * A wanted row against the one the registry holds: the same binding is `unchanged` (nothing is written, a BLOCKED
 * ECU stays BLOCKED); anything else is refused and the existing row kept: `bound_to_other_vin`,
 * `bound_to_other_supplier`, `bound_to_other_issuer`, `role_mismatch`, `attestation_certificate_mismatch`,
 * `ecu_decommissioned`.
 */
export function compare(wanted: ManifestRegistryRow, existing: ExistingBinding): Verdict {
  if (existing.vin !== wanted.vin) {
    return refused('bound_to_other_vin', `ECU ${wanted.ecuId} is bound to another VIN`);
  }
  if (existing.supplierId !== undefined && existing.supplierId !== wanted.supplierId) {
    return refused('bound_to_other_supplier', `ECU ${wanted.ecuId} is bound to another supplier`);
  }
  if (existing.attestationIssuerKeySha256?.toLowerCase() !== wanted.attestationIssuerKeySha256) {
    return refused('bound_to_other_issuer', `ECU ${wanted.ecuId} is bound to another attestation CA`);
  }
  if (existing.role !== wanted.role) return refused('role_mismatch', `ECU ${wanted.ecuId} has another role`);
  if (
    wanted.attestationCertificateSha256 !== undefined &&
    existing.attestationCertificateSha256 !== undefined &&
    existing.attestationCertificateSha256.toLowerCase() !== wanted.attestationCertificateSha256
  ) {
    return refused(
      'attestation_certificate_mismatch',
      `ECU ${wanted.ecuId} has another attestation certificate`,
    );
  }
  if (existing.status === 'DECOMMISSIONED') {
    return refused('ecu_decommissioned', `ECU ${wanted.ecuId} is decommissioned`);
  }
  return { kind: 'unchanged' };
}

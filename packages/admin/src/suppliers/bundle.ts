import { createHash } from 'node:crypto';
import { parseCertificates } from '@cv/crypto/x509';
import type { SupplierCa } from './ports.js';

/** The SSM parameter's limit (Intelligent-Tiering lets it become Advanced: 8 KiB). */
export const MAX_BUNDLE_BYTES = 8192;

export const spkiSha256 = (spki: Uint8Array) => createHash('sha256').update(spki).digest('hex');

/**
 * The trust bundle with the suppliers table applied: the certificates of the current bundle that the table does
 * not manage (neither ACTIVE nor RETIRED there: e.g. the CAs the stack was deployed with) are kept in their order,
 * then every ACTIVE CA of the table, by supplier and key. A RETIRED CA is left out even when the current bundle
 * has it. Same input, same bytes: publishing it twice changes nothing.
 *
 * @example renderBundle(await places.readBundle(), await store.all())
 */
export function renderBundle(current: string, cas: readonly SupplierCa[]): string {
  const managed = new Set(cas.map((c) => c.caKeySha256));
  const kept = current.includes('-----BEGIN')
    ? parseCertificates(current).filter((c) => !managed.has(spkiSha256(c.spki)))
    : [];
  const seen = new Set<string>();
  const pems: string[] = [];
  for (const c of kept) {
    if (seen.has(c.fingerprintSha256)) continue;
    seen.add(c.fingerprintSha256);
    pems.push(c.pem.trim());
  }
  const active = cas
    .filter((c) => c.status === 'ACTIVE')
    .sort((a, b) => a.supplierId.localeCompare(b.supplierId) || a.caKeySha256.localeCompare(b.caKeySha256));
  for (const c of active) pems.push(c.certificatePem.trim());
  return pems.length === 0 ? '' : `${pems.join('\n')}\n`;
}

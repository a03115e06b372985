import { randomUUID } from 'node:crypto';
import { type AuditLogPort, audited } from '../audit.js';
import { AdminError, InvalidInputError, NotFoundError, RefusedError } from '../errors.js';
import { SUPPLIER_ID } from '../manifests/row.js';
import type { CallerPort, Clock } from '../ports.js';
import { MAX_BUNDLE_BYTES, renderBundle, spkiSha256 } from './bundle.js';
import { checkSupplierCa } from './check.js';
import type { SupplierCa, SupplierStorePort, TrustPlacesPort } from './ports.js';
import { publishBundle } from './publish.js';

export interface SupplierDeps {
  readonly supplierStore: SupplierStorePort;
  readonly trustPlaces: TrustPlacesPort;
  readonly caller: CallerPort;
  readonly clock: Clock;
  readonly audit: AuditLogPort;
}

/** A supplier CA as `supplier list` and the use cases report it (the PEM left out). */
export type SupplierCaView = Omit<SupplierCa, 'certificatePem'>;

export interface SupplierResult {
  readonly outcome: 'added' | 'retired' | 'unchanged';
  readonly supplierId: string;
  readonly cas: readonly SupplierCaView[];
  /** Whether the trust places had to be (re)written. */
  readonly trust: 'published' | 'unchanged';
}

const LEASE_MS = 60_000;
const SHA256 = /^[0-9a-fA-F]{64}$/;
const isAdminError = (e: unknown): e is AdminError => e instanceof AdminError;
const view = ({ certificatePem: _, ...rest }: SupplierCa): SupplierCaView => rest;

function supplierIdOf(value: string): string {
  if (!SUPPLIER_ID.test(value)) {
    throw new InvalidInputError(
      'supplierId',
      'supplier id must be 2 to 63 of a-z, 0-9 and -, starting alphanumeric',
    );
  }
  return value;
}

/** Runs `fn` holding the suppliers lease; refuses (`busy`) while another operator holds it. */
async function exclusively<T>(deps: SupplierDeps, fn: () => Promise<T>): Promise<T> {
  const owner = randomUUID();
  if (!(await deps.supplierStore.lock(owner, new Date(deps.clock.now().getTime() + LEASE_MS)))) {
    throw new RefusedError('busy', 'another supplier change is in progress: try again in a minute');
  }
  try {
    return await fn();
  } finally {
    await deps.supplierStore.unlock(owner);
  }
}

async function bundleWith(deps: SupplierDeps, cas: readonly SupplierCa[]): Promise<string> {
  const bundle = renderBundle(await deps.trustPlaces.readBundle(), cas);
  if (Buffer.byteLength(bundle, 'utf8') > MAX_BUNDLE_BYTES) {
    throw new RefusedError(
      'bundle_too_large',
      'the trust bundle would exceed the SSM parameter limit of 8 KiB',
    );
  }
  return bundle;
}

/**
 * Onboards a supplier's attestation CA: checks it ({@link checkSupplierCa}), then publishes the trust bundle with it
 * (broker's SSM parameter, mTLS truststore object and the domain's pinned version, all or nothing) and records it
 * ACTIVE in the suppliers table. Refuses a CA another supplier has (`ca_of_other_supplier`) or one that was retired
 * (`ca_retired`). Re-adding an ACTIVE CA is `unchanged` (and republishes if the places drifted). Audited as
 * `supplier.add`.
 *
 * @example await addSupplierCa({ supplierId: 'acme', certificatePem }, deps);
 */
export async function addSupplierCa(
  input: { readonly supplierId: string; readonly certificatePem: string },
  deps: SupplierDeps,
): Promise<SupplierResult> {
  const actor = await deps.caller.whoAmI();
  const ctx = { audit: deps.audit, actor, now: () => deps.clock.now() };
  return audited(
    ctx,
    'supplier.add',
    `supplier:${input.supplierId.slice(0, 63)}`,
    () =>
      exclusively(deps, async () => {
        const supplierId = supplierIdOf(input.supplierId);
        const now = deps.clock.now();
        const cert = checkSupplierCa(input.certificatePem, now);
        const ca: SupplierCa = {
          supplierId,
          caKeySha256: spkiSha256(cert.spki),
          certificateSha256: cert.fingerprintSha256,
          certificatePem: cert.pem,
          subject: cert.subject,
          notAfter: cert.notAfter.toISOString(),
          status: 'ACTIVE',
          addedAt: now.toISOString(),
          addedBy: actor,
        };
        const all = await deps.supplierStore.all();
        const same = all.filter((c) => c.caKeySha256 === ca.caKeySha256);
        if (same.some((c) => c.supplierId !== supplierId)) {
          throw new RefusedError('ca_of_other_supplier', 'this CA key is onboarded for another supplier');
        }
        const existing = same[0];
        if (existing?.status === 'RETIRED') {
          throw new RefusedError('ca_retired', 'this CA was retired; a retired CA is not trusted again');
        }
        const cas = existing === undefined ? [...all, ca] : all;
        const trust = await publishBundle(
          await bundleWith(deps, cas),
          deps.trustPlaces,
          existing === undefined
            ? {
                run: async () => {
                  if (!(await deps.supplierStore.addCa(ca))) {
                    throw new RefusedError('concurrent_change', 'the supplier changed meanwhile: run again');
                  }
                },
                undo: () => deps.supplierStore.removeCa(supplierId, ca.caKeySha256),
              }
            : undefined,
        );
        const result: SupplierResult = {
          outcome: existing === undefined ? 'added' : 'unchanged',
          supplierId,
          cas: (await deps.supplierStore.casOf(supplierId)).map(view),
          trust,
        };
        return {
          outcome: existing === undefined || trust === 'published' ? 'succeeded' : 'unchanged',
          result,
          detail: {
            caKeySha256: ca.caKeySha256,
            certificateSha256: ca.certificateSha256,
            notAfter: ca.notAfter,
            trust,
          },
        };
      }),
    isAdminError,
  );
}

/**
 * Retires a supplier's attestation CAs (all of them, or the one `caKeySha256` names): the trust bundle and the mTLS
 * truststore are published without them (all or nothing) and the table marks them RETIRED, so no new ECU of the
 * supplier can enrol and no manifest row can bind to them. Registry rows and the operational certificates of its
 * ECUs are not touched. Retiring what is already retired is `unchanged`. Audited as `supplier.retire`.
 *
 * @example await retireSupplier({ supplierId: 'acme' }, deps);
 */
export async function retireSupplier(
  input: { readonly supplierId: string; readonly caKeySha256?: string | undefined },
  deps: SupplierDeps,
): Promise<SupplierResult> {
  const actor = await deps.caller.whoAmI();
  const ctx = { audit: deps.audit, actor, now: () => deps.clock.now() };
  return audited(
    ctx,
    'supplier.retire',
    `supplier:${input.supplierId.slice(0, 63)}`,
    () =>
      exclusively(deps, async () => {
        const supplierId = supplierIdOf(input.supplierId);
        const named = input.caKeySha256;
        if (named !== undefined && !SHA256.test(named)) {
          throw new InvalidInputError('caKeySha256', 'the CA key must be 64 hex digits');
        }
        const all = await deps.supplierStore.all();
        const mine = all.filter(
          (c) =>
            c.supplierId === supplierId && (named === undefined || c.caKeySha256 === named.toLowerCase()),
        );
        if (mine.length === 0) throw new NotFoundError(`supplier ${supplierId} has no such attestation CA`);
        const retiring = mine.filter((c) => c.status === 'ACTIVE').map((c) => c.caKeySha256);
        const at = deps.clock.now().toISOString();
        const after = all.map((c) =>
          retiring.includes(c.caKeySha256) && c.supplierId === supplierId
            ? { ...c, status: 'RETIRED' as const, retiredAt: at, retiredBy: actor }
            : c,
        );
        const trust = await publishBundle(
          await bundleWith(deps, after),
          deps.trustPlaces,
          retiring.length === 0
            ? undefined
            : {
                run: () => deps.supplierStore.retireCas(supplierId, retiring, actor, at),
                undo: () => deps.supplierStore.reactivateCas(supplierId, retiring),
              },
        );
        const result: SupplierResult = {
          outcome: retiring.length === 0 ? 'unchanged' : 'retired',
          supplierId,
          cas: (await deps.supplierStore.casOf(supplierId)).map(view),
          trust,
        };
        return {
          outcome: retiring.length > 0 || trust === 'published' ? 'succeeded' : 'unchanged',
          result,
          detail: { retired: retiring.length, trust },
        };
      }),
    isAdminError,
  );
}

/** Every supplier CA (ACTIVE and RETIRED), without the PEM. */
export async function listSuppliers(
  deps: Pick<SupplierDeps, 'supplierStore'>,
): Promise<{ cas: SupplierCaView[] }> {
  return { cas: (await deps.supplierStore.all()).map(view) };
}

/**
 * The trust bundle as cv-admin keeps it: the published bundle (the broker's SSM parameter) with the suppliers
 * table applied, i.e. what the stage's `attestationTrustBundle` file must hold so that the next `serverless deploy`
 * keeps every onboarded CA and no retired one (the deploy guard, serverless/plugins/trust-bundle-drift.cjs,
 * refuses a bundle that would undo either). Read-only: not audited.
 *
 * @example const { bundle } = await exportBundle(deps); await writeFile('certs/prod/attestation-cas.pem', bundle);
 */
export async function exportBundle(
  deps: Pick<SupplierDeps, 'supplierStore' | 'trustPlaces'>,
): Promise<{ bundle: string; certificates: number; bytes: number }> {
  const bundle = renderBundle(await deps.trustPlaces.readBundle(), await deps.supplierStore.all());
  return {
    bundle,
    certificates: (bundle.match(/-----BEGIN CERTIFICATE-----/g) ?? []).length,
    bytes: Buffer.byteLength(bundle, 'utf8'),
  };
}

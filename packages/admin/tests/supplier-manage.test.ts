/**
 * addSupplierCa / retireSupplier against in-memory trust places and store: the three places change together or not
 * at all (a failure at each step is injected), refusals write nothing, re-runs converge, and retiring leaves
 * everything but the trust alone.
 */
import { parseCertificates } from '@cv/crypto/x509';
import { beforeAll, describe, expect, it } from 'vitest';
import type { AdminAuditEntry } from '../src/audit.js';
import { spkiSha256 } from '../src/suppliers/bundle.js';
import { addSupplierCa, listSuppliers, retireSupplier, type SupplierDeps } from '../src/suppliers/manage.js';
import { FakePlaces, FakeStore, makeCa, type Step } from './supplier-fakes.js';

let deployed: string; // a CA the stack was deployed with (not in the suppliers table)
let acme: string;
let acme2: string;
let bosco: string;
const keyOf = (pem: string) => spkiSha256(parseCertificates(pem)[0]?.spki ?? Buffer.alloc(0));
const keysIn = (bundle: string) =>
  bundle.trim() === '' ? [] : parseCertificates(bundle).map((c) => spkiSha256(c.spki));

beforeAll(async () => {
  [deployed, acme, acme2, bosco] = await Promise.all([
    makeCa({ name: 'CN=Factory CA' }),
    makeCa({ name: 'CN=Acme CA' }),
    makeCa({ name: 'CN=Acme CA 2' }),
    makeCa({ name: 'CN=Bosco CA' }),
  ]);
});

function world() {
  const places = new FakePlaces(deployed);
  const store = new FakeStore();
  const audit: AdminAuditEntry[] = [];
  const deps: SupplierDeps = {
    supplierStore: store,
    trustPlaces: places,
    caller: { whoAmI: async () => 'arn:aws:iam::123456789012:role/ops' },
    clock: { now: () => new Date() },
    audit: { record: async (e) => void audit.push(e) },
  };
  return { places, store, audit, deps };
}

describe('addSupplierCa', () => {
  it('trusts the CA in all three places at once, keeps the deployed CAs, records it ACTIVE and audits it', async () => {
    const { places, store, audit, deps } = world();

    const out = await addSupplierCa({ supplierId: 'acme', certificatePem: acme }, deps);

    expect(out).toMatchObject({ outcome: 'added', supplierId: 'acme', trust: 'published' });
    expect(keysIn(places.bundle)).toEqual([keyOf(deployed), keyOf(acme)]);
    expect(places.versions.get(places.pinned ?? '')).toBe(places.bundle);
    expect((await store.all()).map((c) => [c.supplierId, c.caKeySha256, c.status])).toEqual([
      ['acme', keyOf(acme), 'ACTIVE'],
    ]);
    expect(audit).toMatchObject([
      {
        action: 'supplier.add',
        target: 'supplier:acme',
        outcome: 'succeeded',
        actor: 'arn:aws:iam::123456789012:role/ops',
      },
    ]);
    expect(JSON.stringify(audit)).not.toContain('BEGIN');
  });

  it('a re-run is unchanged: no new truststore version, nothing rewritten', async () => {
    const { places, audit, deps } = world();
    await addSupplierCa({ supplierId: 'acme', certificatePem: acme }, deps);
    const before = places.snapshot();

    const again = await addSupplierCa({ supplierId: 'acme', certificatePem: acme }, deps);

    expect(again).toMatchObject({ outcome: 'unchanged', trust: 'unchanged' });
    expect(places.snapshot()).toEqual(before);
    expect(audit.map((a) => a.outcome)).toEqual(['succeeded', 'unchanged']);
  });

  it.each<Step>(['writeTruststore', 'pinTruststore', 'writeBundle', 'addCa'])(
    'a failure at %s leaves every place as it was; the re-run then completes',
    async (step) => {
      const { places, store, audit, deps } = world();
      await addSupplierCa({ supplierId: 'bosco', certificatePem: bosco }, deps);
      const before = places.snapshot();
      places.failOn.add(step as never);
      store.failOn.add(step);

      await expect(addSupplierCa({ supplierId: 'acme', certificatePem: acme }, deps)).rejects.toThrow();

      expect(places.snapshot()).toEqual(before);
      expect((await store.all()).map((c) => c.supplierId)).toEqual(['bosco']);
      expect(audit.at(-1)).toMatchObject({ outcome: 'failed', target: 'supplier:acme' });
      expect(store.lockedBy).toBeUndefined();
      places.failOn.clear();
      store.failOn.clear();
      await addSupplierCa({ supplierId: 'acme', certificatePem: acme }, deps);
      expect(keysIn(places.bundle)).toEqual([keyOf(deployed), keyOf(acme), keyOf(bosco)]);
      expect(places.versions.get(places.pinned ?? '')).toBe(places.bundle);
    },
  );

  it('refusals publish nothing and store nothing: bad id, bad CA, CA of another supplier, retired CA, busy', async () => {
    const { places, store, audit, deps } = world();
    await addSupplierCa({ supplierId: 'acme', certificatePem: acme }, deps);
    await retireSupplier({ supplierId: 'acme' }, deps);
    await addSupplierCa({ supplierId: 'bosco', certificatePem: bosco }, deps);
    const before = places.snapshot();
    const items = structuredClone([...store.items]);
    const notCa = await makeCa({ ca: false });

    const attempts: [Parameters<typeof addSupplierCa>[0], string][] = [
      [{ supplierId: 'Acme Corp', certificatePem: acme2 }, 'invalid_input'],
      [{ supplierId: 'acme', certificatePem: notCa }, 'ca_not_ca'],
      [{ supplierId: 'acme', certificatePem: bosco }, 'ca_of_other_supplier'],
      [{ supplierId: 'acme', certificatePem: acme }, 'ca_retired'],
    ];
    for (const [input, code] of attempts) {
      await expect(addSupplierCa(input, deps)).rejects.toMatchObject({ code });
    }
    store.lockedBy = { owner: 'other-operator', until: new Date(Date.now() + 60_000) };
    await expect(addSupplierCa({ supplierId: 'acme', certificatePem: acme2 }, deps)).rejects.toMatchObject({
      code: 'busy',
    });

    expect(places.snapshot()).toEqual(before);
    expect([...store.items]).toEqual(items);
    expect(audit.slice(-5).map((a) => [a.outcome, a.detail?.reason])).toEqual([
      ['refused', 'invalid_input'],
      ['refused', 'ca_not_ca'],
      ['refused', 'ca_of_other_supplier'],
      ['refused', 'ca_retired'],
      ['refused', 'busy'],
    ]);
  });

  it('refuses a CA that would push the bundle past the SSM limit (8 KiB), nothing written', async () => {
    const { places, deps } = world();
    const big = await Promise.all(
      Array.from({ length: 12 }, (_, i) => makeCa({ name: `CN=Supplier ${i}`, key: 'RSA-2048' })),
    );
    let refused = false;
    for (const [i, pem] of big.entries()) {
      const before = places.snapshot();
      try {
        await addSupplierCa({ supplierId: `supplier-${i}`, certificatePem: pem }, deps);
      } catch (error) {
        expect(error).toMatchObject({ code: 'bundle_too_large' });
        expect(places.snapshot()).toEqual(before);
        refused = true;
        break;
      }
    }

    expect(refused).toBe(true);
    expect(Buffer.byteLength(places.bundle)).toBeLessThanOrEqual(8192);
  });
});

describe('retireSupplier', () => {
  it('takes the CA out of all three places and marks it RETIRED; other suppliers and deployed CAs stay', async () => {
    const { places, store, deps } = world();
    await addSupplierCa({ supplierId: 'acme', certificatePem: acme }, deps);
    await addSupplierCa({ supplierId: 'acme', certificatePem: acme2 }, deps);
    await addSupplierCa({ supplierId: 'bosco', certificatePem: bosco }, deps);

    const out = await retireSupplier({ supplierId: 'acme' }, deps);
    const again = await retireSupplier({ supplierId: 'acme' }, deps);

    expect(out).toMatchObject({ outcome: 'retired', trust: 'published' });
    expect(again).toMatchObject({ outcome: 'unchanged', trust: 'unchanged' });
    expect(keysIn(places.bundle)).toEqual([keyOf(deployed), keyOf(bosco)]);
    expect(places.versions.get(places.pinned ?? '')).toBe(places.bundle);
    expect((await store.casOf('acme')).map((c) => c.status)).toEqual(['RETIRED', 'RETIRED']);
    expect((await listSuppliers(deps)).cas.map((c) => `${c.supplierId}:${c.status}`).sort()).toEqual([
      'acme:RETIRED',
      'acme:RETIRED',
      'bosco:ACTIVE',
    ]);
  });

  it.each<Step>(['writeTruststore', 'pinTruststore', 'writeBundle', 'retireCas'])(
    'a failure at %s leaves the CA trusted everywhere and ACTIVE',
    async (step) => {
      const { places, store, deps } = world();
      await addSupplierCa({ supplierId: 'acme', certificatePem: acme }, deps);
      const before = places.snapshot();
      places.failOn.add(step as never);
      store.failOn.add(step);

      await expect(retireSupplier({ supplierId: 'acme' }, deps)).rejects.toThrow();

      expect(places.snapshot()).toEqual(before);
      expect((await store.casOf('acme')).map((c) => c.status)).toEqual(['ACTIVE']);
    },
  );

  it('retires only the named CA; an unknown supplier or CA is not found', async () => {
    const { places, deps } = world();
    await addSupplierCa({ supplierId: 'acme', certificatePem: acme }, deps);
    await addSupplierCa({ supplierId: 'acme', certificatePem: acme2 }, deps);

    await retireSupplier({ supplierId: 'acme', caKeySha256: keyOf(acme).toUpperCase() }, deps);

    expect(keysIn(places.bundle)).toEqual([keyOf(deployed), keyOf(acme2)]);
    await expect(retireSupplier({ supplierId: 'nobody' }, deps)).rejects.toMatchObject({ code: 'not_found' });
    await expect(
      retireSupplier({ supplierId: 'acme', caKeySha256: 'ab'.repeat(32) }, deps),
    ).rejects.toMatchObject({
      code: 'not_found',
    });
  });
});

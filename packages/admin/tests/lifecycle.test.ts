/**
 * The ECU lifecycle against in-memory ports (tests/lifecycle-world.ts): block, unblock, replace, decommission of an
 * ECU and of a vehicle. Each is idempotent, and each is safe to re-run after a failure injected at every mutating
 * step, before the change or after it (the change made, the answer lost): the re-run converges to the state of an
 * uninterrupted run, and both attempts are on the audit trail.
 */
import { describe, expect, it } from 'vitest';
import { InvalidInputError, NotFoundError, RefusedError } from '../src/errors.js';
import { blockEcu, unblockEcu } from '../src/lifecycle/block.js';
import { decommissionEcu, decommissionVehicle } from '../src/lifecycle/decommission.js';
import { replaceEcu } from '../src/lifecycle/replace.js';
import { World } from './lifecycle-world.js';

const VIN = 'WVWZZZ1JZXW000042';
const OTHER_VIN = 'WVWZZZ1JZXW000043';

function fleetWorld(): World {
  const w = new World();
  w.ecu(VIN, 'GW-1', 'gateway', { certs: 2 });
  w.ecu(VIN, 'TCU-1', 'telematics', { certs: 1 });
  w.ecu(VIN, 'ADAS-1', 'adas', { enrolled: false });
  w.ecu(VIN, 'TCU-2', 'telematics', { enrolled: false });
  w.ecu(OTHER_VIN, 'GW-9', 'gateway', { certs: 1 });
  w.markers.set(VIN, { owner: 'alice', grantees: ['alice', 'bob'], version: 2 });
  w.access.set(`alice|${VIN}`, { role: 'owner' });
  w.access.set(`bob|${VIN}`, { role: 'driver' });
  return w;
}

async function refusal(p: Promise<unknown>): Promise<string> {
  const e = await p.then(
    () => undefined,
    (error: unknown) => error,
  );
  if (e instanceof RefusedError || e instanceof InvalidInputError || e instanceof NotFoundError)
    return e.code;
  throw new Error(`expected a refusal, got ${String(e)}`);
}

describe('decommission an ECU', () => {
  it('certificates INACTIVE then revoked at the CA then REVOKED in IoT, detached, thing deleted, row DECOMMISSIONED; a re-run is unchanged', async () => {
    const w = fleetWorld();
    const thing = `${VIN}_GW-1`;
    const certs = [...(w.things.get(thing)?.certs ?? [])];

    const out = await decommissionEcu({ ecuId: 'GW-1', reason: 'scrapped' }, w.deps());
    const again = await decommissionEcu({ ecuId: 'GW-1' }, w.deps());

    expect(out).toMatchObject({
      outcome: 'decommissioned',
      thingName: thing,
      revokedAtCa: certs,
      notIssuedByCa: [],
    });
    expect(again.outcome).toBe('unchanged');
    expect(w.rows.get('GW-1')).toMatchObject({
      status: 'DECOMMISSIONED',
      decommissionedAt: '2026-12-03T12:00:00.000Z',
    });
    expect(w.things.has(thing)).toBe(false);
    for (const id of certs) expect(w.certs.get(id)?.status).toBe('REVOKED');
    expect(w.revokedAtCa.size).toBe(2);
    // Order: nothing can connect (INACTIVE) before the CA is asked; REVOKED in IoT only after the CA revoked it.
    const first = certs[0]?.slice(0, 6);
    expect(
      w.log.filter((l) => l.includes(first ?? '?') || l.startsWith('pca') || l.startsWith('transition')),
    ).toEqual([
      'transition GW-1 DECOMMISSIONED',
      `cert ${first} INACTIVE`,
      'pca revoke 0A000001',
      `cert ${first} REVOKED`,
      'pca revoke 0A000002',
      `detach ${first}`,
    ]);
    // Other ECUs and vehicles untouched.
    expect(w.rows.get('TCU-1')?.status).toBe('ACTIVE');
    expect(w.certs.get([...(w.things.get(`${OTHER_VIN}_GW-9`)?.certs ?? [])][0] ?? '')?.status).toBe(
      'ACTIVE',
    );
    expect(w.audit.map((e) => [e.action, e.target, e.outcome])).toEqual([
      ['ecu.decommission', 'ecu:GW-1', 'succeeded'],
      ['ecu.decommission', 'ecu:GW-1', 'unchanged'],
    ]);
  });

  it.each(['before', 'after'] as const)(
    'a failure injected %s each mutating step, then a re-run: the same end state as an uninterrupted run',
    async (mode) => {
      const reference = fleetWorld();
      await decommissionEcu({ ecuId: 'GW-1' }, reference.deps());
      const steps = reference.mutations;
      // transition, remember, certificate 1 (INACTIVE, CA, REVOKED), certificate 2 (already INACTIVE: CA, REVOKED),
      // 2 detach, delete, complete
      expect(steps).toBe(11);

      for (let k = 1; k <= steps; k++) {
        const w = fleetWorld();
        w.failAt = k;
        w.failMode = mode;
        await expect(decommissionEcu({ ecuId: 'GW-1' }, w.deps()), `step ${k}`).rejects.toThrow(/injected/);
        w.failAt = 0;
        const rerun = await decommissionEcu({ ecuId: 'GW-1' }, w.deps());
        // Only when the last step was done and its answer lost has the re-run nothing left to do.
        const last = mode === 'after' && k === steps;
        expect(rerun.outcome, `step ${k}`).toBe(last ? 'unchanged' : 'decommissioned');
        expect(w.snapshot(), `step ${k} ${mode}`).toEqual(reference.snapshot());
        expect(w.audit.map((e) => e.outcome)).toEqual(['failed', last ? 'unchanged' : 'succeeded']);
      }
    },
  );

  it('an ECU that never enrolled (no thing) is decommissioned too; unknown and malformed ids are refused with nothing changed', async () => {
    const w = fleetWorld();
    expect((await decommissionEcu({ ecuId: 'ADAS-1' }, w.deps())).outcome).toBe('decommissioned');
    expect(w.rows.get('ADAS-1')?.status).toBe('DECOMMISSIONED');
    const before = w.snapshot();
    expect(await refusal(decommissionEcu({ ecuId: 'NOPE-1' }, w.deps()))).toBe('not_found');
    for (const ecuId of ['', '../GW-1', 'GW-1 ', 'GW_1', 'x'.repeat(41), 7]) {
      expect(await refusal(decommissionEcu({ ecuId }, w.deps()))).toBe('invalid_input');
    }
    expect(w.snapshot()).toEqual(before);
  });

  it('a certificate the CA did not issue is still deactivated and marked REVOKED in IoT, and reported', async () => {
    const w = fleetWorld();
    const id = [...(w.things.get(`${VIN}_TCU-1`)?.certs ?? [])][0] ?? '';
    w.issuedByCa.delete(w.certs.get(id)?.serial ?? '');
    const out = await decommissionEcu({ ecuId: 'TCU-1' }, w.deps());
    expect(out.notIssuedByCa).toEqual([id]);
    expect(w.certs.get(id)?.status).toBe('REVOKED');
  });
});

describe('decommission a vehicle', () => {
  it("every ECU retired and every user's access revoked; after a failure at any step a re-run completes it", async () => {
    const reference = fleetWorld();
    const out = await decommissionVehicle({ vin: VIN }, reference.deps());
    expect(out.ecus.map((e) => [e.ecuId, e.outcome]).sort()).toEqual([
      ['ADAS-1', 'decommissioned'],
      ['GW-1', 'decommissioned'],
      ['TCU-1', 'decommissioned'],
      ['TCU-2', 'decommissioned'],
    ]);
    expect(out.revokedUsers).toEqual(['alice', 'bob']);
    expect([...reference.access.keys()]).toEqual([]);
    expect(reference.markers.get(VIN)).toMatchObject({ grantees: [] });
    expect(reference.markers.get(VIN)?.owner).toBeUndefined();
    expect(reference.rows.get('GW-9')?.status).toBe('ACTIVE');
    expect((await decommissionVehicle({ vin: VIN }, reference.deps())).outcome).toBe('unchanged');

    for (const mode of ['before', 'after'] as const) {
      for (let k = 1; k <= reference.mutations; k++) {
        const w = fleetWorld();
        w.failAt = k;
        w.failMode = mode;
        const failed = await decommissionVehicle({ vin: VIN }, w.deps()).then(
          () => false,
          () => true,
        );
        if (!failed) continue; // k beyond this run's steps
        w.failAt = 0;
        await decommissionVehicle({ vin: VIN }, w.deps());
        const clean = fleetWorld();
        await decommissionVehicle({ vin: VIN }, clean.deps());
        expect(w.snapshot(), `step ${k} ${mode}`).toEqual(clean.snapshot());
      }
    }
  });
});

describe('block and unblock', () => {
  it('block: BLOCKED and quarantined, certificates untouched; unblock: ACTIVE, still quarantined until released; re-runs unchanged', async () => {
    const w = fleetWorld();
    const thing = `${VIN}_TCU-1`;
    const certs = () => [...(w.things.get(thing)?.certs ?? [])].map((id) => w.certs.get(id)?.status);

    const blocked = await blockEcu({ ecuId: 'TCU-1', reason: 'INC-7' }, w.deps());
    expect(blocked).toEqual({ outcome: 'blocked', ecuId: 'TCU-1', status: 'BLOCKED', quarantined: true });
    expect(w.rows.get('TCU-1')).toMatchObject({ status: 'BLOCKED', statusReason: 'INC-7' });
    expect(certs()).toEqual(['ACTIVE']);
    expect((await blockEcu({ ecuId: 'TCU-1' }, w.deps())).outcome).toBe('unchanged');

    const unblocked = await unblockEcu({ ecuId: 'TCU-1' }, w.deps());
    expect(unblocked).toEqual({ outcome: 'unblocked', ecuId: 'TCU-1', status: 'ACTIVE', quarantined: true });
    expect((await unblockEcu({ ecuId: 'TCU-1' }, w.deps())).outcome).toBe('unchanged');
    expect(w.audit.map((e) => [e.action, e.outcome])).toEqual([
      ['ecu.block', 'succeeded'],
      ['ecu.block', 'unchanged'],
      ['ecu.unblock', 'succeeded'],
      ['ecu.unblock', 'unchanged'],
    ]);
  });

  it('block after a failure between the registry and the quarantine: the re-run quarantines', async () => {
    const w = fleetWorld();
    w.failAt = 2;
    await expect(blockEcu({ ecuId: 'GW-1' }, w.deps())).rejects.toThrow(/injected/);
    expect(w.rows.get('GW-1')?.status).toBe('BLOCKED');
    w.failAt = 0;
    expect((await blockEcu({ ecuId: 'GW-1' }, w.deps())).outcome).toBe('blocked');
    expect(w.things.get(`${VIN}_GW-1`)?.groups.has('quarantine')).toBe(true);
  });

  it('a decommissioned ECU cannot be blocked or unblocked back to life', async () => {
    const w = fleetWorld();
    await decommissionEcu({ ecuId: 'TCU-1' }, w.deps());
    expect(await refusal(unblockEcu({ ecuId: 'TCU-1' }, w.deps()))).toBe('ecu_decommissioned');
    expect(await refusal(blockEcu({ ecuId: 'TCU-1' }, w.deps()))).toBe('ecu_decommissioned');
    expect(w.rows.get('TCU-1')?.status).toBe('DECOMMISSIONED');
  });
});

describe('replace an ECU', () => {
  it('links the rows and decommissions the old ECU; a re-run is unchanged; a failure at any step then a re-run converges', async () => {
    const reference = fleetWorld();
    const out = await replaceEcu({ vin: VIN, ecuId: 'TCU-1', newEcuId: 'TCU-2' }, reference.deps());
    expect(out).toMatchObject({ outcome: 'replaced', role: 'telematics', replacement: 'TCU-2' });
    expect(reference.rows.get('TCU-1')).toMatchObject({ status: 'DECOMMISSIONED', replacedBy: 'TCU-2' });
    expect(reference.rows.get('TCU-2')).toMatchObject({ status: 'ACTIVE', replaces: 'TCU-1' });
    expect(
      (await replaceEcu({ vin: VIN, ecuId: 'TCU-1', newEcuId: 'TCU-2' }, reference.deps())).outcome,
    ).toBe('unchanged');
    for (const mode of ['before', 'after'] as const) {
      for (let k = 1; k <= reference.mutations; k++) {
        const w = fleetWorld();
        w.failAt = k;
        w.failMode = mode;
        const failed = await replaceEcu({ vin: VIN, ecuId: 'TCU-1', newEcuId: 'TCU-2' }, w.deps()).then(
          () => false,
          () => true,
        );
        if (!failed) continue;
        w.failAt = 0;
        await replaceEcu({ vin: VIN, ecuId: 'TCU-1', newEcuId: 'TCU-2' }, w.deps());
        const clean = fleetWorld();
        await replaceEcu({ vin: VIN, ecuId: 'TCU-1', newEcuId: 'TCU-2' }, clean.deps());
        expect(w.snapshot(), `step ${k} ${mode}`).toEqual(clean.snapshot());
      }
    }
  });

  it("refusals change nothing: another vehicle's ECU, another role, an unknown or inactive replacement, itself, already replaced", async () => {
    const w = fleetWorld();
    w.ecu(VIN, 'TCU-3', 'telematics', { enrolled: false, status: 'BLOCKED' });
    w.ecu(VIN, 'TCU-4', 'telematics', { enrolled: false });
    const before = w.snapshot();
    const cases: Array<[Record<string, unknown>, string]> = [
      [{ vin: OTHER_VIN, ecuId: 'TCU-1', newEcuId: 'TCU-2' }, 'not_found'],
      [{ vin: VIN, ecuId: 'GW-9', newEcuId: 'TCU-2' }, 'not_found'],
      [{ vin: VIN, ecuId: 'GW-1', newEcuId: 'TCU-2' }, 'role_mismatch'],
      [{ vin: VIN, ecuId: 'TCU-1', newEcuId: 'TCU-404' }, 'not_found'],
      [{ vin: VIN, ecuId: 'TCU-1', newEcuId: 'GW-9' }, 'not_found'],
      [{ vin: VIN, ecuId: 'TCU-1', newEcuId: 'TCU-3' }, 'ecu_not_active'],
      [{ vin: VIN, ecuId: 'TCU-1', newEcuId: 'TCU-1' }, 'same_ecu'],
      [{ vin: VIN.toLowerCase(), ecuId: 'TCU-1', newEcuId: 'TCU-2' }, 'invalid_input'],
    ];
    for (const [input, code] of cases) {
      expect(await refusal(replaceEcu(input as never, w.deps())), JSON.stringify(input)).toBe(code);
    }
    expect(w.snapshot()).toEqual(before);
    await replaceEcu({ vin: VIN, ecuId: 'TCU-1', newEcuId: 'TCU-2' }, w.deps());
    expect(await refusal(replaceEcu({ vin: VIN, ecuId: 'TCU-1', newEcuId: 'TCU-4' }, w.deps()))).toBe(
      'already_replaced',
    );
  });
});

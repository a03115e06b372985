/** releaseFromQuarantine against in-memory fakes of its ports: what is released, what is refused, what is recorded. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { AdminAuditEntry } from '../src/audit.js';
import { InvalidInputError, NotFoundError, RefusedError } from '../src/errors.js';
import type { ActionRecord, EcuRow } from '../src/ports.js';
import { type ReleaseDeps, releaseFromQuarantine } from '../src/quarantine/release.js';

const VIN = 'WVWZZZ1JZXW000009';
const ECU = 'TCU-00009';
const THING = `${VIN}_${ECU}`;
const OLD = 'd'.repeat(64);
const NEW = 'e'.repeat(64);

function world(
  over: { row?: Partial<EcuRow> | null; certs?: Record<string, string>; quarantined?: boolean } = {},
) {
  const state = {
    row:
      over.row === null
        ? undefined
        : ({
            ecuId: ECU,
            vin: VIN,
            status: 'ACTIVE',
            thingName: THING,
            rotationMethod: 'reenrol',
            rotationRequestedAt: '2026-12-01T10:00:00.000Z',
            rotationRetiredCertificateIds: [OLD],
            ...over.row,
          } as EcuRow),
    quarantined: over.quarantined ?? true,
    certs: over.certs ?? { [OLD]: 'REVOKED', [NEW]: 'ACTIVE' },
    records: [] as ActionRecord[],
    audit: [] as AdminAuditEntry[],
    calls: [] as string[],
    failRelease: 0,
  };
  const deps: ReleaseDeps = {
    registry: {
      get: async (id) => (state.row?.ecuId === id ? state.row : undefined),
      recordQuarantineRelease: async (_id, thing, record) => {
        state.calls.push('record');
        if (state.row?.thingName !== thing) return false;
        state.records.push(record);
        return true;
      },
    },
    quarantine: {
      isQuarantined: async () => state.quarantined,
      release: async () => {
        state.calls.push('release');
        if (state.failRelease > 0) {
          state.failRelease -= 1;
          throw new Error('ThrottlingException');
        }
        state.quarantined = false;
      },
    },
    certificates: {
      certificatesOf: async () =>
        Object.entries(state.certs).map(([certificateId, status]) => ({ certificateId, status })),
    },
    caller: { whoAmI: async () => 'arn:aws:iam::123456789012:user/operator' },
    audit: { record: async (entry) => void state.audit.push(entry) },
    clock: { now: () => new Date('2026-12-03T09:00:00.000Z') },
  };
  return { state, deps };
}

describe('releaseFromQuarantine', () => {
  it('re-enrolled ECU: leaves the quarantine group, the release recorded with who, when and why', async () => {
    const { state, deps } = world();

    const out = await releaseFromQuarantine({ thingName: THING, reason: 'INC-4711 closed' }, deps);

    expect(out).toEqual({
      outcome: 'released',
      thingName: THING,
      releasedBy: 'arn:aws:iam::123456789012:user/operator',
      releasedAt: '2026-12-03T09:00:00.000Z',
      activeCertificateIds: [NEW],
    });
    expect(state.quarantined).toBe(false);
    expect(state.records).toEqual([
      {
        by: 'arn:aws:iam::123456789012:user/operator',
        at: new Date('2026-12-03T09:00:00.000Z'),
        reason: 'INC-4711 closed',
      },
    ]);
    expect(state.calls).toEqual(['record', 'release']);
    expect(state.audit.map((e) => [e.action, e.target, e.outcome, e.actor])).toEqual([
      ['quarantine.release', `thing:${THING}`, 'succeeded', 'arn:aws:iam::123456789012:user/operator'],
    ]);
  });

  it('every attempt is on the audit trail: released, unchanged, refused', async () => {
    const { state, deps } = world();
    await releaseFromQuarantine({ thingName: THING }, deps);
    await releaseFromQuarantine({ thingName: THING }, deps);
    await releaseFromQuarantine({ thingName: 'not a thing' }, deps).catch(() => undefined);
    expect(state.audit.map((e) => [e.target, e.outcome, e.detail?.reason ?? ''])).toEqual([
      [`thing:${THING}`, 'succeeded', ''],
      [`thing:${THING}`, 'unchanged', ''],
      ['thing:invalid', 'refused', 'invalid_input'],
    ]);
  });

  it('a second release changes nothing and records nothing (not-quarantined)', async () => {
    const { state, deps } = world();
    await releaseFromQuarantine({ thingName: THING }, deps);

    const again = await releaseFromQuarantine({ thingName: THING }, deps);

    expect(again).toEqual({ outcome: 'not-quarantined', thingName: THING });
    expect(state.records).toHaveLength(1);
    expect(state.calls).toEqual(['record', 'release']);
  });

  it('a release that failed after recording completes on the re-run', async () => {
    const { state, deps } = world();
    state.failRelease = 1;

    await expect(releaseFromQuarantine({ thingName: THING }, deps)).rejects.toThrow('ThrottlingException');
    expect(state.quarantined).toBe(true);
    const again = await releaseFromQuarantine({ thingName: THING }, deps);

    expect(again.outcome).toBe('released');
    expect(state.quarantined).toBe(false);
    expect(state.records).toHaveLength(2);
  });

  it('refuses while a certificate the rotation retired is ACTIVE: stays quarantined, nothing recorded', async () => {
    const { state, deps } = world({ certs: { [OLD]: 'ACTIVE', [NEW]: 'ACTIVE' } });

    const attempt = releaseFromQuarantine({ thingName: THING }, deps);

    await expect(attempt).rejects.toBeInstanceOf(RefusedError);
    await expect(attempt).rejects.toMatchObject({ code: 'compromised_certificate_active' });
    expect(state.quarantined).toBe(true);
    expect(state.calls).toEqual([]);
  });

  it.each([
    ['no certificate at all', {}],
    ['only the revoked copy', { [OLD]: 'REVOKED' }],
    ['a new certificate still pending activation', { [OLD]: 'REVOKED', [NEW]: 'PENDING_ACTIVATION' }],
  ])('refuses before the ECU re-enrolled (%s): stays quarantined, nothing recorded', async (_, certs) => {
    const { state, deps } = world({ certs });

    await expect(releaseFromQuarantine({ thingName: THING }, deps)).rejects.toMatchObject({
      code: 'not_reenrolled',
    });
    expect(state.quarantined).toBe(true);
    expect(state.calls).toEqual([]);
  });

  it.each(['BLOCKED', 'DECOMMISSIONED'])(
    'refuses an ECU whose registry row is %s: stays quarantined, nothing recorded',
    async (status) => {
      const { state, deps } = world({ row: { status } });

      await expect(releaseFromQuarantine({ thingName: THING }, deps)).rejects.toMatchObject({
        code: 'ecu_not_active',
      });
      expect(state.quarantined).toBe(true);
      expect(state.calls).toEqual([]);
    },
  );

  it('a quarantine without rotation (behaviour violation) is released even with its certificate INACTIVE', async () => {
    const { state, deps } = world({
      row: { rotationMethod: undefined, rotationRetiredCertificateIds: [] },
      certs: { [OLD]: 'INACTIVE' },
    });

    await expect(releaseFromQuarantine({ thingName: THING }, deps)).resolves.toMatchObject({
      outcome: 'released',
    });
    expect(state.quarantined).toBe(false);
  });

  it.each([
    ['no registry row', { row: null }],
    ['a row bound to another thing', { row: { thingName: `1HGCM82633A004352_${ECU}` } }],
    ['a row of another vehicle', { row: { vin: '1HGCM82633A004352' } }],
    ['a row never enrolled', { row: { thingName: undefined } }],
  ] as const)('%s: not found, nothing touched', async (_, over) => {
    const { state, deps } = world(over as never);

    await expect(releaseFromQuarantine({ thingName: THING }, deps)).rejects.toBeInstanceOf(NotFoundError);
    expect(state.quarantined).toBe(true);
    expect(state.calls).toEqual([]);
  });

  it('any thing name that is not <VIN>_<ecuId>, and any unprintable or oversized reason, is refused before a call', async () => {
    const thingName = /^[A-HJ-NPR-Z0-9]{17}_[A-Za-z0-9-]{1,40}$/;
    await fc.assert(
      fc.asyncProperty(fc.string({ maxLength: 80 }), async (name) => {
        fc.pre(!thingName.test(name));
        const { state, deps } = world();
        await expect(releaseFromQuarantine({ thingName: name }, deps)).rejects.toBeInstanceOf(
          InvalidInputError,
        );
        expect(state.calls).toEqual([]);
      }),
    );
    for (const reason of ['', 'x'.repeat(513), 'line\nbreak', 'nul\u0000']) {
      const { state, deps } = world();
      await expect(releaseFromQuarantine({ thingName: THING, reason }, deps)).rejects.toMatchObject({
        field: 'reason',
      });
      expect(state.calls).toEqual([]);
    }
  });
});

/** The use cases against in-memory fakes of their ports (no SDK, no module mocking). */
import { describe, expect, it } from 'vitest';
import type { Plan, StepResult } from '../src/plan.js';
import type { AlertLedgerPort, AlertPort, IotPort, PolicyAnalyzerPort, TicketPort } from '../src/ports.js';
import { closeFinding, closingNote, closingStatus } from '../src/steps/close-finding.js';
import { deactivateCertificate } from '../src/steps/deactivate-certificate.js';
import { canonical, fixPolicy } from '../src/steps/fix-policy.js';
import { notify } from '../src/steps/notify.js';
import { openTicket } from '../src/steps/open-ticket.js';
import { quarantine } from '../src/steps/quarantine.js';
import { rotateCertificate } from '../src/steps/rotate-certificate.js';

const CERT = 'a'.repeat(64);
const plan = (over: Partial<Plan> = {}): Plan => ({
  findingId: 'f-1',
  productArn: 'arn:aws:securityhub:eu-west-1::product/aws/iot-device-defender-audit',
  check: 'DEVICE_CERTIFICATE_SHARED_CHECK',
  severity: 'CRITICAL',
  actions: ['quarantine', 'deactivateCertificate', 'rotateCertificate', 'notify', 'openTicket'],
  ...over,
});

class FakeIot implements Partial<IotPort> {
  calls: string[] = [];
  members = new Map<string, Set<string>>();
  groupPolicies = new Set<string>();
  certs = new Map<string, { status: string; things: string[] }>();
  async thingsForCertificate(id: string) {
    return this.certs.get(id)?.things ?? [];
  }
  async certificatesForThing(thing: string) {
    return [...this.certs].filter(([, c]) => c.things.includes(thing)).map(([id]) => id);
  }
  async thingGroupsOf(thing: string) {
    return [...(this.members.get(thing) ?? [])];
  }
  async addThingToGroup(thing: string, group: string) {
    this.calls.push(`add ${thing}`);
    this.members.set(thing, new Set([...(this.members.get(thing) ?? []), group]));
  }
  async groupHasPolicy(policy: string) {
    return this.groupPolicies.has(policy);
  }
  async attachPolicyToGroup(policy: string) {
    this.calls.push(`attach ${policy}`);
    this.groupPolicies.add(policy);
  }
  async describeCertificate(id: string) {
    const c = this.certs.get(id);
    return c && { status: c.status, pem: '' };
  }
  async setCertificateStatus(id: string, status: 'INACTIVE' | 'REVOKED') {
    this.calls.push(`${status} ${id}`);
    const c = this.certs.get(id);
    if (c) c.status = status;
  }
}

/** The alert ledger's semantics (claim unless sent or freshly claimed; lease 120 s), in memory. */
export class MemoryLedger implements AlertLedgerPort {
  readonly rows = new Map<string, { claimedAt: number; sentAt?: number; messageId?: string }>();
  async claim(key: string, _findingId: string, now: Date) {
    const row = this.rows.get(key);
    const t = now.getTime() / 1000;
    if (row?.sentAt !== undefined) return { state: 'sent' as const, messageId: row.messageId ?? '' };
    if (row !== undefined && row.claimedAt >= t - 120) return { state: 'busy' as const };
    this.rows.set(key, { claimedAt: t });
    return { state: 'claimed' as const };
  }
  async markSent(key: string, messageId: string, now: Date) {
    const row = this.rows.get(key);
    if (row) Object.assign(row, { sentAt: now.getTime() / 1000, messageId });
  }
}

describe('quarantine (use case)', () => {
  it('quarantines every thing a shared certificate is attached to, once', async () => {
    const iot = new FakeIot();
    iot.certs.set(CERT, { status: 'ACTIVE', things: ['VIN00000000000001_A', 'VIN00000000000002_B'] });
    const deps = { iot: iot as unknown as IotPort, quarantineGroup: 'q', quarantinePolicy: 'deny-all' };

    const first = await quarantine({ plan: plan({ certificateId: CERT }), results: [] }, deps);
    const second = await quarantine({ plan: plan({ certificateId: CERT }), results: [] }, deps);

    expect(iot.calls).toEqual(['attach deny-all', 'add VIN00000000000001_A', 'add VIN00000000000002_B']);
    expect(first.outcome).toBe('changed');
    expect(second).toMatchObject({
      outcome: 'unchanged',
      data: { alreadyQuarantined: ['VIN00000000000001_A', 'VIN00000000000002_B'] },
    });
  });

  it('says so when the certificate is attached to no thing', async () => {
    const iot = new FakeIot();
    iot.groupPolicies.add('deny-all');

    const r = await quarantine(
      { plan: plan({ certificateId: CERT }), results: [] },
      {
        iot: iot as unknown as IotPort,
        quarantineGroup: 'q',
        quarantinePolicy: 'deny-all',
      },
    );

    expect(r).toMatchObject({ outcome: 'unchanged' });
    expect(iot.calls).toEqual([]);
  });
});

describe('deactivateCertificate (use case)', () => {
  it('a gone certificate is nothing to deactivate', async () => {
    const iot = new FakeIot();

    const r = await deactivateCertificate(
      { plan: plan({ certificateId: CERT }), results: [] },
      { iot: iot as unknown as IotPort },
    );

    expect(r.outcome).toBe('unchanged');
    expect(iot.calls).toEqual([]);
  });
});

describe('rotateCertificate (use case)', () => {
  it('creates no job for a certificate attached to no thing', async () => {
    const calls: string[] = [];
    const iot = {
      ...new FakeIot(),
      thingsForCertificate: async () => [],
      createJob: async () => {
        calls.push('job');
        return 'created' as const;
      },
    };

    const r = await rotateCertificate(
      { plan: plan({ certificateId: CERT }), results: [] },
      {
        iot: iot as unknown as IotPort,
        registry: { markRotationRequested: async () => 'marked' },
        clock: { now: () => new Date(0) },
      },
    );

    expect(r.outcome).toBe('unchanged');
    expect(calls).toEqual([]);
  });
});

describe('fixPolicy (use case)', () => {
  const broad = { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 'iot:*', Resource: '*' }] };
  const good = {
    Version: '2012-10-17',
    Statement: [{ Effect: 'Allow', Action: 'iot:Connect', Resource: 'x' }],
  };
  const analyzer: PolicyAnalyzerPort = {
    analyze: (doc) => (canonical(doc) === canonical(good) ? [] : [{ code: 'WILDCARD_ACTION' }]),
    roleFromPolicyName: (name) => (name.startsWith('cv-security-dev-ecu-') ? name.slice(20) : undefined),
    proposeLeastPrivilege: () => good,
  };
  function iotWith(doc: unknown, versions: number, unparsable = false) {
    const calls: string[] = [];
    const iot = {
      getPolicy: async () => ({
        defaultVersionId: '1',
        document: unparsable ? '{not json' : JSON.stringify(doc),
      }),
      listPolicyVersions: async () =>
        Array.from({ length: versions }, (_, i) => ({ versionId: String(i + 1), isDefault: i === 0 })),
      deletePolicyVersion: async (_: string, v: string) => void calls.push(`delete ${v}`),
      createDefaultPolicyVersion: async (_: string, d: string) => {
        calls.push(`create ${d}`);
        return { versionId: '9' };
      },
    };
    return { iot: iot as unknown as IotPort, calls };
  }

  it('prunes the oldest non-default version (by id when dates are missing) at the limit', async () => {
    const { iot, calls } = iotWith(broad, 5);

    await fixPolicy(
      { plan: plan({ policyName: 'cv-security-dev-ecu-body' }), results: [] },
      { iot, policies: analyzer },
    );

    expect(calls).toEqual(['delete 2', `create ${JSON.stringify(good)}`]);
  });

  it('treats an unparsable default version as not least-privilege', async () => {
    const { iot, calls } = iotWith(undefined, 1, true);

    const r = await fixPolicy(
      { plan: plan({ policyName: 'cv-security-dev-ecu-body' }), results: [] },
      { iot, policies: analyzer },
    );

    expect(r.outcome).toBe('changed');
    expect(r.data?.problems).toEqual(['UNPARSABLE']);
    expect(calls).toHaveLength(1);
  });

  it('declines a policy that is not ours, whatever its problems', async () => {
    const { iot, calls } = iotWith(broad, 5);

    const r = await fixPolicy(
      { plan: plan({ policyName: 'partner-policy' }), results: [] },
      { iot, policies: analyzer },
    );

    expect(r.outcome).toBe('declined');
    expect(calls).toEqual([]);
  });
});

describe('notify (use case)', () => {
  it('keeps the subject to 100 printable ASCII characters', async () => {
    const sent: Array<{ subject: string }> = [];
    const alerts: AlertPort = {
      publish: async (a) => {
        sent.push(a);
        return { messageId: 'm' };
      },
    };

    await notify(
      { plan: plan({ check: `X${'é\n'.repeat(80)}` }), results: [] },
      { alerts, ledger: new MemoryLedger(), clock: { now: () => new Date(0) } },
    );

    expect(sent[0]?.subject).toMatch(/^[\x20-\x7e]{1,100}$/);
  });
});

describe('openTicket (use case)', () => {
  it('puts what was done so far in the ticket and maps severity', async () => {
    const created: Array<{ description: string; severity: string }> = [];
    const tickets: TicketPort = {
      findOpen: async () => undefined,
      create: async (t) => {
        created.push(t);
        return { opsItemId: 'oi-1', created: true };
      },
    };
    const results: StepResult[] = [{ action: 'quarantine', outcome: 'changed', detail: 'added to q' }];

    await openTicket({ plan: plan({ severity: 'HIGH' }), results }, { tickets });

    expect(created[0]?.severity).toBe('2');
    expect(created[0]?.description).toContain('quarantine=changed (added to q)');
  });
});

describe('closeFinding (use case)', () => {
  it('RESOLVED only when an automatic fix ran and none was declined', () => {
    const base = { plan: plan({ actions: ['fixPolicy', 'notify', 'openTicket'] }) };

    expect(
      closingStatus({ ...base, results: [{ action: 'fixPolicy', outcome: 'changed', detail: '' }] }),
    ).toBe('RESOLVED');
    expect(
      closingStatus({ ...base, results: [{ action: 'fixPolicy', outcome: 'declined', detail: '' }] }),
    ).toBe('NOTIFIED');
    expect(closingStatus({ plan: plan({ actions: ['openTicket'] }), results: [] })).toBe('NOTIFIED');
  });

  it('keeps the note within 512 characters', async () => {
    const results: StepResult[] = Array.from({ length: 40 }, () => ({
      action: 'notify',
      outcome: 'changed',
      detail: 'x',
    }));
    const updates: Array<{ note: string }> = [];

    await closeFinding(
      { plan: plan(), results },
      { findings: { update: async (u) => void updates.push(u) } },
    );

    expect(updates[0]?.note.length).toBeLessThanOrEqual(512);
    expect(
      closingNote({ plan: plan(), results: [], failure: { error: 'E', message: 'm'.repeat(1000) } }).length,
    ).toBe(512);
  });
});

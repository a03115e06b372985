/**
 * Rotation that reaches the genuine ECU (issue 12 item 11): for a copied operational key the playbook revokes the
 * certificate at the CA and rotates by re-enrolment, never by a job the quarantined ECU cannot receive; the steps act
 * on the certificates the finding concerned, never on the certificate the genuine ECU obtained by re-enrolling while
 * the execution ran. Use cases against in-memory fakes; certificates are real (openssl).
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { PLAYBOOK } from '../src/classify.js';
import type { Plan, StepResult } from '../src/plan.js';
import type { IotPort, RegistryPort, RotationRequest } from '../src/ports.js';
import { deactivateCertificate } from '../src/steps/deactivate-certificate.js';
import { quarantine } from '../src/steps/quarantine.js';
import { revokeCertificate } from '../src/steps/revoke-certificate.js';
import { rotateCertificate, rotationMethod } from '../src/steps/rotate-certificate.js';
import { opensslCertificate } from './harness.js';

const THING = 'WVWZZZ1JZXW000007_TCU-00007';
const OLD = 'b'.repeat(64);
const NEW = 'c'.repeat(64);
const COMPROMISE = [...(PLAYBOOK.DEVICE_CERTIFICATE_SHARED_CHECK ?? [])];

const plan = (over: Partial<Plan>): Plan => ({
  findingId: 'finding-rotation-1',
  productArn: 'arn:aws:securityhub:eu-west-1::product/aws/iot-device-defender-audit',
  check: 'CONFLICTING_CLIENT_IDS_CHECK',
  actions: COMPROMISE,
  ...over,
});

/** IoT as the steps see it: certificates with status, PEM and the things they are attached to. */
class World implements Partial<IotPort> {
  calls: string[] = [];
  groups = new Map<string, Set<string>>();
  certs = new Map<string, { status: string; pem: string; things: string[] }>();
  revokedSerials: string[] = [];
  async thingsForCertificate(id: string) {
    return this.certs.get(id)?.things ?? [];
  }
  async certificatesForThing(thing: string) {
    return [...this.certs].filter(([, c]) => c.things.includes(thing)).map(([id]) => id);
  }
  async thingGroupsOf(thing: string) {
    return [...(this.groups.get(thing) ?? [])];
  }
  async addThingToGroup(thing: string, group: string) {
    this.groups.set(thing, new Set([...(this.groups.get(thing) ?? []), group]));
  }
  async groupHasPolicy() {
    return true;
  }
  async attachPolicyToGroup() {}
  async describeCertificate(id: string) {
    const c = this.certs.get(id);
    return c && { status: c.status, pem: c.pem };
  }
  async setCertificateStatus(id: string, status: 'INACTIVE' | 'REVOKED') {
    this.calls.push(`${status} ${id}`);
    const c = this.certs.get(id);
    if (c) c.status = status;
  }
  async createJob(job: { jobId: string }) {
    this.calls.push(`job ${job.jobId}`);
    return 'created' as const;
  }
  /** What JITR does when the genuine ECU re-enrols: the new certificate ACTIVE, the old one detached. */
  reenrol(pem: string) {
    for (const c of this.certs.values()) c.things = c.things.filter((t) => t !== THING);
    this.certs.set(NEW, { status: 'ACTIVE', pem, things: [THING] });
  }
}

class Registry implements RegistryPort {
  marks: { thingName: string; rotation: RotationRequest }[] = [];
  async markRotationRequested(thingName: string, rotation: RotationRequest) {
    if (this.marks.some((m) => m.thingName === thingName && m.rotation.rotationId === rotation.rotationId)) {
      return 'already' as const;
    }
    this.marks.push({ thingName, rotation });
    return 'marked' as const;
  }
}

let oldPem: { pem: string; serial: string };
let newPem: { pem: string; serial: string };
beforeAll(() => {
  oldPem = opensslCertificate(THING);
  newPem = opensslCertificate(THING);
});

async function runPlan(p: Plan, world: World, registry: Registry, between?: (action: string) => void) {
  const results: StepResult[] = [];
  const iot = world as unknown as IotPort;
  const pca = {
    revoke: async (serial: string) => {
      world.revokedSerials.push(serial.replace(/:/g, '').toUpperCase());
      return 'revoked' as const;
    },
  };
  for (const action of p.actions) {
    const input = { plan: p, results };
    if (action === 'quarantine') {
      results.push(await quarantine(input, { iot, quarantineGroup: 'q', quarantinePolicy: 'deny' }));
    } else if (action === 'deactivateCertificate') {
      results.push(await deactivateCertificate(input, { iot }));
    } else if (action === 'revokeCertificate') {
      results.push(await revokeCertificate(input, { iot, pca }));
    } else if (action === 'rotateCertificate') {
      results.push(await rotateCertificate(input, { iot, registry, clock: { now: () => new Date(0) } }));
    }
    between?.(action);
  }
  return results;
}

describe('playbook: a copied operational key', () => {
  it('shared certificate and conflicting client ids: quarantine, deactivate, revoke at the CA, rotate, notify, ticket', () => {
    const expected = [
      'quarantine',
      'deactivateCertificate',
      'revokeCertificate',
      'rotateCertificate',
      'notify',
      'openTicket',
    ];
    expect(PLAYBOOK.DEVICE_CERTIFICATE_SHARED_CHECK).toEqual(expected);
    expect(PLAYBOOK.CONFLICTING_CLIENT_IDS_CHECK).toEqual(expected);
  });

  it('rotates by re-enrolment whenever the plan takes the certificate out of service, by job otherwise', () => {
    expect(rotationMethod(plan({}))).toBe('reenrol');
    expect(rotationMethod(plan({ actions: ['revokeCertificate', 'rotateCertificate'] }))).toBe('reenrol');
    expect(rotationMethod(plan({ actions: ['rotateCertificate', 'notify'] }))).toBe('job');
  });
});

describe('rotation by re-enrolment', () => {
  it('revokes the copied certificate at the CA and in IoT, creates no job, marks the registry with what it retired', async () => {
    const world = new World();
    world.certs.set(OLD, { status: 'ACTIVE', pem: oldPem.pem, things: [THING] });
    const registry = new Registry();

    const results = await runPlan(plan({ thingName: THING }), world, registry);

    expect(world.certs.get(OLD)?.status).toBe('REVOKED');
    expect(world.revokedSerials).toEqual([oldPem.serial]);
    expect(world.calls.filter((c) => c.startsWith('job'))).toEqual([]);
    expect(world.groups.get(THING)).toEqual(new Set(['q']));
    expect(registry.marks).toEqual([
      {
        thingName: THING,
        rotation: {
          rotationId: expect.stringMatching(/^cv-rotate-[0-9a-f]{40}$/),
          method: 'reenrol',
          retiredCertificateIds: [OLD],
        },
      },
    ]);
    expect(results.at(-1)).toMatchObject({ action: 'rotateCertificate', outcome: 'changed' });
  });

  it('the genuine ECU re-enrols right after the deactivation: its new certificate is neither revoked nor deactivated (thing-only finding)', async () => {
    const world = new World();
    world.certs.set(OLD, { status: 'ACTIVE', pem: oldPem.pem, things: [THING] });
    const registry = new Registry();

    await runPlan(plan({ thingName: THING }), world, registry, (action) => {
      if (action === 'deactivateCertificate') world.reenrol(newPem.pem);
    });

    expect(world.certs.get(NEW)?.status).toBe('ACTIVE');
    expect(world.revokedSerials).toEqual([oldPem.serial]);
    expect(world.calls).not.toContain(`REVOKED ${NEW}`);
    expect(registry.marks[0]?.rotation.retiredCertificateIds).toEqual([OLD]);
  });

  it('a shared certificate the re-enrolment already detached from its thing: the rotation still marks the quarantined thing', async () => {
    const world = new World();
    world.certs.set(OLD, { status: 'ACTIVE', pem: oldPem.pem, things: [THING] });
    const registry = new Registry();

    await runPlan(
      plan({ certificateId: OLD, check: 'DEVICE_CERTIFICATE_SHARED_CHECK' }),
      world,
      registry,
      (a) => {
        if (a === 'revokeCertificate') world.reenrol(newPem.pem);
      },
    );

    expect(registry.marks.map((m) => m.thingName)).toEqual([THING]);
    expect(world.certs.get(NEW)?.status).toBe('ACTIVE');
    expect(world.certs.get(OLD)?.status).toBe('REVOKED');
  });

  it('a thing without certificates: nothing revoked, no PCA call, no job', async () => {
    const world = new World();
    world.certs.set(OLD, { status: 'ACTIVE', pem: oldPem.pem, things: ['WVWZZZ1JZXW000008_OTHER-1'] });
    const registry = new Registry();

    const results = await runPlan(plan({ thingName: THING }), world, registry);

    expect(results.find((r) => r.action === 'revokeCertificate')).toMatchObject({
      outcome: 'unchanged',
      detail: 'no certificate to revoke',
    });
    expect(world.revokedSerials).toEqual([]);
    expect(world.certs.get(OLD)?.status).toBe('ACTIVE');
    expect(world.calls).toEqual([]);
  });

  it('a retry of the rotation changes nothing', async () => {
    const world = new World();
    world.certs.set(OLD, { status: 'ACTIVE', pem: oldPem.pem, things: [THING] });
    const registry = new Registry();
    const p = plan({ thingName: THING });
    const results = await runPlan(p, world, registry);
    const before = results.slice(0, -1);

    const again = await rotateCertificate(
      { plan: p, results: before },
      { iot: world as unknown as IotPort, registry, clock: { now: () => new Date(1) } },
    );

    expect(again).toMatchObject({ outcome: 'unchanged' });
    expect(registry.marks).toHaveLength(1);
    expect(world.calls.filter((c) => c.startsWith('job'))).toEqual([]);
  });

  it('an expiring certificate (still connected) is rotated by an IoT job, and nothing is retired', async () => {
    const world = new World();
    world.certs.set(OLD, { status: 'ACTIVE', pem: oldPem.pem, things: [THING] });
    const registry = new Registry();

    await runPlan(
      plan({
        certificateId: OLD,
        check: 'DEVICE_CERTIFICATE_EXPIRING_CHECK',
        actions: ['rotateCertificate'],
      }),
      world,
      registry,
    );

    expect(world.calls).toEqual([expect.stringMatching(/^job cv-rotate-/)]);
    expect(world.certs.get(OLD)?.status).toBe('ACTIVE');
    expect(registry.marks[0]?.rotation).toMatchObject({ method: 'job', retiredCertificateIds: [] });
  });
});

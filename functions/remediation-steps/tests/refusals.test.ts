/**
 * Issue 12 items 1, 2 and 4 through the whole state machine (serverless/stepfunctions.yml walked over the real step
 * handlers and a stateful fake of AWS): a refused finding (foreign resource, forged own-detector finding) alerts once,
 * is closed as NOTIFIED and touches no resource; any finding alerts once however often the workflow runs.
 */
import { ThrottlingException } from '@aws-sdk/client-dynamodb';
import fc from 'fast-check';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { CERT, loadEvent, THING } from './corpus.js';
import type { World } from './fake-aws.js';
import { context, GROUP, STEP_ENV } from './harness.js';
import { type Handlers, ownSampleProvenance, seededWorld, walk as walkMachine } from './machine.js';

let h: Handlers;
const saved = { ...process.env };
beforeAll(async () => {
  Object.assign(process.env, STEP_ENV);
  h = (await import('../src/handler.js')) as unknown as Handlers;
});
afterAll(() => {
  process.env = saved;
});
const ctx = context();
let world: World;
beforeEach(() => {
  world = seededWorld();
});
afterEach(() => world.dispose());
const walk = (event: unknown) => walkMachine(h, ctx, event);

type Finding = Record<string, unknown> & {
  ProductFields: Record<string, string>;
  Resources: Array<Record<string, unknown> & { Details?: { Other?: Record<string, string> } }>;
};
const findingOf = (event: Record<string, unknown>) =>
  (event.detail as { findings: Finding[] }).findings[0] as Finding;
const VICTIM = 'c0ffee00c0ffee00c0ffee00c0ffee00c0ffee00c0ffee00c0ffee00c0ffee00';
const ALERT = ['DynamoDB.UpdateItem', 'SNS.Publish', 'DynamoDB.UpdateItem'];

/** The end state of every resource the workflow could touch. */
function resources() {
  return {
    certs: structuredClone([...world.certs]),
    groups: structuredClone([...world.groups]),
    groupPolicies: structuredClone([...world.groupPolicies]),
    jobs: [...world.jobs.keys()],
    registry: structuredClone([...world.registry]),
    policies: structuredClone([...world.policies]),
    revoked: [...world.revokedSerials],
    tickets: world.opsItems.length,
  };
}

/** A refused run: classify, one alert, the finding closed NOTIFIED, and no call to IoT, PCA, SSM or the registry. */
async function expectRefused(event: Record<string, unknown>, code: string) {
  const before = resources();
  const findingId = String(findingOf(event).Id);

  const run = await walk(event);

  expect(run.status).toBe('SUCCEEDED');
  expect(run.tasks).toEqual(['classify', 'notify', 'closeFinding']);
  expect(world.log.filter((c) => !/^(DynamoDB\.GetItem|SNS\.Publish|DynamoDB\.UpdateItem)$/.test(c))).toEqual(
    ['SecurityHub.BatchUpdateFindings'],
  );
  expect(world.log.filter((c) => c !== 'DynamoDB.GetItem').slice(0, 3)).toEqual(ALERT);
  expect(resources()).toEqual(before);
  expect(world.certs.get(CERT)?.status).toBe('ACTIVE');
  expect(world.groups.get(THING)?.has(GROUP)).toBe(false);
  expect(world.alerts).toHaveLength(1);
  expect(JSON.parse(world.alerts[0]?.message ?? '{}')).toMatchObject({
    outcome: 'refused',
    refusal: { code },
    targets: {},
    plannedActions: ['notify'],
  });
  expect(world.alerts[0]?.subject).toContain('REFUSED');
  expect(world.findings.get(findingId)?.status).toBe('NOTIFIED');
  expect(world.findings.get(findingId)?.note).toContain(`REFUSED (${code})`);
}

describe('foreign resources (issue 12 item 1)', () => {
  it('a shared-certificate finding for another account’s certificate with our certificate’s id: refused, ours untouched', async () => {
    const event = loadEvent('audit-device-certificate-shared');
    const finding = findingOf(event);
    delete finding.ProductFields.DeviceCertificateId;
    delete finding.ProductFields['aws/securityhub/FindingId'];
    finding.Id = `123456789012/CERTIFICATE_SHARED/${CERT}`;
    finding.Resources = [
      { Type: 'AwsIotCertificate', Id: `arn:aws:iot:eu-west-2:999999999999:cert/${CERT}` },
    ];

    await expectRefused(event, 'foreign-resource');
  });

  it('a Detect violation whose thing ARN is another account’s: refused, our thing of that name untouched', async () => {
    const event = loadEvent('detect-authorization-failures');
    (findingOf(event).Resources[0]?.Details?.Other ?? {}).ThingArn =
      `arn:aws:iot:eu-west-1:999999999999:thing/${THING}`;

    await expectRefused(event, 'foreign-resource');
  });

  it('a CA-certificate ARN given as the device certificate: refused', async () => {
    const event = loadEvent('audit-revoked-device-certificate-still-active');
    const finding = findingOf(event);
    (finding.Resources[0] ?? {}).Id = `arn:aws:iot:eu-west-1:123456789012:cacert/${CERT}`;

    await expectRefused(event, 'foreign-resource');
  });
});

describe('forged own-detector findings (issue 12 item 2)', () => {
  /** A finding in authz-detector's form, imported by someone else, naming `cert`. */
  function forged(cert: string, id?: string) {
    const event = loadEvent('own-authz-detector-finding');
    const finding = findingOf(event);
    finding.Id = id ?? `cv-security/authz-detector/${cert}/2026-11-25T09:00:00.000Z`;
    finding.ProductFields.DeviceCertificateId = cert;
    finding.Resources = [
      {
        Type: 'AwsIotCertificate',
        Id: `arn:aws:iot:eu-west-1:123456789012:cert/${cert}`,
        Partition: 'aws',
        Region: 'eu-west-1',
        Details: { Other: { CertificateId: cert } },
      },
    ];
    return event;
  }

  it('the genuine finding (its provenance record matches) is remediated', async () => {
    const run = await walk(loadEvent('own-authz-detector-finding'));

    expect(run.tasks).toEqual([
      'classify',
      'quarantine',
      'deactivateCertificate',
      'notify',
      'openTicket',
      'closeFinding',
    ]);
    expect(world.certs.get(CERT)?.status).toBe('INACTIVE');
  });

  it('a look-alike finding with no provenance record: refused, the victim untouched', async () => {
    await expectRefused(forged(CERT), 'unverified-finding');
  });

  it('a genuine finding id re-imported naming a victim certificate: refused (the record names another one)', async () => {
    const [genuineId] = ownSampleProvenance();
    world.certs.set(VICTIM, {
      ...(world.certs.get(CERT) ?? { pem: '', serial: '', things: [] }),
      status: 'ACTIVE',
    });

    await expectRefused(forged(VICTIM, genuineId), 'unverified-finding');
    expect(world.certs.get(VICTIM)?.status).toBe('ACTIVE');
  });

  it('a record that names the same certificate under another generator does not vouch for it', async () => {
    const event = loadEvent('own-authz-detector-finding');
    findingOf(event).GeneratorId = 'cv-security/behaviour-detector';

    await expectRefused(event, 'unverified-finding');
  });

  it('a record whose targets differ in any way (another or an extra resource) does not vouch (property)', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.record(
          {
            certificateId: fc.constantFrom(CERT, VICTIM),
            thingName: fc.constantFrom(THING, 'WVWZZZ1JZXW000002_TCU-00001'),
            policyName: fc.constant('cv-security-dev-ecu-gateway'),
          },
          { requiredKeys: [] },
        ),
        async (targets) => {
          const matches = targets.certificateId === CERT && Object.keys(targets).length === 1;
          world.dispose();
          world = seededWorld();
          world.provenance.set(...ownSampleProvenance(targets));
          const run = await walk(loadEvent('own-authz-detector-finding'));
          return matches
            ? run.tasks.includes('quarantine')
            : run.tasks.join() === 'classify,notify,closeFinding';
        },
      ),
      { numRuns: 30 },
    );
  });

  it('a throttled provenance read is retried, never taken as "no record"', async () => {
    world.failNext.set('DynamoDB.GetItem', [
      new ThrottlingException({ message: 'slow down', $metadata: {} }),
    ]);

    const run = await walk(loadEvent('own-authz-detector-finding'));

    expect(world.log.filter((c) => c === 'DynamoDB.GetItem')).toHaveLength(2);
    expect(run.tasks).toContain('quarantine');
  });
});

describe('one finding, one alert (issue 12 item 4)', () => {
  it.each([
    'audit-device-certificate-shared',
    'detect-authorization-failures',
    'audit-ca-certificate-expiring',
  ])('%s: three executions, one SNS alert', async (name) => {
    const event = loadEvent(name);

    for (let i = 0; i < 3; i++) expect((await walk(event)).status).toBe('SUCCEEDED');

    expect(world.alerts).toHaveLength(1);
    expect(world.log.filter((c) => c === 'SNS.Publish')).toHaveLength(1);
  });

  it('a refused finding re-run: still one alert', async () => {
    const event = loadEvent('own-authz-detector-finding');
    world.provenance.clear();

    await walk(event);
    await walk(event);

    expect(world.alerts).toHaveLength(1);
  });

  it('the notify step retried by Lambda after it published: no second alert', async () => {
    const state = await h.classify?.(loadEvent('audit-ca-certificate-expiring'), ctx);

    await h.notify?.(state, ctx);
    const again = (await h.notify?.(state, ctx)) as { results: Array<{ outcome: string }> };

    expect(world.alerts).toHaveLength(1);
    expect(again.results.at(-1)?.outcome).toBe('unchanged');
  });

  it('the notify step retried when the refused claim returns no old item: the ledger is read, no second alert', async () => {
    world.ledgerReturnsOldItem = false;
    const state = await h.classify?.(loadEvent('audit-ca-certificate-expiring'), ctx);

    await h.notify?.(state, ctx);
    const again = (await h.notify?.(state, ctx)) as { results: Array<{ outcome: string }> };

    expect(world.alerts).toHaveLength(1);
    expect(world.log.filter((c) => c === 'SNS.Publish')).toHaveLength(1);
    expect(world.log).toContain('DynamoDB.GetItem');
    expect(again.results.at(-1)?.outcome).toBe('unchanged');
  });

  it('a failing workflow re-run: one failure alert', async () => {
    const event = loadEvent('detect-authorization-failures');
    const denied = () =>
      Object.assign(new Error('denied'), {
        name: 'AccessDeniedException',
        $metadata: { httpStatusCode: 403 },
      });
    world.failNext.set('IoT.AddThingToThingGroup', [denied(), denied()]);

    await walk(event);
    await walk(event);

    expect(world.alerts).toHaveLength(1);
    expect(JSON.parse(world.alerts[0]?.message ?? '{}')).toMatchObject({ outcome: 'failed' });
  });
});

/**
 * Issue 12 item 9: a repeated JITR event (AWS IoT raises it again whenever a pending
 * certificate reconnects, and the rule's delivery is at least once) must cost reads only
 * once everything is in place, and a partially completed earlier run gets exactly its
 * missing steps. Call counts are taken on the fake IoT control plane and registry.
 */
import { createHash, X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  ACCOUNT,
  certificateArn,
  type FakeCertificate,
  fakeIot,
  fakeRegistry,
  ISSUED_TABLE,
  type Journal,
  OPERATIONAL_CA_ID,
  REGION,
  seedStackPolicies,
} from './helpers/fake-aws.js';
import { deadPort, OperationalPki, type Responder, startOpensslResponder } from './helpers/pki.js';

const VIN = 'WVWZZZ1JZXW000002';
const ECU = 'ECU-GW-0042';
const THING = `${VIN}_${ECU}`;
const POLICY = 'cv-security-dev-ecu-gateway';
const sampleEvent = JSON.parse(
  readFileSync(
    fileURLToPath(new URL('../../../events/jitr-handler/certificate-registered.json', import.meta.url)),
    'utf8',
  ),
) as Record<string, unknown>;
const context = {
  awsRequestId: '5d1f0c3e-7a2b-4c4d-9e8f-1a2b3c4d5e6f',
  functionName: 'cv-security-dev-jitr-handler',
  invokedFunctionArn: `arn:aws:lambda:${REGION}:${ACCOUNT}:function:cv-security-dev-jitr-handler`,
  getRemainingTimeInMillis: () => 10_000,
} as never;

/** Every call that changes IoT or the registry. */
const WRITES = new Set([
  'iot:CreateThing',
  'iot:AttachPolicy',
  'iot:AttachThingPrincipal',
  'iot:UpdateCertificate',
  'iot:DetachPolicy',
  'iot:DetachThingPrincipal',
  'registry:UpdateItem',
]);

let pki: OperationalPki;
let responder: Responder;
let certificates: Map<string, FakeCertificate>;
let journal: Journal;
let iot: ReturnType<typeof fakeIot>;
let registry: ReturnType<typeof fakeRegistry>;
type Handler = typeof import('../src/handler.js').handler;

const calls = () => journal.entries.map((e) => `${e.service}:${e.command}`);
const writes = () => calls().filter((c) => WRITES.has(c));
const status = (id: string) => certificates.get(id)?.status;

async function coldHandler(): Promise<Handler> {
  vi.resetModules();
  return (await import('../src/handler.js')).handler;
}

/** A certificate the broker issued for the ECU (its serial recorded) that connected once: PENDING_ACTIVATION. */
function issued(ocspUrl = responder.url) {
  const cert = pki.issue({ cn: THING, sanUri: `urn:cv:vin:${VIN}:ecu:${ECU}`, ocspUrl });
  const x509 = new X509Certificate(cert.pem);
  const certificateId = createHash('sha256').update(x509.raw).digest('hex');
  certificates.set(certificateId, {
    pem: cert.pem,
    status: 'PENDING_ACTIVATION',
    caCertificateId: OPERATIONAL_CA_ID,
  });
  const row = registry.table.get(ECU);
  if (row) row.certificateSerial = x509.serialNumber.toLowerCase();
  return {
    certificateId,
    arn: certificateArn(certificateId),
    serial: cert.serial,
    event: { ...sampleEvent, certificateId, caCertificateId: OPERATIONAL_CA_ID, timestamp: Date.now() },
  };
}

/** Everything a completed registration leaves in place. */
function expectFullyRegistered(cert: { certificateId: string; arn: string }) {
  expect(status(cert.certificateId)).toBe('ACTIVE');
  expect(iot.things.get(THING)).toEqual({ vin: VIN, ecuId: ECU, role: 'gateway' });
  expect(iot.principalThings.get(cert.arn)).toEqual([{ thing: THING, type: 'EXCLUSIVE_THING' }]);
  expect([...(iot.policyTargets.get(POLICY) ?? [])]).toEqual([cert.arn]);
  expect(registry.table.get(ECU)).toMatchObject({ certificateId: cert.certificateId, thingName: THING });
}

const denied = () =>
  Object.assign(new Error('simulated failure'), {
    name: 'InvalidRequestException',
    $metadata: { httpStatusCode: 400 },
  });

beforeAll(async () => {
  pki = new OperationalPki();
  responder = await startOpensslResponder(pki, 'delegated');
  Object.assign(process.env, {
    ECU_REGISTRY_TABLE: 'cv-security-dev-ecu-registry',
    ISSUED_CERTIFICATES_TABLE: ISSUED_TABLE,
    OPERATIONAL_CA_CERTIFICATE_ID: OPERATIONAL_CA_ID,
    OCSP_ALLOWED_HOSTS: '127.0.0.1',
    OCSP_TIMEOUT_MS: '3000',
    IOT_POLICY_PREFIX: 'cv-security-dev',
    AWS_REGION: REGION,
    AWS_ACCOUNT_ID: ACCOUNT,
    LOG_LEVEL: 'SILENT',
  });
});

afterAll(async () => {
  await responder.close();
  pki.cleanup();
});

beforeEach(() => {
  certificates = new Map();
  journal = { entries: [] };
  iot = fakeIot({ certificates, caCertificates: new Map([[OPERATIONAL_CA_ID, pki.caPem]]), journal });
  registry = fakeRegistry([{ ecuId: ECU, vin: VIN, role: 'gateway', status: 'ACTIVE' }], journal);
  // The stack creates the role policies (serverless/resources/ecu-policies.yml).
  seedStackPolicies(iot.policies, 'cv-security-dev');
});

describe('a repeated event for a certificate already ACTIVE with everything in place makes reads only', () => {
  it('warm container: DescribeCertificate, ListThingPrincipals, GetEffectivePolicies and the registry read; no write', async () => {
    const handler = await coldHandler();
    const cert = issued();
    await expect(handler(cert.event, context)).resolves.toMatchObject({ outcome: 'activated' });
    journal.entries.length = 0;

    const repeats = [];
    for (let i = 0; i < 3; i += 1)
      repeats.push(await handler({ ...cert.event, timestamp: Date.now() }, context));

    for (const outcome of repeats) {
      expect(outcome).toEqual({
        outcome: 'already-active',
        thingName: THING,
        policyName: POLICY,
        completedSteps: [],
        retiredCertificateIds: [],
      });
    }
    expect(writes()).toEqual([]);
    expect(calls()).toEqual(
      Array.from({ length: 3 }, () => [
        'issued:GetItem', // cert-broker's record: none here (tests below have one)
        'iot:DescribeCertificate',
        'registry:GetItem',
        'iot:ListThingPrincipals',
        'iot:GetEffectivePolicies',
      ]).flat(),
    );
    expectFullyRegistered(cert);
  });

  it('cold container: adds only DescribeCACertificate (the OCSP issuer); no GetPolicy, no write', async () => {
    const cert = issued();
    await (await coldHandler())(cert.event, context);
    journal.entries.length = 0;

    const outcome = await (await coldHandler())(cert.event, context);

    expect(outcome).toMatchObject({ outcome: 'already-active', completedSteps: [] });
    expect(calls()).toEqual([
      'issued:GetItem',
      'iot:DescribeCertificate',
      'iot:DescribeCACertificate',
      'registry:GetItem',
      'iot:ListThingPrincipals',
      'iot:GetEffectivePolicies',
    ]);
  });

  it('the repeat still asks OCSP: a certificate revoked since activation is set REVOKED, the only write', async () => {
    const handler = await coldHandler();
    const cert = issued();
    await handler(cert.event, context);
    const before = responder.requests();
    await expect(handler(cert.event, context)).resolves.toMatchObject({ outcome: 'already-active' });
    expect(responder.requests()).toBe(before + 1);
    pki.revoke(cert.serial);
    journal.entries.length = 0;

    await expect(handler(cert.event, context)).resolves.toMatchObject({ outcome: 'revoked' });

    expect(writes()).toEqual(['iot:UpdateCertificate']);
    expect(status(cert.certificateId)).toBe('REVOKED');
  });

  it('the repeat for an ACTIVE certificate whose responder is unreachable throws and writes nothing; it stays ACTIVE', async () => {
    const handler = await coldHandler();
    const cert = issued(`http://127.0.0.1:${await deadPort()}/`);
    (certificates.get(cert.certificateId) as FakeCertificate).status = 'ACTIVE';

    await expect(handler(cert.event, context)).rejects.toThrow();

    expect(writes()).toEqual([]);
    expect(status(cert.certificateId)).toBe('ACTIVE');
  });
});

describe('a partially completed earlier run: the repeat completes it, ACTIVE last, no resource twice', () => {
  const crashes: [string, () => void, string[]][] = [
    ['before CreateThing', () => iot.failOnce('CreateThing', denied()), []],
    ['after CreateThing', () => iot.failOnce('AttachThingPrincipal', denied()), ['iot:CreateThing']],
    [
      'after AttachThingPrincipal',
      () => iot.failOnce('AttachPolicy', denied()),
      ['iot:CreateThing', 'iot:AttachThingPrincipal'],
    ],
    [
      'after AttachPolicy',
      () => registry.failOnce('UpdateItem', denied()),
      ['iot:CreateThing', 'iot:AttachThingPrincipal', 'iot:AttachPolicy'],
    ],
    [
      'after the registry update',
      () => iot.failOnce('UpdateCertificate', denied()),
      ['iot:CreateThing', 'iot:AttachThingPrincipal', 'iot:AttachPolicy', 'registry:UpdateItem'],
    ],
  ];
  const ALL = [
    'iot:CreateThing',
    'iot:AttachThingPrincipal',
    'iot:AttachPolicy',
    'registry:UpdateItem',
    'iot:UpdateCertificate',
  ];

  // Until the registry names the certificate, a repeat is a first enrolment: it does not list the thing,
  // so it repeats the IoT writes before the registry (each idempotent: same thing, same attachment,
  // same policy target); once the registry names it, the repeat reads and writes exactly the missing steps.
  it.each(crashes)('crashed %s: the repeat completes the rest, no resource twice', async (_at, arm, done) => {
    const handler = await coldHandler();
    const cert = issued();
    arm();
    await expect(handler(cert.event, context)).rejects.toThrow(/simulated failure/);
    // The crash left exactly the earlier steps (the failed write, journaled, changed nothing).
    expect(writes()).toEqual(ALL.slice(0, done.length + 1));
    expect(status(cert.certificateId)).toBe('PENDING_ACTIVATION');
    journal.entries.length = 0;

    const outcome = await handler(cert.event, context);

    expect(outcome).toMatchObject({ outcome: 'activated', retiredCertificateIds: [] });
    expect(writes()).toEqual(done.includes('registry:UpdateItem') ? ALL.slice(done.length) : ALL);
    expect(iot.things.size).toBe(1);
    expect(writes().at(-1)).toBe('iot:UpdateCertificate');
    expect(responder.requests()).toBeGreaterThan(0);
    expectFullyRegistered(cert);

    journal.entries.length = 0;
    await expect(handler(cert.event, context)).resolves.toMatchObject({ completedSteps: [] });
    expect(writes()).toEqual([]);
  });

  it('the repeat of a first enrolment reads nothing but the certificate and the registry', async () => {
    const handler = await coldHandler();
    const cert = issued();
    iot.failOnce('AttachThingPrincipal', denied());
    await expect(handler(cert.event, context)).rejects.toThrow();
    journal.entries.length = 0;

    await handler(cert.event, context);

    expect(calls()).toEqual([
      'issued:GetItem',
      'iot:DescribeCertificate',
      'registry:GetItem',
      'iot:CreateThing', // the thing exists with the same attributes: IoT answers success
      'iot:AttachThingPrincipal',
      'iot:AttachPolicy', // the policy exists (the stack's): no GetPolicy
      'registry:UpdateItem',
      'iot:UpdateCertificate',
    ]);
    expectFullyRegistered(cert);
  });

  it('the repeat of a first enrolment refuses a thing whose attributes differ (an existing thing must agree)', async () => {
    const handler = await coldHandler();
    const cert = issued();
    iot.things.set(THING, { vin: VIN, ecuId: ECU, role: 'body' });
    journal.entries.length = 0;

    await expect(handler(cert.event, context)).rejects.toThrow();

    expect(writes()).toEqual(['iot:CreateThing']); // refused by IoT, nothing changed
    expect(status(cert.certificateId)).toBe('PENDING_ACTIVATION');
    expect(iot.principalThings.get(cert.arn)).toBeUndefined();
  });
});

describe('a repeat for an ACTIVE certificate that lost a piece restores that piece only, never re-activates', () => {
  const losses: [string, (cert: { certificateId: string; arn: string }) => void, string[]][] = [
    [
      'its role policy was detached',
      (cert) => iot.policyTargets.get(POLICY)?.delete(cert.arn),
      ['iot:AttachPolicy'],
    ],
    [
      'its thing attachment was removed',
      (cert) => iot.principalThings.delete(cert.arn),
      ['iot:AttachThingPrincipal'],
    ],
    [
      'the registry row does not name it',
      () => {
        const row = registry.table.get(ECU);
        if (row) row.certificateId = undefined;
      },
      ['registry:UpdateItem'],
    ],
  ];

  it.each(losses)('%s', async (_name, lose, expected) => {
    const handler = await coldHandler();
    const cert = issued();
    await handler(cert.event, context);
    lose(cert);
    journal.entries.length = 0;

    const outcome = await handler(cert.event, context);

    expect(writes()).toEqual(expected);
    expect(outcome).toMatchObject({ outcome: 'already-active' });
    expect(writes()).not.toContain('iot:UpdateCertificate');
    expectFullyRegistered(cert);
  });
});

describe('a certificate that is not ACTIVE or PENDING_ACTIVATION is never (re)activated', () => {
  it.each(['INACTIVE', 'REVOKED'])('%s: skipped, reads only', async (state) => {
    const handler = await coldHandler();
    const cert = issued();
    await handler(cert.event, context);
    (certificates.get(cert.certificateId) as FakeCertificate).status = state;
    journal.entries.length = 0;

    await expect(handler(cert.event, context)).resolves.toMatchObject({
      outcome: 'skipped',
      reason: 'status',
    });

    expect(calls()).toEqual(['issued:GetItem', 'iot:DescribeCertificate']);
    expect(status(cert.certificateId)).toBe(state);
  });

  it('deactivated (remediation) while the repeat runs: it stays INACTIVE, no UpdateCertificate', async () => {
    const handler = await coldHandler();
    const cert = issued();
    await handler(cert.event, context);
    const row = { ...registry.table.get(ECU) };
    // Remediation's deactivateCertificate lands after the repeat described the certificate as ACTIVE.
    registry.mock.on(GetCommand as never).callsFake(async (input: Record<string, unknown>) => {
      if (input.TableName === ISSUED_TABLE) return { Item: undefined };
      journal.entries.push({ service: 'registry', command: 'GetItem', input });
      (certificates.get(cert.certificateId) as FakeCertificate).status = 'INACTIVE';
      return { Item: row };
    });
    journal.entries.length = 0;

    await handler(cert.event, context);

    expect(writes()).toEqual([]);
    expect(status(cert.certificateId)).toBe('INACTIVE');
  });
});

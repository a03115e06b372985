/**
 * Issue 16: a first enrolment at 4 IoT calls. cert-broker records each certificate it issued under
 * the id AWS IoT gives it (SHA-256 of the DER); jitr-handler registers a certificate it finds there
 * without DescribeCertificate, but only once the record is proven to be that certificate, from the
 * operational CA, for a fresh PENDING_ACTIVATION event. Anything else falls back to
 * DescribeCertificate (never fails open), and a certificate this function recorded already is
 * described (a repeat makes reads only).
 */
import { createHash, X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Context } from 'aws-lambda';
import fc from 'fast-check';
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
  OTHER_CA_ID,
  REGION,
  seedStackPolicies,
} from './helpers/fake-aws.js';
import { OperationalPki, type Responder, startOpensslResponder } from './helpers/pki.js';

const VIN = 'WVWZZZ1JZXW000001';
const PREFIX = 'cv-security-dev';
const sampleEvent = JSON.parse(
  readFileSync(
    fileURLToPath(new URL('../../../events/jitr-handler/certificate-registered.json', import.meta.url)),
    'utf8',
  ),
) as Record<string, unknown>;
const context = {
  awsRequestId: '8f5e1c2a-3b4d-4e6f-8a9b-0c1d2e3f4a5b',
  functionName: 'cv-security-dev-jitr-handler',
  invokedFunctionArn: `arn:aws:lambda:${REGION}:${ACCOUNT}:function:cv-security-dev-jitr-handler`,
  getRemainingTimeInMillis: () => 10_000,
} as unknown as Context;

let pki: OperationalPki;
let rogueCa: OperationalPki;
let responder: Responder;
let certificates: Map<string, FakeCertificate>;
let journal: Journal;
let iot: ReturnType<typeof fakeIot>;
let registry: ReturnType<typeof fakeRegistry>;
type Handler = typeof import('../src/handler.js').handler;

async function coldHandler(): Promise<Handler> {
  vi.resetModules();
  return (await import('../src/handler.js')).handler;
}

const idOf = (pem: string) => createHash('sha256').update(new X509Certificate(pem).raw).digest('hex');
const iotCalls = () => journal.entries.filter((e) => e.service === 'iot').map((e) => e.command);
const calls = () => journal.entries.map((e) => `${e.service}:${e.command}`);
const IOT_WRITES = new Set(['CreateThing', 'AttachThingPrincipal', 'AttachPolicy', 'UpdateCertificate']);
const iotWrites = () => iotCalls().filter((c) => IOT_WRITES.has(c) || c.startsWith('Detach'));

/**
 * A certificate of `ecuId` issued by `ca` and registered by IoT (PENDING_ACTIVATION) under its
 * id, the broker's record of it (unless `record: false`), and its fresh JITR event.
 */
function enrolled(ecuId: string, opts: { ca?: OperationalPki; record?: boolean; caId?: string } = {}) {
  const ca = opts.ca ?? pki;
  const cert = ca.issue({
    cn: `${VIN}_${ecuId}`,
    sanUri: `urn:cv:vin:${VIN}:ecu:${ecuId}`,
    ocspUrl: responder.url,
  });
  const certificateId = idOf(cert.pem);
  const caCertificateId = opts.caId ?? OPERATIONAL_CA_ID;
  certificates.set(certificateId, { pem: cert.pem, status: 'PENDING_ACTIVATION', caCertificateId });
  const record = { certificateId, ecuId, thingName: `${VIN}_${ecuId}`, certificatePem: cert.pem };
  if (opts.record !== false) registry.issued.set(certificateId, record);
  const serialNumber = new X509Certificate(cert.pem).serialNumber.toLowerCase();
  const row = registry.table.get(ecuId);
  if (row) row.certificateSerial = serialNumber; // cert-broker records the serial it issued
  const event = {
    ...sampleEvent,
    certificateId,
    caCertificateId,
    certificateStatus: 'PENDING_ACTIVATION',
    timestamp: Date.now(),
  };
  return {
    certificateId,
    pem: cert.pem,
    serial: cert.serial,
    record,
    event,
    arn: certificateArn(certificateId),
  };
}

beforeAll(async () => {
  pki = new OperationalPki();
  rogueCa = new OperationalPki();
  responder = await startOpensslResponder(pki, 'delegated');
  Object.assign(process.env, {
    ECU_REGISTRY_TABLE: 'cv-security-dev-ecu-registry',
    ISSUED_CERTIFICATES_TABLE: ISSUED_TABLE,
    OPERATIONAL_CA_CERTIFICATE_ID: OPERATIONAL_CA_ID,
    OCSP_ALLOWED_HOSTS: '127.0.0.1',
    IOT_POLICY_PREFIX: PREFIX,
    AWS_REGION: REGION,
    AWS_ACCOUNT_ID: ACCOUNT,
    LOG_LEVEL: 'SILENT',
  });
});

afterAll(async () => {
  await responder.close();
  pki.cleanup();
  rogueCa.cleanup();
});

beforeEach(() => {
  delete process.env.OPERATIONAL_CA_CERTIFICATE_PEM;
  certificates = new Map();
  journal = { entries: [] };
  iot = fakeIot({ certificates, caCertificates: new Map([[OPERATIONAL_CA_ID, pki.caPem]]), journal });
  seedStackPolicies(iot.policies, PREFIX);
  registry = fakeRegistry(
    ['ECU-A', 'ECU-B', 'ECU-C', 'ECU-D'].map((ecuId) => ({
      ecuId,
      vin: VIN,
      role: 'gateway',
      status: 'ACTIVE',
      thingName: `${VIN}_${ecuId}`,
    })),
    journal,
  );
});

function expectActivatedAndRegistered(c: ReturnType<typeof enrolled>, ecuId: string): void {
  expect(certificates.get(c.certificateId)?.status).toBe('ACTIVE');
  expect(iot.principalThings.get(c.arn)).toEqual([{ thing: `${VIN}_${ecuId}`, type: 'EXCLUSIVE_THING' }]);
  expect(iot.policyTargets.get(`${PREFIX}-ecu-gateway`)?.has(c.arn)).toBe(true);
  expect(registry.table.get(ecuId)).toMatchObject({
    certificateId: c.certificateId,
    thingName: `${VIN}_${ecuId}`,
  });
}

describe('first enrolment with cert-broker record: no DescribeCertificate', () => {
  it('warm: 4 IoT calls (CreateThing, AttachThingPrincipal, AttachPolicy, UpdateCertificate); the record, then the registry', async () => {
    const handler = await coldHandler();
    await handler(enrolled('ECU-A').event, context); // warms the CA
    journal.entries.length = 0;
    const c = enrolled('ECU-B');

    await expect(handler(c.event, context)).resolves.toMatchObject({ outcome: 'activated' });

    expect(calls()).toEqual([
      'issued:GetItem',
      'registry:GetItem',
      'iot:CreateThing',
      'iot:AttachThingPrincipal',
      'iot:AttachPolicy',
      'registry:UpdateItem',
      'iot:UpdateCertificate',
    ]);
    expectActivatedAndRegistered(c, 'ECU-B');
  });

  it('the event timestamp as epoch seconds or a decimal string is understood too: 4 IoT calls', async () => {
    process.env.OPERATIONAL_CA_CERTIFICATE_PEM = pki.caPem;
    const handler = await coldHandler();
    const seconds = enrolled('ECU-A');
    const text = enrolled('ECU-B');

    await handler({ ...seconds.event, timestamp: Math.floor(Date.now() / 1000) }, context);
    await handler({ ...text.event, timestamp: String(Date.now()) }, context);

    expect(iotCalls()).not.toContain('DescribeCertificate');
    expectActivatedAndRegistered(seconds, 'ECU-A');
    expectActivatedAndRegistered(text, 'ECU-B');
  });

  it('cold with the CA PEM configured: 4 IoT calls; cold without it: 5 (DescribeCACertificate)', async () => {
    process.env.OPERATIONAL_CA_CERTIFICATE_PEM = pki.caPem;
    await (await coldHandler())(enrolled('ECU-A').event, context);
    const pinned = iotCalls();
    delete process.env.OPERATIONAL_CA_CERTIFICATE_PEM;
    journal.entries.length = 0;
    await (await coldHandler())(enrolled('ECU-B').event, context);

    expect(pinned).toEqual(['CreateThing', 'AttachThingPrincipal', 'AttachPolicy', 'UpdateCertificate']);
    expect(iotCalls()).toEqual([
      'DescribeCACertificate',
      'CreateThing',
      'AttachThingPrincipal',
      'AttachPolicy',
      'UpdateCertificate',
    ]);
  });

  it('without a record (write failed, or expired): 5 IoT calls, DescribeCertificate first', async () => {
    const handler = await coldHandler();
    await handler(enrolled('ECU-A').event, context);
    journal.entries.length = 0;
    const c = enrolled('ECU-B', { record: false });

    await expect(handler(c.event, context)).resolves.toMatchObject({ outcome: 'activated' });

    expect(iotCalls()).toEqual([
      'DescribeCertificate',
      'CreateThing',
      'AttachThingPrincipal',
      'AttachPolicy',
      'UpdateCertificate',
    ]);
    expectActivatedAndRegistered(c, 'ECU-B');
  });

  it('re-enrolment with the record: 9 IoT calls warm, the new certificate never described (the old one is, to retire it)', async () => {
    const handler = await coldHandler();
    const old = enrolled('ECU-A');
    await handler(old.event, context);
    journal.entries.length = 0;
    const next = enrolled('ECU-A');

    await expect(handler(next.event, context)).resolves.toMatchObject({
      outcome: 'activated',
      retiredCertificateIds: [old.certificateId],
    });

    expect(iotCalls()).toEqual([
      'ListThingPrincipals',
      'DescribeThing',
      'AttachThingPrincipal',
      'AttachPolicy',
      'UpdateCertificate',
      'DescribeCertificate', // the old certificate's status
      'UpdateCertificate',
      'DetachPolicy',
      'DetachThingPrincipal',
    ]);
    const described = journal.entries.filter((e) => e.command === 'DescribeCertificate');
    expect(described.map((e) => e.input.certificateId)).toEqual([old.certificateId]);
    expect(certificates.get(old.certificateId)?.status).toBe('INACTIVE');
    expectActivatedAndRegistered(next, 'ECU-A');
  });

  it('the repeated event, record still there: described (it may have moved on), reads only, never set ACTIVE again', async () => {
    const handler = await coldHandler();
    const c = enrolled('ECU-A');
    await handler(c.event, context);
    journal.entries.length = 0;

    const again = await handler({ ...c.event, timestamp: Date.now() }, context);

    expect(again).toMatchObject({ outcome: 'already-active', completedSteps: [] });
    expect(iotCalls()).toEqual(['DescribeCertificate', 'ListThingPrincipals', 'GetEffectivePolicies']);
    expect(iotWrites()).toEqual([]);
  });

  it.each(['INACTIVE', 'REVOKED'])(
    'set %s by an operator after activation: the repeat with the record skips, writes nothing',
    async (state) => {
      const handler = await coldHandler();
      const c = enrolled('ECU-A');
      await handler(c.event, context);
      (certificates.get(c.certificateId) as FakeCertificate).status = state;
      journal.entries.length = 0;

      await expect(handler({ ...c.event, timestamp: Date.now() }, context)).resolves.toMatchObject({
        outcome: 'skipped',
        reason: 'status',
      });
      expect(iotWrites()).toEqual([]);
      expect(certificates.get(c.certificateId)?.status).toBe(state);
    },
  );

  it('OCSP is still asked: revoked -> REVOKED, no thing, no attachment, registry untouched', async () => {
    const handler = await coldHandler();
    const c = enrolled('ECU-A');
    pki.revoke(c.serial);

    await expect(handler(c.event, context)).resolves.toMatchObject({ outcome: 'revoked' });

    expect(iotCalls()).toEqual(['DescribeCACertificate', 'UpdateCertificate']);
    expect(certificates.get(c.certificateId)?.status).toBe('REVOKED');
    expect(iot.things.size).toBe(0);
    expect(registry.table.get('ECU-A')?.certificateId).toBeUndefined();
  });
});

describe('a record that is not proven falls back to DescribeCertificate and activates nothing on its word', () => {
  it('a record of another certificate of the same ECU under this id (digest differs): described, then registered as IoT says', async () => {
    const handler = await coldHandler();
    const older = enrolled('ECU-A', { record: false });
    const c = enrolled('ECU-A');
    registry.issued.set(c.certificateId, { ...c.record, certificatePem: older.pem });

    await expect(handler(c.event, context)).resolves.toMatchObject({ outcome: 'activated' });

    expect(iotCalls()[0]).toBe('DescribeCertificate');
    expectActivatedAndRegistered(c, 'ECU-A');
    expect(certificates.get(older.certificateId)?.status).toBe('PENDING_ACTIVATION');
  });

  it("another ECU's certificate recorded under this id: described; the other ECU gets no thing, no attachment, no registry write", async () => {
    const handler = await coldHandler();
    const other = enrolled('ECU-B', { record: false });
    const c = enrolled('ECU-A');
    registry.issued.set(c.certificateId, { ...other.record, certificateId: c.certificateId });

    await expect(handler(c.event, context)).resolves.toMatchObject({ outcome: 'activated' });

    expect(iotCalls()[0]).toBe('DescribeCertificate');
    expectActivatedAndRegistered(c, 'ECU-A');
    expect(iot.things.has(`${VIN}_ECU-B`)).toBe(false);
    expect(registry.table.get('ECU-B')?.certificateId).toBeUndefined();
  });

  it('a certificate of another CA (event claims ours, record matches its digest): not issued by the CA, described, skipped as other-ca', async () => {
    const handler = await coldHandler();
    const rogue = enrolled('ECU-A', { ca: rogueCa, caId: OPERATIONAL_CA_ID });
    (certificates.get(rogue.certificateId) as FakeCertificate).caCertificateId = OTHER_CA_ID; // what IoT knows

    await expect(handler(rogue.event, context)).resolves.toMatchObject({
      outcome: 'skipped',
      reason: 'other-ca',
    });

    // The CA's PEM to check the record's signature (a cold container), then IoT's description.
    expect(iotCalls()).toEqual(['DescribeCACertificate', 'DescribeCertificate']);
    expect(iotWrites()).toEqual([]);
    expect(registry.table.get('ECU-A')?.certificateId).toBeUndefined();
  });

  it('an older certificate of the ECU (the broker issued a newer one), record present: described; retired stays INACTIVE, no write', async () => {
    const handler = await coldHandler();
    const older = enrolled('ECU-A');
    await handler(older.event, context);
    const newer = enrolled('ECU-A');
    await handler(newer.event, context); // re-enrolment: the older one is set INACTIVE and detached
    journal.entries.length = 0;

    const outcome = await handler({ ...older.event, timestamp: Date.now() }, context);

    expect(outcome).toMatchObject({ outcome: 'skipped', reason: 'status' });
    expect(iotCalls()).toEqual(['DescribeCertificate']);
    expect(certificates.get(older.certificateId)?.status).toBe('INACTIVE');
    expect(certificates.get(newer.certificateId)?.status).toBe('ACTIVE');
  });

  it('an ECU the registry does not know, record present: described, then skipped as unknown, nothing written', async () => {
    const handler = await coldHandler();
    const c = enrolled('ECU-Z');

    await expect(handler(c.event, context)).resolves.toMatchObject({
      outcome: 'skipped',
      reason: 'ecu-unknown',
    });
    expect(iotCalls()).toContain('DescribeCertificate');
    expect(iotWrites()).toEqual([]);
  });

  it('a record whose thing name is not the certificate CN: described', async () => {
    const handler = await coldHandler();
    const c = enrolled('ECU-A');
    registry.issued.set(c.certificateId, { ...c.record, thingName: `${VIN}_ECU-B` });

    await expect(handler(c.event, context)).resolves.toMatchObject({ outcome: 'activated' });
    expect(iotCalls()[0]).toBe('DescribeCertificate');
  });

  it.each([
    ['a stale event (10 minutes old)', { timestamp: Date.now() - 600_000 }],
    ['a stale event in epoch seconds (10 minutes old)', { timestamp: Math.floor(Date.now() / 1000) - 600 }],
    ['an event from the future (5 minutes)', { timestamp: Date.now() + 300_000 }],
    ['an event without a timestamp', { timestamp: undefined }],
    ['an event with a timestamp that is not a number', { timestamp: '2026-12-03T10:00:00Z' }],
    ['an event that does not say PENDING_ACTIVATION', { certificateStatus: 'ACTIVE' }],
    ['an event without a status', { certificateStatus: undefined }],
    ['an event of another account', { awsAccountId: '999999999999' }],
  ])('%s: described, never activated on the record', async (_name, override) => {
    const handler = await coldHandler();
    const c = enrolled('ECU-A');
    (certificates.get(c.certificateId) as FakeCertificate).status = 'INACTIVE'; // what IoT says now

    await expect(handler({ ...c.event, ...override }, context)).resolves.toMatchObject({
      outcome: 'skipped',
      reason: 'status',
    });
    expect(iotCalls()).toEqual(['DescribeCertificate']);
    expect(journal.entries.some((e) => e.service === 'issued')).toBe(false); // not even read
  });

  it('any mutation of the record (certificate id, thing name, PEM bytes): DescribeCertificate decides, as without a record', async () => {
    const handler = await coldHandler();
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          fc.record({
            field: fc.constant('certificateId' as const),
            value: fc.uint8Array({ minLength: 32, maxLength: 32 }).map((b) => Buffer.from(b).toString('hex')),
          }),
          fc.record({ field: fc.constant('thingName' as const), value: fc.string({ maxLength: 60 }) }),
          fc.record({ field: fc.constant('certificatePem' as const), value: fc.nat() }),
        ),
        async (mutation) => {
          journal.entries.length = 0;
          const c = enrolled('ECU-C');
          const record: Record<string, string> = { ...c.record };
          if (mutation.field === 'certificatePem') {
            const body = c.pem.split('\n').filter((l) => l && !l.startsWith('-----'));
            const der = Buffer.from(body.join(''), 'base64');
            const at = 10 + (mutation.value % (der.length - 10));
            der[at] = (der[at] ?? 0) ^ 0x01;
            record.certificatePem = `-----BEGIN CERTIFICATE-----\n${der.toString('base64')}\n-----END CERTIFICATE-----\n`;
          } else {
            if (mutation.value === record[mutation.field]) return;
            record[mutation.field] = mutation.value;
          }
          registry.issued.set(c.certificateId, record);
          (certificates.get(c.certificateId) as FakeCertificate).status = 'INACTIVE'; // IoT's word wins

          await expect(handler(c.event, context)).resolves.toMatchObject({
            outcome: 'skipped',
            reason: 'status',
          });
          expect(iotCalls().filter((call) => call !== 'DescribeCACertificate')).toEqual([
            'DescribeCertificate',
          ]);
          expect(certificates.get(c.certificateId)?.status).toBe('INACTIVE');
        },
      ),
      { numRuns: 12 },
    );
  });
});

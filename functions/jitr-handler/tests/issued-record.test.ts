/**
 * Issue 16: a first enrolment at 4 IoT calls. cert-broker records each certificate it issued under
 * the id AWS IoT gives it (SHA-256 of the DER); jitr-handler registers a certificate it finds there
 * without DescribeCertificate, but only once the record is proven to be that certificate, from the
 * operational CA, for a fresh PENDING_ACTIVATION event. Anything else falls back to
 * DescribeCertificate (never fails open), and a certificate this function recorded already is
 * described (a repeat makes reads only).
 */
import { describe, expect, it } from 'vitest';
import type { FakeCertificate } from './helpers/fake-aws.js';
import { context, recordWorld } from './helpers/record-world.js';

const { w, coldHandler, iotCalls, calls, iotWrites, enrolled, expectActivatedAndRegistered } = recordWorld();

describe('first enrolment with cert-broker record: no DescribeCertificate', () => {
  it('warm: 4 IoT calls (CreateThing, AttachThingPrincipal, AttachPolicy, UpdateCertificate); the record, then the registry', async () => {
    const handler = await coldHandler();
    await handler(enrolled('ECU-A').event, context); // warms the CA
    w.journal.entries.length = 0;
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
    process.env.OPERATIONAL_CA_CERTIFICATE_PEM = w.pki.caPem;
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
    process.env.OPERATIONAL_CA_CERTIFICATE_PEM = w.pki.caPem;
    await (await coldHandler())(enrolled('ECU-A').event, context);
    const pinned = iotCalls();
    delete process.env.OPERATIONAL_CA_CERTIFICATE_PEM;
    w.journal.entries.length = 0;
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
    w.journal.entries.length = 0;
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
    w.journal.entries.length = 0;
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
    const described = w.journal.entries.filter((e) => e.command === 'DescribeCertificate');
    expect(described.map((e) => e.input.certificateId)).toEqual([old.certificateId]);
    expect(w.certificates.get(old.certificateId)?.status).toBe('INACTIVE');
    expectActivatedAndRegistered(next, 'ECU-A');
  });

  it('the repeated event, record still there: described (it may have moved on), reads only, never set ACTIVE again', async () => {
    const handler = await coldHandler();
    const c = enrolled('ECU-A');
    await handler(c.event, context);
    w.journal.entries.length = 0;

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
      (w.certificates.get(c.certificateId) as FakeCertificate).status = state;
      w.journal.entries.length = 0;

      await expect(handler({ ...c.event, timestamp: Date.now() }, context)).resolves.toMatchObject({
        outcome: 'skipped',
        reason: 'status',
      });
      expect(iotWrites()).toEqual([]);
      expect(w.certificates.get(c.certificateId)?.status).toBe(state);
    },
  );

  it('OCSP is still asked: revoked -> REVOKED, no thing, no attachment, registry untouched', async () => {
    const handler = await coldHandler();
    const c = enrolled('ECU-A');
    w.pki.revoke(c.serial);

    await expect(handler(c.event, context)).resolves.toMatchObject({ outcome: 'revoked' });

    expect(iotCalls()).toEqual(['DescribeCACertificate', 'UpdateCertificate']);
    expect(w.certificates.get(c.certificateId)?.status).toBe('REVOKED');
    expect(w.iot.things.size).toBe(0);
    expect(w.registry.table.get('ECU-A')?.certificateId).toBeUndefined();
  });
});

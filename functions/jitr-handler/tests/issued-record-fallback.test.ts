/**
 * Issue 16: an issued-certificate record that is not proven (another certificate, another ECU,
 * another CA, a mismatching thing name, a stale, foreign or non-pending event, any mutation) is
 * never acted on: jitr-handler describes the certificate and IoT's word decides.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type FakeCertificate, OPERATIONAL_CA_ID, OTHER_CA_ID } from './helpers/fake-aws.js';
import { context, recordWorld, VIN } from './helpers/record-world.js';

const { w, coldHandler, iotCalls, iotWrites, enrolled, expectActivatedAndRegistered } = recordWorld();

describe('a record that is not proven falls back to DescribeCertificate and activates nothing on its word', () => {
  it('a record of another certificate of the same ECU under this id (digest differs): described, then registered as IoT says', async () => {
    const handler = await coldHandler();
    const older = enrolled('ECU-A', { record: false });
    const c = enrolled('ECU-A');
    w.registry.issued.set(c.certificateId, { ...c.record, certificatePem: older.pem });

    await expect(handler(c.event, context)).resolves.toMatchObject({ outcome: 'activated' });

    expect(iotCalls()[0]).toBe('DescribeCertificate');
    expectActivatedAndRegistered(c, 'ECU-A');
    expect(w.certificates.get(older.certificateId)?.status).toBe('PENDING_ACTIVATION');
  });

  it("another ECU's certificate recorded under this id: described; the other ECU gets no thing, no attachment, no registry write", async () => {
    const handler = await coldHandler();
    const other = enrolled('ECU-B', { record: false });
    const c = enrolled('ECU-A');
    w.registry.issued.set(c.certificateId, { ...other.record, certificateId: c.certificateId });

    await expect(handler(c.event, context)).resolves.toMatchObject({ outcome: 'activated' });

    expect(iotCalls()[0]).toBe('DescribeCertificate');
    expectActivatedAndRegistered(c, 'ECU-A');
    expect(w.iot.things.has(`${VIN}_ECU-B`)).toBe(false);
    expect(w.registry.table.get('ECU-B')?.certificateId).toBeUndefined();
  });

  it('a certificate of another CA (event claims ours, record matches its digest): not issued by the CA, described, skipped as other-ca', async () => {
    const handler = await coldHandler();
    const rogue = enrolled('ECU-A', { ca: w.rogueCa, caId: OPERATIONAL_CA_ID });
    (w.certificates.get(rogue.certificateId) as FakeCertificate).caCertificateId = OTHER_CA_ID; // what IoT knows

    await expect(handler(rogue.event, context)).resolves.toMatchObject({
      outcome: 'skipped',
      reason: 'other-ca',
    });

    // The CA's PEM to check the record's signature (a cold container), then IoT's description.
    expect(iotCalls()).toEqual(['DescribeCACertificate', 'DescribeCertificate']);
    expect(iotWrites()).toEqual([]);
    expect(w.registry.table.get('ECU-A')?.certificateId).toBeUndefined();
  });

  it('an older certificate of the ECU (the broker issued a newer one), record present: described; retired stays INACTIVE, no write', async () => {
    const handler = await coldHandler();
    const older = enrolled('ECU-A');
    await handler(older.event, context);
    const newer = enrolled('ECU-A');
    await handler(newer.event, context); // re-enrolment: the older one is set INACTIVE and detached
    w.journal.entries.length = 0;

    const outcome = await handler({ ...older.event, timestamp: Date.now() }, context);

    expect(outcome).toMatchObject({ outcome: 'skipped', reason: 'status' });
    expect(iotCalls()).toEqual(['DescribeCertificate']);
    expect(w.certificates.get(older.certificateId)?.status).toBe('INACTIVE');
    expect(w.certificates.get(newer.certificateId)?.status).toBe('ACTIVE');
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
    w.registry.issued.set(c.certificateId, { ...c.record, thingName: `${VIN}_ECU-B` });

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
    (w.certificates.get(c.certificateId) as FakeCertificate).status = 'INACTIVE'; // what IoT says now

    await expect(handler({ ...c.event, ...override }, context)).resolves.toMatchObject({
      outcome: 'skipped',
      reason: 'status',
    });
    expect(iotCalls()).toEqual(['DescribeCertificate']);
    expect(w.journal.entries.some((e) => e.service === 'issued')).toBe(false); // not even read
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
          w.journal.entries.length = 0;
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
          w.registry.issued.set(c.certificateId, record);
          (w.certificates.get(c.certificateId) as FakeCertificate).status = 'INACTIVE'; // IoT's word wins

          await expect(handler(c.event, context)).resolves.toMatchObject({
            outcome: 'skipped',
            reason: 'status',
          });
          expect(iotCalls().filter((call) => call !== 'DescribeCACertificate')).toEqual([
            'DescribeCertificate',
          ]);
          expect(w.certificates.get(c.certificateId)?.status).toBe('INACTIVE');
        },
      ),
      { numRuns: 12 },
    );
  });
});

/** The detection use case against an in-memory ledger and importer (no SDK). */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type DetectorConfig, detectAuthorizationFailures, firstBurst } from '../src/detect.js';
import type { AuthorizationFailure } from '../src/logs.js';
import type { FindingImporter } from '../src/ports.js';
import { MemoryLedger, MemoryProvenance } from './memory-ledger.js';

const CERT = 'd'.repeat(64);
const config: DetectorConfig = {
  region: 'eu-west-1',
  accountId: '123456789012',
  partition: 'aws',
  threshold: 10,
  windowSeconds: 300,
};

function deps() {
  const imported: Array<Record<string, unknown>> = [];
  const findings: FindingImporter = { import: async (f) => void imported.push(f) };
  return {
    ledger: new MemoryLedger(),
    provenance: new MemoryProvenance(),
    findings,
    clock: { now: () => new Date(0) },
    config,
    imported,
  };
}

const T0 = 1_770_000_000_000; // epoch ms, not on a window boundary
let nextId = 0;
const failure = (offsetS: number, id = String(nextId++)): AuthorizationFailure => ({
  eventId: id,
  certificateId: CERT,
  eventType: 'Connect',
  at: T0 + offsetS * 1000,
});

describe('detectAuthorizationFailures', () => {
  it('within one window, however the failures are split into invocations and redelivered, counts each once and raises one finding iff they reach the threshold, dated from the first (property)', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc
          .integer({ min: 0, max: 25 })
          .chain((n) => fc.uniqueArray(fc.integer({ min: 0, max: 299 }), { minLength: n, maxLength: n }))
          .map((offsets) => offsets.sort((a, b) => a - b)),
        fc.array(fc.integer({ min: 1, max: 5 }), { minLength: 1, maxLength: 30 }),
        fc.array(fc.nat(), { maxLength: 10 }),
        async (offsets, cuts, redeliveries) => {
          const d = deps();
          const failures = offsets.map((o) => failure(o, `e${o}`));
          const batches: AuthorizationFailure[][] = [];
          let i = 0;
          for (const size of [...cuts, failures.length]) {
            if (i >= failures.length) break;
            batches.push(failures.slice(i, i + size));
            i += size;
          }
          for (const r of redeliveries)
            if (batches.length > 0) batches.push(batches[r % batches.length] ?? []);
          for (const batch of batches) await detectAuthorizationFailures(batch, d);
          const expected = failures.length >= config.threshold ? 1 : 0;
          const finding = d.imported[0] as { FirstObservedAt?: string } | undefined;
          return (
            d.ledger.stored(CERT) === failures.length &&
            d.imported.length === expected &&
            (expected === 0 ||
              finding?.FirstObservedAt === new Date(T0 + Math.min(...offsets) * 1000).toISOString())
          );
        },
      ),
      { numRuns: 200 },
    );
  });

  it('in any arrival order, split and redelivered, each failure is stored once and one burst gives at most one finding (property)', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc
          .integer({ min: 0, max: 25 })
          .chain((n) => fc.uniqueArray(fc.integer({ min: 0, max: 299 }), { minLength: n, maxLength: n })),
        fc.array(fc.integer({ min: 1, max: 6 }), { minLength: 1, maxLength: 30 }),
        fc.array(fc.nat(), { maxLength: 10 }),
        async (offsets, cuts, redeliveries) => {
          const d = deps();
          const failures = offsets.map((o) => failure(o, `e${o}`));
          const batches: AuthorizationFailure[][] = [];
          let i = 0;
          for (const size of [...cuts, failures.length]) {
            if (i >= failures.length) break;
            batches.push(failures.slice(i, i + size));
            i += size;
          }
          for (const r of redeliveries)
            if (batches.length > 0) batches.push(batches[r % batches.length] ?? []);
          for (const batch of batches) await detectAuthorizationFailures(batch, d);
          const count = Number(
            (d.imported[0]?.ProductFields as Record<string, string> | undefined)?.['cv/FailureCount'],
          );
          return (
            d.ledger.stored(CERT) === failures.length &&
            d.imported.length === (failures.length >= config.threshold ? 1 : 0) &&
            (d.imported.length === 0 || (count >= config.threshold && count <= failures.length))
          );
        },
      ),
      { numRuns: 200 },
    );
  });

  it('12 failures, three throttled partial writes and a redelivery: counted 12, one finding, first failure first', async () => {
    const d = deps();
    const twelve = Array.from({ length: 12 }, (_, i) => failure(i * 7));
    d.ledger.failRecords = [{ partial: 5 }, { partial: 9 }, { partial: 0 }];

    for (let attempt = 0; attempt < 3; attempt++) {
      await expect(detectAuthorizationFailures(twelve, d)).rejects.toThrow(/Throughput/);
    }
    await detectAuthorizationFailures(twelve, d); // the Lambda retry that succeeds
    await detectAuthorizationFailures(twelve, d); // CloudWatch Logs delivers the batch again

    expect(d.ledger.stored(CERT)).toBe(12);
    expect(d.imported).toHaveLength(1);
    expect(d.imported[0]).toMatchObject({
      FirstObservedAt: new Date(T0).toISOString(),
      LastObservedAt: new Date(T0 + 77_000).toISOString(),
      ProductFields: { 'cv/FailureCount': '12' },
    });
  });

  it('a burst straddling a window boundary raises one finding, not two', async () => {
    const d = deps();
    // 10 failures before and 10 after a 300 s boundary, in two invocations; each half reaches the threshold.
    const boundary = Math.ceil(T0 / 300_000) * 300_000;
    const before = Array.from({ length: 10 }, (_, i) => ({
      ...failure(0),
      at: boundary - 20_000 + i * 1000,
    }));
    const after = Array.from({ length: 10 }, (_, i) => ({ ...failure(0), at: boundary + 1000 + i * 1000 }));

    await detectAuthorizationFailures(before, d);
    await detectAuthorizationFailures(after, d);

    expect(d.imported).toHaveLength(1);
    expect(d.imported[0]?.FirstObservedAt).toBe(new Date(boundary - 20_000).toISOString());
  });

  it('a burst arriving out of order still raises one finding dated from its first failure', async () => {
    const d = deps();
    const late = Array.from({ length: 6 }, (_, i) => failure(200 + i));
    const early = Array.from({ length: 6 }, (_, i) => failure(10 + i));

    await detectAuthorizationFailures(late, d);
    await detectAuthorizationFailures(early, d);

    expect(d.imported).toHaveLength(1);
    expect(d.imported[0]).toMatchObject({
      FirstObservedAt: new Date(T0 + 10_000).toISOString(),
      ProductFields: { 'cv/FailureCount': '12' },
    });
  });

  it('after the cool-down a new burst raises a new finding that counts only its own failures', async () => {
    const d = deps();
    await detectAuthorizationFailures(
      Array.from({ length: 10 }, (_, i) => failure(i)),
      d,
    );
    await detectAuthorizationFailures(
      Array.from({ length: 10 }, (_, i) => failure(1000 + i)),
      d,
    );

    expect(d.imported).toHaveLength(2);
    expect(d.imported[1]).toMatchObject({
      FirstObservedAt: new Date(T0 + 1_000_000).toISOString(),
      ProductFields: { 'cv/FailureCount': '10' },
    });
  });

  it('writes the provenance record before importing: same id, generator, product and only the certificate', async () => {
    const d = deps();
    const order: string[] = [];
    d.provenance.write = async (r) => void order.push(`provenance ${r.findingId}`);
    d.findings.import = async (f) => void order.push(`import ${String(f.Id)}`);

    await detectAuthorizationFailures(
      Array.from({ length: 10 }, (_, i) => failure(i)),
      d,
    );

    const id = `cv-security/authz-detector/${CERT}/${new Date(T0).toISOString()}`;
    expect(order).toEqual([`provenance ${id}`, `import ${id}`]);
  });

  it('a failed import is completed by the retry with the same finding and the same provenance record', async () => {
    const d = deps();
    const batch = Array.from({ length: 10 }, (_, i) => failure(i));
    const importOnce = d.findings.import;
    d.findings.import = async () => {
      throw new Error('Security Hub unavailable');
    };

    await expect(detectAuthorizationFailures(batch, d)).rejects.toThrow(/unavailable/);
    d.findings.import = importOnce;
    await detectAuthorizationFailures(batch, d);
    await detectAuthorizationFailures(batch, d);

    expect(d.imported).toHaveLength(1);
    expect([...d.provenance.records.values()]).toEqual([
      {
        findingId: d.imported[0]?.Id,
        generatorId: 'cv-security/authz-detector',
        productArn: 'arn:aws:securityhub:eu-west-1:123456789012:product/123456789012/default',
        accountId: '123456789012',
        targets: { certificateId: CERT },
        raisedAt: new Date(0).toISOString(),
      },
    ]);
  });

  it('names the certificate and the count in the finding, never a thing', async () => {
    const d = deps();

    await detectAuthorizationFailures(
      Array.from({ length: 10 }, (_, i) => ({ ...failure(i), clientId: 'VICTIM_THING' })),
      d,
    );

    expect(d.imported[0]).toMatchObject({
      ProductFields: {
        DeviceCertificateId: CERT,
        'cv/FailureCount': '10',
        'cv/ClaimedClientIds': 'VICTIM_THING',
      },
      Resources: [{ Type: 'AwsIotCertificate', Id: `arn:aws:iot:eu-west-1:123456789012:cert/${CERT}` }],
    });
    expect(JSON.stringify(d.imported[0])).not.toContain('ThingName');
  });
});

describe('firstBurst', () => {
  it('is the earliest window holding the threshold, as a brute force finds it (property)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 0, max: 2000 }), { maxLength: 40 }),
        fc.integer({ min: 1, max: 500 }),
        fc.integer({ min: 1, max: 12 }),
        (raw, windowMs, threshold) => {
          const ats = [...raw].sort((a, b) => a - b);
          const brute = ats
            .map((first) => ({ first, inside: ats.filter((a) => a >= first && a <= first + windowMs) }))
            .find((w) => w.inside.length >= threshold);
          const got = firstBurst(ats, windowMs, threshold);
          return brute === undefined
            ? got === undefined
            : got?.first === brute.first &&
                got.count === brute.inside.length &&
                got.last === brute.inside.at(-1);
        },
      ),
      { numRuns: 300 },
    );
  });
});

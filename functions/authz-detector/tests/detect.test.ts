/** The detection use case against an in-memory counter and importer (no SDK). */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type DetectorConfig, detectAuthorizationFailures } from '../src/detect.js';
import type { AuthorizationFailure } from '../src/logs.js';
import type { FailureCounter, FindingImporter } from '../src/ports.js';

const CERT = 'd'.repeat(64);
const config: DetectorConfig = {
  region: 'eu-west-1',
  accountId: '123456789012',
  partition: 'aws',
  threshold: 10,
  windowSeconds: 300,
  bucketSeconds: 60,
};

class MemoryCounter implements FailureCounter {
  readonly buckets = new Map<string, number>();
  readonly raised = new Set<string>();
  async add(cert: string, start: number, n: number) {
    this.buckets.set(`${cert}|${start}`, (this.buckets.get(`${cert}|${start}`) ?? 0) + n);
  }
  async sumSince(cert: string, from: number) {
    let sum = 0;
    for (const [key, n] of this.buckets) {
      const [c, start] = key.split('|');
      if (c === cert && Number(start) >= from) sum += n;
    }
    return sum;
  }
  async wasRaised(cert: string, slot: number) {
    return this.raised.has(`${cert}|${slot}`);
  }
  async markRaised(cert: string, slot: number) {
    const had = this.raised.has(`${cert}|${slot}`);
    this.raised.add(`${cert}|${slot}`);
    return !had;
  }
}

function deps() {
  const imported: Array<Record<string, unknown>> = [];
  const findings: FindingImporter = { import: async (f) => void imported.push(f) };
  return { counter: new MemoryCounter(), findings, clock: { now: () => new Date(0) }, config, imported };
}

const SLOT = 5_900_000 * 300; // a window slot start (epoch s)
const failure = (offsetS: number): AuthorizationFailure => ({
  certificateId: CERT,
  eventType: 'Connect',
  at: (SLOT + offsetS) * 1000,
});

describe('detectAuthorizationFailures', () => {
  it('within one window slot, however the failures are split into invocations and ordered, raises one finding iff they reach the threshold (property)', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.integer({ min: 0, max: 299 }), { maxLength: 30 }),
        fc.array(fc.integer({ min: 1, max: 5 }), { minLength: 1, maxLength: 30 }),
        async (offsets, cuts) => {
          const d = deps();
          const failures = offsets.map(failure);
          let i = 0;
          for (const size of [...cuts, failures.length]) {
            if (i >= failures.length) break;
            await detectAuthorizationFailures(failures.slice(i, i + size), d);
            i += size;
          }
          return d.imported.length === (failures.length >= config.threshold ? 1 : 0);
        },
      ),
      { numRuns: 200 },
    );
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

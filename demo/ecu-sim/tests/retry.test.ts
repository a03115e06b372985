/**
 * The ECU under throttling: it comes back after the broker's Retry-After (stretched by jitter so
 * a throttled wave does not return in step), backs off exponentially with full jitter when there
 * is no Retry-After, never retries a refusal, and gives up after its attempts.
 */
import fc from 'fast-check';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { EnrolmentError, type RetryPolicy, retryAfterSeconds } from '../src/index.js';
import { offlineEcu } from './offline-ecu.js';

const ecu = () => offlineEcu('GATEWAY-1');
const issued = {
  statusCode: 201,
  body: JSON.stringify({
    thingName: 'WVWZZZ1JZXW000001_GATEWAY-1',
    certificatePem: 'c',
    certificateChainPem: 'ch',
    serialNumber: '01',
    notAfter: '2027-01-01T00:00:00Z',
  }),
};

function recorder(responses: { statusCode: number; body?: string; headers?: Record<string, string> }[]) {
  const waits: number[] = [];
  const bodies: string[] = [];
  const policy = (over: Partial<RetryPolicy> = {}): RetryPolicy => ({
    attempts: 8,
    baseDelayMs: 500,
    maxDelayMs: 30_000,
    sleep: async (ms) => {
      waits.push(ms);
    },
    ...over,
  });
  const transport = async (body: string) => {
    bodies.push(body);
    const next = responses.shift() ?? issued;
    return { body: '{"error":"x"}', ...next };
  };
  return { waits, bodies, policy, transport };
}

afterEach(() => {
  vi.useRealTimers();
});

describe('EcuSimulator.enrolWithRetry', () => {
  it('waits Retry-After seconds stretched by 0-50 % jitter, for 429, 503 and 409, then resends the same body (same CSR and proof)', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(409, 429, 503),
        fc.integer({ min: 0, max: 3600 }),
        fc.double({ min: 0, max: 0.999999, noNaN: true }),
        async (status, seconds, r) => {
          const rec = recorder([{ statusCode: status, headers: { 'Retry-After': String(seconds) } }]);
          const sim = ecu();
          await sim.enrolWithRetry(rec.transport, rec.policy({ random: () => r }));
          expect(rec.waits).toHaveLength(1);
          expect(rec.waits[0]).toBeGreaterThanOrEqual(seconds * 1000);
          expect(rec.waits[0]).toBeLessThanOrEqual(seconds * 1500);
          expect(rec.bodies).toHaveLength(2);
          expect(rec.bodies[1]).toBe(rec.bodies[0]);
          expect(sim.enrolment?.thingName).toBe('WVWZZZ1JZXW000001_GATEWAY-1');
        },
      ),
      { numRuns: 15 },
    );
  });

  it('signs the same CSR again once signedAt is more than 4 minutes old, and only then', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    const rec = recorder([{ statusCode: 429, headers: { 'Retry-After': '5' } }, { statusCode: 503 }]);
    let step = 0;
    const waits = [30_000, 5 * 60_000];
    await ecu().enrolWithRetry(
      rec.transport,
      rec.policy({
        sleep: async () => {
          vi.setSystemTime(Date.now() + (waits[step++] ?? 0));
        },
      }),
    );
    const parsed = rec.bodies.map((b) => JSON.parse(b) as { csr: string; attestation: { signedAt: string } });
    expect(parsed).toHaveLength(3);
    expect(rec.bodies[1]).toBe(rec.bodies[0]);
    expect(parsed[2]?.csr).toBe(parsed[0]?.csr);
    expect(parsed[2]?.attestation.signedAt).not.toBe(parsed[0]?.attestation.signedAt);
  });

  it('backs off exponentially with full jitter when there is no Retry-After (API Gateway 502/504), capped', async () => {
    const rec = recorder([
      { statusCode: 502 },
      { statusCode: 504 },
      { statusCode: 502 },
      { statusCode: 502 },
    ]);
    await ecu().enrolWithRetry(rec.transport, rec.policy({ random: () => 0.999999, maxDelayMs: 3_000 }));
    expect(rec.waits).toEqual([499, 999, 1999, 2999]);
    const zero = recorder([{ statusCode: 502 }, { statusCode: 502 }]);
    await ecu().enrolWithRetry(zero.transport, zero.policy({ random: () => 0 }));
    expect(zero.waits).toEqual([0, 0]);
  });

  it('never retries a refusal: 400, 401, 403 throw at once with nothing waited', async () => {
    for (const statusCode of [400, 401, 403, 404, 413, 500]) {
      const rec = recorder([{ statusCode }]);
      const sim = ecu();
      await expect(sim.enrolWithRetry(rec.transport, rec.policy())).rejects.toBeInstanceOf(EnrolmentError);
      expect(rec.waits).toEqual([]);
      expect(rec.bodies).toHaveLength(1);
      expect(sim.enrolment).toBeUndefined();
    }
  });

  it('gives up after its attempts with the last refusal, keeping no certificate', async () => {
    const rec = recorder(
      Array.from({ length: 10 }, () => ({ statusCode: 429, headers: { 'retry-after': '1' } })),
    );
    const sim = ecu();
    await expect(sim.enrolWithRetry(rec.transport, rec.policy({ attempts: 3 }))).rejects.toMatchObject({
      statusCode: 429,
    });
    expect(rec.bodies).toHaveLength(3);
    expect(rec.waits).toHaveLength(2);
    expect(sim.enrolment).toBeUndefined();
  });
});

describe('retryAfterSeconds', () => {
  it('reads delta-seconds under any header case; ignores dates, negatives, fractions and absurd values', () => {
    expect(retryAfterSeconds({ 'Retry-After': '5' })).toBe(5);
    expect(retryAfterSeconds({ 'retry-after': '0' })).toBe(0);
    expect(retryAfterSeconds({ 'RETRY-AFTER': '3600' })).toBe(3600);
    for (const v of ['-1', '1.5', 'Wed, 21 Oct 2015 07:28:00 GMT', '', '3601', '1e3']) {
      expect(retryAfterSeconds({ 'Retry-After': v }), v).toBeUndefined();
    }
    expect(retryAfterSeconds(undefined)).toBeUndefined();
    expect(retryAfterSeconds({})).toBeUndefined();
  });
});

import { describe, expect, it } from 'vitest';
import { memoryDeps } from '../eval/memory.js';
import { onCounters } from '../src/counters.js';
import { type BucketCounts, emptyCounts, type Metric, type Role } from '../src/model.js';
import { onPresence } from '../src/presence.js';
import type { PresenceEvent } from '../src/rules.js';

const T0 = Date.UTC(2026, 10, 2); // a Monday, 00:00 UTC
const HOUR = 3_600_000;
const THING = 'WVWZZZ1JZXW000001_tcu-1';
const CERT = 'ab'.repeat(32);
const roles = new Map<string, Role>([[THING, 'telematics']]);

function connected(at: number, ip: string, thingName = THING): PresenceEvent {
  return { thingName, kind: 'connected', at, sessionId: `s-${at}`, certificateId: CERT, ipAddress: ip };
}
function disconnected(at: number, reason: string, thingName = THING): PresenceEvent {
  return {
    thingName,
    kind: 'disconnected',
    at,
    sessionId: `s-${at}`,
    certificateId: CERT,
    disconnectReason: reason,
  };
}
function bucket(thingName: string, hour: number, counts: Partial<Record<Metric, number>>): BucketCounts {
  return {
    thingName,
    start: (T0 + hour * HOUR) / 1000,
    counts: { ...emptyCounts(), ...counts },
    disconnectReasons: {},
  };
}

/** Feeds `hours` of one ECU's counters through the stream use case (each bucket new, then judged). */
async function feed(
  memory: ReturnType<typeof memoryDeps>,
  thingName: string,
  hours: number[],
  counts: (h: number) => Partial<Record<Metric, number>>,
) {
  const raised: string[] = [];
  for (const h of hours) {
    const b = bucket(thingName, h, counts(h));
    memory.setNow(T0 + (h + 1) * HOUR);
    await memory.deps.counters.add([{ thingName, start: b.start, add: b.counts }]);
    raised.push(...(await onCounters([{ bucket: b, isNew: true }], memory.deps)));
  }
  return raised;
}
const normal = (h: number) => ({
  sent: 100 + (h % 5) * 4,
  bytes: 26_000 + (h % 7) * 500,
  maxBytes: 420 + (h % 3) * 30,
  connects: h % 9 === 0 ? 1 : 0,
});
const fieldsOf = (finding: Record<string, unknown> | undefined) =>
  (finding?.ProductFields ?? {}) as Record<string, string>;
const days = (n: number, from = 0) => Array.from({ length: n * 24 }, (_, i) => from + i);

describe('cloned identity (real time, from lifecycle events)', () => {
  const clone = [
    connected(T0 + 1_000, '100.64.0.1'),
    connected(T0 + 60_000, '198.51.100.9'),
    disconnected(T0 + 60_500, 'DUPLICATE_CLIENTID'),
    connected(T0 + 120_000, '100.64.0.1'),
    disconnected(T0 + 120_500, 'DUPLICATE_CLIENTID'),
    connected(T0 + 180_000, '198.51.100.9'),
    disconnected(T0 + 180_500, 'DUPLICATE_CLIENTID'),
  ];

  it('two addresses taking one certificate session from each other -> one CLONED_IDENTITY finding naming the thing and certificate, with provenance', async () => {
    const memory = memoryDeps(roles);
    memory.setNow(T0 + 181_000);
    const raised = await onPresence(clone, memory.deps);
    expect(raised).toEqual([
      `cv-security/behaviour-detector/CLONED_IDENTITY/${THING}/${new Date(T0 + 1_000).toISOString()}`,
    ]);
    const [finding] = memory.findings;
    expect(finding).toMatchObject({
      GeneratorId: 'cv-security/behaviour-detector',
      ProductArn: 'arn:aws:securityhub:eu-west-1:123456789012:product/123456789012/default',
      Severity: { Label: 'CRITICAL' },
      ProductFields: {
        'cv/Check': 'CLONED_IDENTITY',
        'cv/Metric': 'sessionTakeovers',
        'cv/Observed': '3',
        'cv/Threshold': '3',
        'cv/SourceIps': '100.64.0.1,198.51.100.9',
        ThingName: THING,
        DeviceCertificateId: CERT,
      },
    });
    expect(fieldsOf(finding)['cv/Baseline']).toMatch(/handover/);
    expect(memory.provenance.get(raised[0] ?? '')).toMatchObject({
      generatorId: 'cv-security/behaviour-detector',
      targets: { thingName: THING, certificateId: CERT },
    });
  });

  it('the same events redelivered, in another order, add no finding and no takeover', async () => {
    const memory = memoryDeps(roles);
    memory.setNow(T0 + 181_000);
    await onPresence(clone, memory.deps);
    expect(await onPresence([...clone].reverse(), memory.deps)).toEqual([]);
    expect(memory.findings).toHaveLength(1);
  });

  it('a cellular handover (one takeover to a new address) and a tunnel (five reconnects from new addresses) -> no finding', async () => {
    const memory = memoryDeps(roles);
    const events = [
      connected(T0, '100.64.0.1'),
      connected(T0 + 30_000, '100.64.0.2'),
      disconnected(T0 + 30_500, 'DUPLICATE_CLIENTID'),
      ...[1, 2, 3, 4, 5].flatMap((k) => [
        disconnected(T0 + k * 60_000, 'CONNECTION_LOST'),
        connected(T0 + k * 60_000 + 5_000, `100.64.1.${k}`),
      ]),
    ];
    memory.setNow(T0 + 400_000);
    expect(await onPresence(events, memory.deps)).toEqual([]);
    expect(memory.findings).toEqual([]);
    expect(memory.provenance.size).toBe(0);
  });

  it('two takeovers between two addresses stay below the rule (threshold 3)', async () => {
    const memory = memoryDeps(roles);
    memory.setNow(T0 + 181_000);
    expect(await onPresence(clone.slice(0, 5), memory.deps)).toEqual([]);
  });
});

describe('reconnect loop', () => {
  const loop = (n: number) =>
    Array.from({ length: n }, (_, k) => [
      disconnected(T0 + k * 40_000, 'MQTT_KEEP_ALIVE_TIMEOUT'),
      connected(T0 + k * 40_000 + 2_000, '100.64.0.1'),
    ]).flat();

  it('12 connects within 10 minutes -> RECONNECT_LOOP (observed 12, threshold 12); 11 -> nothing', async () => {
    const below = memoryDeps(roles);
    below.setNow(T0 + HOUR);
    expect(await onPresence(loop(11), below.deps)).toEqual([]);
    const at = memoryDeps(roles);
    at.setNow(T0 + HOUR);
    const raised = await onPresence(loop(12), at.deps);
    expect(raised).toHaveLength(1);
    expect(at.findings[0]?.ProductFields).toMatchObject({
      'cv/Check': 'RECONNECT_LOOP',
      'cv/Observed': '12',
      'cv/Threshold': '12',
    });
  });

  it('counts connects, disconnects by reason and source addresses per bucket, one counter write per ECU and bucket', async () => {
    const memory = memoryDeps(roles);
    let writes = 0;
    const add = memory.deps.counters.add.bind(memory.deps.counters);
    memory.deps.counters.add = async (incs) => {
      writes += incs.length;
      await add(incs);
    };
    memory.setNow(T0 + HOUR);
    await onPresence(loop(5), memory.deps);
    expect(writes).toBe(1);
    const stored = memory.counters.get(`${THING}#${String(T0 / 1000).padStart(12, '0')}`);
    expect(stored?.counts).toMatchObject({ connects: 5, disconnects: 5, sourceIps: 1 });
    expect(stored?.disconnectReasons).toEqual({ MQTT_KEEP_ALIVE_TIMEOUT: 5 });
  });
});

describe('statistical baselines (counters)', () => {
  it('a warmed-up ECU flooding at 10x its level -> MESSAGE_FLOOD with metric, observed, baseline and threshold; its normal days -> nothing', async () => {
    const memory = memoryDeps(roles);
    expect(await feed(memory, THING, days(5), normal)).toEqual([]);
    const raised = await feed(memory, THING, [120], () => ({ ...normal(120), sent: 1_000 }));
    expect(raised).toEqual([
      `cv-security/behaviour-detector/MESSAGE_FLOOD/${THING}/${new Date(T0 + 120 * HOUR).toISOString()}`,
    ]);
    const fields = memory.findings[0]?.ProductFields as Record<string, string>;
    expect(fields).toMatchObject({ 'cv/Metric': 'sent', 'cv/Observed': '1000' });
    expect(fields['cv/Baseline']).toMatch(/^ecu level 1\d\d/);
    expect(Number(fields['cv/Threshold'])).toBeGreaterThanOrEqual(300);
    expect(Number(fields['cv/Threshold'])).toBeLessThan(1000);
  });

  it('the flood is not learned as normal: the next hours of flood stay anomalous, and one finding covers them (cool-down)', async () => {
    const memory = memoryDeps(roles);
    await feed(memory, THING, days(5), normal);
    expect(
      await feed(memory, THING, [120, 121, 122, 123], () => ({ ...normal(0), sent: 1_000 })),
    ).toHaveLength(1);
    const b = (await memory.deps.state.ecuBaseline(THING))?.value;
    expect(b?.stats.sent.every((s) => s.m < 200)).toBe(true);
    // After the cool-down (24 h past the last observation) the same behaviour raises again.
    await feed(memory, THING, days(1, 124), normal);
    expect(await feed(memory, THING, [150], () => ({ ...normal(0), sent: 1_000 }))).toHaveLength(1);
  });

  it('a new ECU with no history is judged against its role', async () => {
    const fleet = Array.from({ length: 16 }, (_, i) => `WVWZZZ1JZXW0000${String(i).padStart(2, '0')}_tcu-1`);
    const memory = memoryDeps(
      new Map([...fleet, 'NEWVIN00000000001_tcu-1'].map((t) => [t, 'telematics' as Role])),
      { roleSampleModulo: 1 },
    );
    for (const t of fleet) await feed(memory, t, days(2), normal);
    const raised = await feed(memory, 'NEWVIN00000000001_tcu-1', [47], () => ({ ...normal(47), sent: 900 }));
    expect(raised).toHaveLength(1);
    expect(fieldsOf(memory.findings[0])['cv/Baseline']).toMatch(/^role level/);
    // Its role's normal is fine for it.
    const quiet = memoryDeps(
      new Map([...fleet, 'NEWVIN00000000001_tcu-1'].map((t) => [t, 'telematics' as Role])),
      { roleSampleModulo: 1 },
    );
    for (const t of fleet) await feed(quiet, t, days(2), normal);
    expect(await feed(quiet, 'NEWVIN00000000001_tcu-1', [47], normal)).toEqual([]);
  });

  it('an exfiltration-sized message far beyond the role range -> MESSAGE_SIZE_JUMP even on a cold stack; 3x the usual -> nothing', async () => {
    const memory = memoryDeps(roles);
    expect(await feed(memory, THING, [0], () => ({ ...normal(0), maxBytes: 1_300 }))).toEqual([]);
    const raised = await feed(memory, THING, [1], () => ({ ...normal(1), sent: 101, maxBytes: 96_000 }));
    expect(raised).toHaveLength(1);
    expect(memory.findings[0]?.ProductFields).toMatchObject({
      'cv/Check': 'MESSAGE_SIZE_JUMP',
      'cv/Observed': '96000',
    });
  });

  it('command probing below authz-detector threshold: on a warm ECU 3 failures in an hour -> AUTHORIZATION_PROBING, 2 -> nothing; on a cold stack (no baseline) twice the floor', async () => {
    const warm = memoryDeps(roles);
    await feed(warm, THING, days(4), normal);
    expect(await feed(warm, THING, [96], () => ({ ...normal(96), authzFailures: 2 }))).toEqual([]);
    expect(await feed(warm, THING, [97], () => ({ ...normal(97), authzFailures: 3 }))).toHaveLength(1);
    expect(warm.findings[0]?.ProductFields).toMatchObject({
      'cv/Metric': 'authzFailures',
      'cv/Observed': '3',
      'cv/Threshold': '2',
    });
    const cold = memoryDeps(roles);
    expect(await feed(cold, THING, [0], () => ({ ...normal(0), authzFailures: 4 }))).toEqual([]);
    expect(await feed(cold, THING, [1], () => ({ ...normal(1), authzFailures: 5 }))).toHaveLength(1);
  });
});

describe('raising', () => {
  it('a failed import is completed by the retry with the same finding and its provenance, never a second finding', async () => {
    const memory = memoryDeps(roles);
    const real = memory.deps.findings.import;
    let fail = true;
    memory.deps.findings.import = async (f) => {
      if (fail) throw new Error('throttled');
      await real(f);
    };
    memory.setNow(T0 + HOUR);
    const b = bucket(THING, 0, { authzFailures: 5 });
    await memory.deps.counters.add([{ thingName: THING, start: b.start, add: b.counts }]);
    await expect(onCounters([{ bucket: b, isNew: true }], memory.deps)).rejects.toThrow('throttled');
    expect(memory.findings).toEqual([]);
    fail = false;
    expect(await onCounters([{ bucket: b, isNew: true }], memory.deps)).toEqual([]);
    expect(memory.findings).toHaveLength(1);
    expect(memory.provenance.has(String(memory.findings[0]?.Id))).toBe(true);
    expect(memory.raised.get(`${THING}#AUTHORIZATION_PROBING`)?.imported).toBe(true);
  });

  it('the provenance record is written before the finding is imported', async () => {
    const memory = memoryDeps(roles);
    const order: string[] = [];
    const write = memory.deps.provenance.write;
    memory.deps.provenance.write = async (r, t) => {
      order.push('provenance');
      await write(r, t);
    };
    const imp = memory.deps.findings.import;
    memory.deps.findings.import = async (f) => {
      order.push('import');
      await imp(f);
    };
    await feed(memory, THING, [0], () => ({ authzFailures: 9 }));
    expect(order).toEqual(['provenance', 'import']);
  });
});

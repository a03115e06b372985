/**
 * The detector evaluated on a synthetic fleet (eval/fleet.ts, fixed seed): recall per injected anomaly, precision,
 * false-positive findings per 10,000 healthy ECUs per day, detection delay; then the cost of judging one bucket.
 * Run: `pnpm bench --project @cv/behaviour-detector` (figures in docs/detection.md).
 */
import { bench, describe } from 'vitest';
import { evaluate } from '../eval/evaluate.js';
import { judgeBucket } from '../src/judge.js';
import { emptyCounts, ROLE_PARAMETERS } from '../src/model.js';
import { emptyBaseline, fold } from '../src/stats.js';

export const FLEET = {
  seed: 19,
  ecus: 2000,
  days: 21,
  start: Date.UTC(2026, 10, 2),
  perAnomaly: 20,
  learnDays: 7,
  lateJoiners: 0.1,
};

const started = performance.now();
const result = await evaluate(FLEET);
const falsePositives = result.findings.filter((f) => !f.truePositive);
console.log(
  [
    `behaviour-detector evaluation: seed ${FLEET.seed}, ${FLEET.ecus} ECUs x ${FLEET.days} days (${result.healthyEcuDays} healthy ECU-days), ${FLEET.perAnomaly} ECUs per anomaly, ${Math.round(performance.now() - started)} ms`,
    ...Object.entries(result.recall).map(
      ([kind, r]) =>
        `  recall ${kind}: ${r.detected}/${r.injected} (${r.behaviours.join(', ')}); delay median ${result.delay[kind as keyof typeof result.delay].medianSeconds} s, max ${result.delay[kind as keyof typeof result.delay].maxSeconds} s`,
    ),
    `  findings ${result.findings.length}, precision ${result.precision.toFixed(3)}, false positives ${falsePositives.length} = ${result.falsePositivesPer10kEcuDays.toFixed(2)} per 10,000 healthy ECU-days`,
    ...falsePositives.slice(0, 10).map((f) => `  false positive: ${f.findingId}`),
  ].join('\n'),
);

describe('behaviour-detector', () => {
  let baseline = emptyBaseline();
  const counts = { ...emptyCounts(), sent: 120, bytes: 33_000, maxBytes: 600, connects: 1 };
  for (let h = 0; h < 200; h++) baseline = fold(baseline, h * 3600, counts, 0.15);
  bench('judge one ECU bucket (8 metrics + size rule)', () => {
    judgeBucket(
      { thingName: 'VIN_ecu', start: 7200, counts, disconnectReasons: {} },
      baseline,
      baseline,
      ROLE_PARAMETERS.telematics,
    );
  });
});

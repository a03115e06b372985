/**
 * `npm start`: the fleet demo on the local cloud. Flags: --vehicles N (default 3),
 * --duration S (telemetry streaming time in seconds, one round per second, default 5),
 * --commands N (per vehicle, default 2). Exits non-zero if any stage failed.
 */
import { parseArgs } from 'node:util';
import { runFleet } from './fleet.js';

const { values } = parseArgs({
  options: {
    vehicles: { type: 'string', default: '3' },
    duration: { type: 'string', default: '5' },
    commands: { type: 'string', default: '2' },
  },
});
const int = (name: string, v: string | undefined, max: number) => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1 || n > max) {
    console.error(`--${name} must be an integer from 1 to ${max}`);
    process.exit(2);
  }
  return n;
};
const vehicles = int('vehicles', values.vehicles, 200);
const duration = int('duration', values.duration, 600);
const commands = int('commands', values.commands, 50);

console.log(
  `cv-security fleet demo: ${vehicles} vehicles, ${duration}s of telemetry, ${commands} commands per vehicle`,
);
const summary = await runFleet({
  vehicles,
  telemetryPerEcu: duration,
  telemetryIntervalMs: 1000,
  commandsPerVehicle: commands,
  log: (line) => console.log(`  ${line}`),
});
const rows: [string, string][] = [
  ['', ''],
  ...summary.rows.map(([k, v]): [string, string] => [k, String(v)]),
];
const width = Math.max(...rows.map(([k]) => k.length));
console.log('\nsummary');
for (const [k, v] of rows.slice(1)) console.log(`  ${k.padEnd(width)}  ${v}`);
console.log(`  ${'wall time'.padEnd(width)}  ${summary.seconds.toFixed(1)} s`);
if (summary.failures.length > 0) {
  console.error(`\n${summary.failures.length} stage(s) failed:`);
  for (const f of summary.failures) console.error(`  - ${f}`);
  process.exit(1);
}
process.exit(0);

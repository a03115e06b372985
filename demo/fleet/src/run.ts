/**
 * `npm start`: the fleet demo on the local cloud. Flags: --vehicles N (default 3),
 * --duration S (telemetry streaming time in seconds, one round per second, default 5),
 * --commands N (per vehicle, default 2), --help. Exits non-zero if any stage failed.
 */
import { parseArgs } from 'node:util';
import { runFleet } from './fleet.js';

const USAGE = `usage: npm start -- [--vehicles N] [--duration S] [--commands N]

The fleet demo on the local cloud: N vehicles (3 ECUs each) enrol, connect (JITR), receive
commands, stream encrypted telemetry, and one misbehaving ECU is detected and remediated.

  --vehicles N   vehicles, 1 to 200 (default 3)
  --duration S   seconds of telemetry, one reading per ECU per second, 1 to 600 (default 5)
  --commands N   commands per vehicle, 1 to 50 (default 2)
  -h, --help     this text

Exits 0 when every stage passed, 1 when one failed, 2 for a bad option.`;

let values: { vehicles?: string; duration?: string; commands?: string; help?: boolean };
try {
  ({ values } = parseArgs({
    options: {
      vehicles: { type: 'string', default: '3' },
      duration: { type: 'string', default: '5' },
      commands: { type: 'string', default: '2' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  }));
} catch (error) {
  console.error(`${error instanceof Error ? error.message : String(error)}\n\n${USAGE}`);
  process.exit(2);
}
if (values.help) {
  console.log(USAGE);
  process.exit(0);
}
const int = (name: string, v: string | undefined, max: number) => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1 || n > max) {
    console.error(`--${name} must be an integer from 1 to ${max}\n\n${USAGE}`);
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

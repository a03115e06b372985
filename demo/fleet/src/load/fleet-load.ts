/**
 * `pnpm run fleet-load`: the load harness (harness.ts). Flags: --ecus N (default 300),
 * --time-scale S (quota seconds per real second, default 4), --concurrency N (events in flight
 * per flow, default 48), --flows enrolment,jitr,commands,telemetry (the mix; default all),
 * --online N (ECUs kept connected after JITR, gateways first, default 3000; the others connect for
 * their telemetry),
 * --commands-per-vehicle N (default 1), --telemetry-per-ecu N (default 5), --latency (model
 * typical service latencies), --jitr-reserved N (jitr-handler's reserved concurrency, default the
 * stack's jitrReservedConcurrency; 0: none), --out DIR (default .fleet-load: report.html and result.json).
 * Exits non-zero when an invariant fails.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { stackParamDefault } from '../fleet.js';
import { FLOWS, type FlowName, runLoad } from './harness.js';
import { renderReport } from './report.js';
import { formatTable, summarise } from './table.js';

const USAGE = `usage: pnpm run fleet-load -- [--ecus N] [--time-scale S] [--concurrency N] [--flows LIST]
         [--online N] [--commands-per-vehicle N] [--telemetry-per-ecu N] [--jitr-reserved N] [--latency]
         [--profile] [--out DIR]
  --ecus N                  ECUs in the synthetic fleet (default 300, 1 to 100000)
  --time-scale S            quota seconds per real second (default 4)
  --concurrency N           events in flight per flow (default 48)
  --flows LIST              a comma-separated subset of ${FLOWS.join(',')} (default all)
  --online N                ECUs kept connected after JITR, gateways first (default 3000); the others
                            connect for their telemetry
  --commands-per-vehicle N  commands per vehicle in the campaign (default 1)
  --telemetry-per-ecu N     telemetry readings per registered ECU (default 5)
  --jitr-reserved N         jitr-handler's reserved concurrency (default: the stack's jitrReservedConcurrency; 0: none)
  --latency                 model typical service-side latencies
  --profile                 CPU profile per flow, summarised in the table
  --out DIR                 where report.html and result.json go (default .fleet-load)
Exits 1 when an invariant fails, 2 on a bad option.`;

const options = {
  ecus: { type: 'string', default: '300' },
  'time-scale': { type: 'string', default: '4' },
  concurrency: { type: 'string', default: '48' },
  flows: { type: 'string', default: FLOWS.join(',') },
  online: { type: 'string', default: '3000' },
  'commands-per-vehicle': { type: 'string', default: '1' },
  'telemetry-per-ecu': { type: 'string', default: '5' },
  latency: { type: 'boolean', default: false },
  'jitr-reserved': { type: 'string' },
  out: { type: 'string', default: '.fleet-load' },
  profile: { type: 'boolean', default: false },
  help: { type: 'boolean', short: 'h', default: false },
} as const;
let parsed: ReturnType<typeof parseArgs<{ options: typeof options }>>;
try {
  // pnpm passes a leading `--` on (`pnpm run fleet-load -- --ecus N`).
  const args = process.argv.slice(2);
  parsed = parseArgs({ options, args: args[0] === '--' ? args.slice(1) : args });
} catch (error) {
  console.error(`fleet-load: ${(error as Error).message}\n${USAGE}`);
  process.exit(2);
}
const { values } = parsed;
if (values.help) {
  console.log(USAGE);
  process.exit(0);
}
const num = (name: string, v: string | undefined, min: number, max: number) => {
  const n = Number(v);
  if (!Number.isFinite(n) || n < min || n > max) {
    console.error(`--${name} must be a number from ${min} to ${max}`);
    process.exit(2);
  }
  return n;
};
const flows = (values.flows ?? '').split(',').filter(Boolean) as FlowName[];
if (flows.some((f) => !FLOWS.includes(f))) {
  console.error(`--flows: a comma-separated subset of ${FLOWS.join(',')}`);
  process.exit(2);
}
const ecus = Math.floor(num('ecus', values.ecus, 1, 100_000));
const timeScale = num('time-scale', values['time-scale'], 0.01, 1000);
const concurrency = Math.floor(num('concurrency', values.concurrency, 1, 5000));
// The stack's reserved concurrency for jitr-handler unless given; 0 models none (every event at once).
const jitrReserved = Math.floor(
  num(
    'jitr-reserved',
    values['jitr-reserved'] ?? String(stackParamDefault('jitrReservedConcurrency')),
    0,
    1000,
  ),
);
const online = Math.floor(num('online', values.online, 0, 100_000));
// Each online ECU holds two descriptors in this one process (both ends of its TLS connection), and
// so does each ECU connected for a telemetry trip (at most --concurrency at once).
const openFiles = /^Max open files\s+(\d+)/m.exec(
  (() => {
    try {
      return readFileSync('/proc/self/limits', 'utf8');
    } catch {
      return '';
    }
  })(),
);
const needed = (online + concurrency) * 2 + 2_000;
if (openFiles && needed > Number(openFiles[1])) {
  console.error(
    `--online ${online} needs about ${needed} open files at --concurrency ${concurrency}; this process may have ${openFiles[1]} ` +
      `(ulimit -n): use --online ${Math.max(0, Math.floor((Number(openFiles[1]) - 2_000) / 2) - concurrency)} or less ` +
      '(ECUs not kept online connect for their telemetry)',
  );
  process.exit(2);
}
const out = resolve(process.env.INIT_CWD ?? process.cwd(), values.out ?? '.fleet-load');

console.log(
  `fleet-load: ${ecus} ECUs, time scale ${timeScale}, concurrency ${concurrency}, jitr-handler reserved ${jitrReserved || 'none'}, flows ${flows.join(', ')}`,
);
const result = await runLoad({
  ecus,
  timeScale,
  concurrency,
  flows,
  online,
  commandsPerVehicle: Math.floor(num('commands-per-vehicle', values['commands-per-vehicle'], 1, 100)),
  jitrReservedConcurrency: jitrReserved,
  telemetryPerEcu: Math.floor(num('telemetry-per-ecu', values['telemetry-per-ecu'], 1, 1000)),
  // Typical service-side latencies (quota milliseconds), only with --latency.
  latencyMs: values.latency ? { 'acm-pca': 150, iot: 40, iotdata: 20, kms: 10, ssm: 20 } : {},
  ...(values.profile ? { profileDir: join(out, 'profiles') } : {}),
  log: (line) => console.log(line),
});
const table = formatTable(result);
console.log(`\n${table}\n\nwall time ${result.seconds.toFixed(1)} s`);
mkdirSync(out, { recursive: true });
writeFileSync(join(out, 'report.html'), renderReport(result, table));
writeFileSync(
  join(out, 'result.json'),
  JSON.stringify(
    {
      options: result.options,
      flows: result.flows.map((f) => summarise(result, f)),
      invariants: result.invariants,
      quotas: result.quotas,
      lambda: result.lambda,
      seconds: result.seconds,
    },
    null,
    2,
  ),
);
console.log(`report: ${join(out, 'report.html')}`);
process.exit(result.invariants.every((i) => i.ok) ? 0 : 1);

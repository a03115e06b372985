#!/usr/bin/env node
// `pnpm run events`: asks the running local cloud (`pnpm run local-cloud`) to write fresh sample
// events for every function into .local-cloud/events/ (attestations signed now, tokens from the
// local issuer, telemetry under the local TelemetryKey, a certificate pending JITR, an imported
// finding, a command that exists). See demo/fleet/src/local-events.ts and README.md.
import { readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const statePath = process.env.CV_LOCAL_CLOUD_STATE ?? join(root, '.local-cloud/state.json');
const notRunning = (why) => {
  console.error(`The local cloud is not running (${why}). Start it in another terminal:
  sh scripts/toolchain.sh pnpm run local-cloud
then run \`pnpm run events\` again (the local cloud also writes fresh events when it starts).`);
  process.exit(1);
};

let state;
try {
  state = JSON.parse(readFileSync(statePath, 'utf8'));
} catch {
  notRunning(`no ${relative(process.cwd(), statePath)}`);
}
let response;
try {
  response = await fetch(`${state.endpoint}/__local/events`, {
    method: 'POST',
    signal: AbortSignal.timeout(30_000),
  });
} catch {
  notRunning(`nothing answers at ${state.endpoint}; ${relative(process.cwd(), statePath)} is stale`);
}
const out = await response.json().catch(() => ({}));
if (!response.ok) {
  console.error(`the local cloud could not write the events: ${out.error ?? response.status}`);
  process.exit(1);
}
console.log(`fresh events in ${relative(process.cwd(), out.dir)}/:`);
for (const file of out.files) console.log(`  ${file}`);

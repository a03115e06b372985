#!/usr/bin/env node
// `pnpm run fleet-load`: the fleet load harness on the local cloud with AWS's default quotas
// (demo/fleet/src/load/fleet-load.ts; flags there). Writes .fleet-load/report.html and result.json.
import { runBundled } from './run-bundled.mjs';

process.exit(await runBundled('demo/fleet/src/load/fleet-load.ts', process.argv.slice(2)));

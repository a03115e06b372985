#!/usr/bin/env node
// The admin API's manifest route bench (bench/manifest-route.ts), bundled and run like the demo:
// node functions/admin-api/bench/run.mjs [--rows N]   (default 10,000: the route's cap)
import { runBundled } from '../../../scripts/run-bundled.mjs';

process.exit(await runBundled('functions/admin-api/bench/manifest-route.ts', process.argv.slice(2)));

#!/usr/bin/env node
// The write-primitive comparison (bench/write-modes.ts), bundled and run like the demo:
// node packages/admin/bench/write-modes.mjs [rows] [p:N | t:SIZE:N]...
import { runBundled } from '../../../scripts/run-bundled.mjs';

process.exit(await runBundled('packages/admin/bench/write-modes.ts', process.argv.slice(2)));

#!/usr/bin/env node
// The manifest import bench (bench/manifest-import.ts), bundled and run like the demo:
// node packages/admin/bench/run.mjs [--rows N]   (default one million rows)
import { runBundled } from '../../../scripts/run-bundled.mjs';

process.exit(await runBundled('packages/admin/bench/manifest-import.ts', process.argv.slice(2)));

#!/usr/bin/env node
// The main job (`npm start`): the fleet demo on the local cloud (packages/local-cloud); see
// demo/fleet/src/run.ts. Flags: --vehicles N (default 3), --duration S (default 5), --commands N (default 2).
// The bundle-size table of the packaged functions is `pnpm run bundle-sizes`.
import { runBundled } from './run-bundled.mjs';

process.exit(await runBundled('demo/fleet/src/run.ts', process.argv.slice(2)));

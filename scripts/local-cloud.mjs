#!/usr/bin/env node
// `pnpm run local-cloud`: serves the seeded local cloud on 127.0.0.1:4566 (--port N) until Ctrl-C,
// for `serverless invoke local --stage local`; see demo/fleet/src/serve.ts and README.md.
import { runBundled } from './run-bundled.mjs';

process.exit(await runBundled('demo/fleet/src/serve.ts', process.argv.slice(2)));

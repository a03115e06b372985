#!/usr/bin/env node
// Bundle report (`pnpm bundle-report`, not part of `npm test`). Needs a packaged service
// (`npm start` or `pnpm run package`) in .serverless/. For every packaged function:
//   1. what is in its bundle: esbuild is re-run on the function's handler with the exact
//      `custom.esbuild` options serverless-esbuild used (from .serverless/serverless-state.json),
//      with a metafile; the metafile goes to .esbuild-report/<entry>.json and the largest
//      packages (bytes in the minified output) and packages present in several versions are printed;
//   2. its cold-start init time on this machine: the packaged .mjs (unzipped from the deployment
//      zip) is imported N times in a fresh `node --enable-source-maps` with the environment of the
//      packaged template (Ref/GetAtt replaced by placeholders of the right shape, AWS_REGION set,
//      no credentials, no network) and the median import time is reported.
// The samples are taken round-robin over all bundles, so load from other processes spreads evenly.
// Usage: node scripts/bundle-report.mjs [--runs N] [--top K] [--no-init] [--no-meta] [--baseline DIR]
//   --baseline DIR: also measure a packaged service saved earlier (a copy of .serverless/), interleaved
//                   with the current one, and print both side by side:
//                     cp -r .serverless /tmp/before; <change>; npm start; pnpm bundle-report --baseline /tmp/before
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join, relative, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { inflateRawSync } from 'node:zlib';
import { build } from 'esbuild';

const root = fileURLToPath(new URL('..', import.meta.url));
const args = process.argv.slice(2);
const opt = (name, fallback) => {
  const i = args.indexOf(name);
  return i < 0 ? fallback : Number(args[i + 1]);
};
const runs = opt('--runs', 11);
const top = opt('--top', 8);
const measureInit = !args.includes('--no-init');
const measureMeta = !args.includes('--no-meta');
const baselineArg = args.indexOf('--baseline');
const baseline = baselineArg < 0 ? undefined : resolve(args[baselineArg + 1]);

function load(dir) {
  try {
    return {
      dir,
      state: JSON.parse(readFileSync(join(dir, 'serverless-state.json'), 'utf8')),
      template: JSON.parse(readFileSync(join(dir, 'cloudformation-template-update-stack.json'), 'utf8')),
    };
  } catch (error) {
    console.error(`bundle-report: no packaged service in ${dir} (run npm start first): ${error.message}`);
    process.exit(1);
  }
}
const current = load(join(root, '.serverless'));
const services = baseline ? [load(baseline), current] : [current];
const { state } = current;

// serverless-esbuild's own settings; everything else in custom.esbuild goes to esbuild as is.
const pluginOnly = new Set([
  'exclude',
  'packager',
  'packagerOptions',
  'outputFileExtension',
  'installExtraArgs',
  'keepOutputDirectory',
  'nativeZip',
  'watch',
  'skipBuild',
  'skipRebuild',
  'skipBuildExcludeFns',
  'stripEntryResolveExtensions',
  'disposeContext',
  'outputWorkFolder',
  'outputBuildFolder',
  'concurrency',
  'zipConcurrency',
  'external',
  'node_modules',
]);
const custom = state.service.custom?.esbuild ?? {};
const esbuildOptions = Object.fromEntries(Object.entries(custom).filter(([k]) => !pluginOnly.has(k)));

const kib = (bytes) => (bytes / 1024).toFixed(1);
const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

/** `node_modules/.pnpm/<name>@<version>/node_modules/<name>/...` -> { name, version, dir } */
function packageOf(input) {
  const m = input.match(/node_modules\/\.pnpm\/[^/]+\/node_modules\/((?:@[^/]+\/)?[^/]+)\/(.*)$/);
  if (!m) {
    const ws = input.match(/^(packages|functions)\/([^/]+)\//);
    return { name: ws ? `(${ws[1]}/${ws[2]})` : '(other)', version: '', dir: '' };
  }
  const storeDir = input.match(/node_modules\/\.pnpm\/([^/]+)\//)?.[1] ?? '';
  const name = m[1];
  const version = storeDir.slice(name.replace('/', '+').length + 1).split('_')[0];
  const dir = m[2].split('/')[0];
  return { name, version, dir };
}

function analyse(metafile) {
  const output = Object.values(metafile.outputs).find((o) => o.entryPoint);
  const byPackage = new Map();
  const versions = new Map();
  const cjs = new Map();
  for (const [input, { bytesInOutput }] of Object.entries(output.inputs)) {
    const { name, version, dir } = packageOf(input);
    const key = version ? `${name}@${version}` : name;
    byPackage.set(key, (byPackage.get(key) ?? 0) + bytesInOutput);
    if (version) {
      if (!versions.has(name)) versions.set(name, new Map());
      const v = versions.get(name);
      v.set(version, (v.get(version) ?? 0) + bytesInOutput);
      if (dir === 'dist-cjs' && bytesInOutput > 0) cjs.set(key, (cjs.get(key) ?? 0) + bytesInOutput);
    }
  }
  const group = (prefix) =>
    [...byPackage].filter(([k]) => k.startsWith(prefix)).reduce((n, [, b]) => n + b, 0);
  return {
    bytes: output.bytes,
    top: [...byPackage].sort((a, b) => b[1] - a[1]).slice(0, top),
    groups: {
      '@aws-sdk': group('@aws-sdk/'),
      '@smithy': group('@smithy/'),
      '@aws-crypto': group('@aws-crypto/'),
      powertools: group('@aws-lambda-powertools/'),
      '@middy': group('@middy/'),
      zod: group('zod@'),
      own: group('('),
    },
    duplicates: [...versions]
      .filter(([, v]) => [...v.values()].filter((b) => b > 0).length > 1)
      .map(([name, v]) => `${name} {${[...v].map(([ver, b]) => `${ver}: ${kib(b)}`).join(', ')}}`),
    cjs: [...cjs].sort((a, b) => b[1] - a[1]),
  };
}

/** Extracts one entry of a zip (stored or deflated) via its central directory. */
function unzipEntry(zipPath, wanted) {
  const zip = readFileSync(zipPath);
  const eocd = zip.lastIndexOf(Buffer.from([0x50, 0x4b, 0x05, 0x06]));
  const count = zip.readUInt16LE(eocd + 10);
  let offset = zip.readUInt32LE(eocd + 16);
  for (let i = 0; i < count; i++) {
    const method = zip.readUInt16LE(offset + 10);
    const compressed = zip.readUInt32LE(offset + 20);
    const nameLength = zip.readUInt16LE(offset + 28);
    const extraLength = zip.readUInt16LE(offset + 30);
    const commentLength = zip.readUInt16LE(offset + 32);
    const local = zip.readUInt32LE(offset + 42);
    const name = zip.toString('utf8', offset + 46, offset + 46 + nameLength);
    if (name === wanted) {
      const start = local + 30 + zip.readUInt16LE(local + 26) + zip.readUInt16LE(local + 28);
      const data = zip.subarray(start, start + compressed);
      return method === 0 ? data : inflateRawSync(data);
    }
    offset += 46 + nameLength + extraLength + commentLength;
  }
  return undefined;
}

/** Template environment with CloudFormation intrinsics replaced by placeholders of the right shape. */
function placeholderEnv(variables) {
  const env = {};
  for (const [k, v] of Object.entries(variables ?? {})) {
    if (typeof v === 'string') env[k] = v;
    else if (v.Ref === 'AWS::AccountId') env[k] = '123456789012';
    else if (v.Ref === 'AWS::Region') env[k] = 'eu-west-1';
    else if (v.Ref) env[k] = `cv-security-dev-${v.Ref}`;
    else if (v['Fn::GetAtt']?.[1] === 'Arn')
      env[k] = 'arn:aws:kms:eu-west-1:123456789012:key/00000000-0000-4000-8000-000000000000';
    else if (v['Fn::GetAtt']?.[1] === 'Id') env[k] = '0'.repeat(64);
    else env[k] = 'placeholder';
  }
  return env;
}

/** The packaged functions of one service: key, serverless function, CloudFormation resource. */
const functionsOf = ({ state, template }) =>
  Object.entries(template.Resources)
    .filter(([, r]) => r.Type === 'AWS::Lambda::Function')
    .map(([, r]) => {
      const name = Object.entries(state.service.functions).find(
        ([, f]) => f.name === r.Properties.FunctionName,
      );
      return { key: name[0], fn: name[1], resource: r };
    })
    .sort((a, b) => a.key.localeCompare(b.key));

const outDir = join(root, '.esbuild-report');
mkdirSync(outDir, { recursive: true });
const work = mkdtempSync(join(tmpdir(), 'bundle-report-'));
const analysed = new Map();
const bundles = new Map(); // sha256 of the .mjs, its map and env -> { key, file, env, times }
const rows = services.map(() => new Map()); // per service: function key -> row
try {
  for (const [s, service] of services.entries())
    for (const { key, fn, resource } of functionsOf(service)) {
      const handler = fn.handler;
      const modulePath = handler.slice(0, handler.lastIndexOf('.'));
      const entry = `${modulePath}.ts`;
      if (measureMeta && service === current && !analysed.has(entry)) {
        const result = await build({
          ...esbuildOptions,
          absWorkingDir: root,
          entryPoints: [entry],
          outdir: join(work, 'build'),
          outExtension: { '.js': custom.outputFileExtension ?? '.js' },
          metafile: true,
          write: false,
          logLevel: 'error',
        });
        const file = join(outDir, `${modulePath.replaceAll('/', '_')}.json`);
        writeFileSync(file, JSON.stringify(result.metafile));
        analysed.set(entry, { ...analyse(result.metafile), file: relative(root, file) });
      }
      const zipPath = join(service.dir, basename(fn.package.artifact));
      const zipSize = readFileSync(zipPath).length;
      const code = unzipEntry(zipPath, `${modulePath}.mjs`);
      if (!code) throw new Error(`${key}: ${modulePath}.mjs not in ${zipPath}`);
      const map = unzipEntry(zipPath, `${modulePath}.mjs.map`);
      const env = {
        PATH: process.env.PATH,
        ...placeholderEnv(resource.Properties.Environment?.Variables),
        AWS_REGION: 'eu-west-1',
        AWS_DEFAULT_REGION: 'eu-west-1',
        AWS_LAMBDA_FUNCTION_NAME: resource.Properties.FunctionName,
        AWS_LAMBDA_FUNCTION_MEMORY_SIZE: '256',
        AWS_EC2_METADATA_DISABLED: 'true',
      };
      const digest = createHash('sha256')
        .update(code)
        .update(map ?? '')
        .update(JSON.stringify(env))
        .digest('hex');
      if (!bundles.has(digest)) {
        const dir = join(work, digest.slice(0, 16));
        mkdirSync(dir, { recursive: true });
        const file = join(dir, 'handler.mjs');
        writeFileSync(file, code);
        if (map) writeFileSync(`${file}.map`, map);
        bundles.set(digest, { key, file, env, times: [] });
      }
      rows[s].set(key, { mjs: code.length, zip: zipSize, digest });
    }
  for (let i = 0; measureInit && i < runs; i++) {
    for (const b of bundles.values()) {
      const script = `const t0 = performance.now(); await import(${JSON.stringify(pathToFileURL(b.file).href)}); process.stdout.write(String(performance.now() - t0));`;
      const r = spawnSync(process.execPath, ['--enable-source-maps', '--input-type=module', '-e', script], {
        env: b.env,
        encoding: 'utf8',
      });
      if (r.status !== 0) throw new Error(`${b.key}: import failed:\n${r.stderr}`);
      b.times.push(Number(r.stdout));
    }
  }
} finally {
  rmSync(work, { recursive: true, force: true });
}

for (const [entry, a] of analysed) {
  console.log(`\n${entry}: ${kib(a.bytes)} KiB (metafile ${a.file})`);
  console.log(
    `  groups (KiB): ${Object.entries(a.groups)
      .map(([g, b]) => `${g} ${kib(b)}`)
      .join(', ')}`,
  );
  console.log(`  largest: ${a.top.map(([p, b]) => `${p} ${kib(b)}`).join(', ')}`);
  if (a.duplicates.length) console.log(`  several versions: ${a.duplicates.join('; ')}`);
  if (a.cjs.length)
    console.log(
      `  dist-cjs builds: ${a.cjs.length} packages, ${kib(a.cjs.reduce((n, [, b]) => n + b, 0))} KiB (${a.cjs
        .slice(0, 5)
        .map(([p]) => p)
        .join(', ')}${a.cjs.length > 5 ? ', ...' : ''})`,
    );
}

const init = (row) => (row && measureInit ? median(bundles.get(row.digest).times) : undefined);
const cells = (row) => (row ? [kib(row.mjs), kib(row.zip), init(row)?.toFixed(1) ?? '-'] : ['-', '-', '-']);
const header = ['function', '.mjs KiB', 'zip KiB', `median init ms (n=${runs})`];
const table = baseline
  ? [
      ['', 'baseline', '', '', 'current', '', '', ''],
      ['function', ...header.slice(1), ...header.slice(1), 'init change'],
      ...[...rows[1].keys()].map((key) => {
        const [b, c] = [rows[0].get(key), rows[1].get(key)];
        const change = init(b) && init(c) ? `${((init(c) / init(b) - 1) * 100).toFixed(0)}%` : '-';
        return [key, ...cells(b), ...cells(c), change];
      }),
    ]
  : [header, ...[...rows[0]].map(([key, row]) => [key, ...cells(row)])];
const widths = table[0].map((_, c) => Math.max(...table.map((r) => r[c].length)));
console.log(
  `\n${table.map((r) => r.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ')).join('\n')}`,
);
if (baseline) console.log(`baseline: ${baseline}; current: ${relative(root, current.dir)}`);
console.log(
  `\nnode ${process.version} ${process.platform}-${process.arch}; esbuild options: ${JSON.stringify(esbuildOptions)}`,
);

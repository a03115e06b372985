#!/usr/bin/env node
// Bundle report (`pnpm bundle-report`, not part of `npm test`; docs/performance.md). Needs a packaged
// service (`pnpm run package`) in .serverless/. For every packaged function:
//   1. its bundle: esbuild is re-run on the function's handler with the exact `custom.esbuild` options
//      serverless-esbuild used (from .serverless/serverless-state.json), with a metafile (written to
//      .esbuild-report/<entry>.json); the largest packages, packages in several versions and
//      CommonJS builds are printed;
//   2. its bare-client bundle: a generated entry that only imports and constructs the AWS SDK clients
//      found in that bundle (same package folders, so the same versions), built with the same options;
//   3. init time: the packaged .mjs (unzipped from the deployment zip) and the bare bundle are each
//      imported in fresh `node --enable-source-maps` processes with the environment of the packaged
//      template (intrinsics replaced by placeholders, AWS_REGION set, no credentials, no network),
//      round-robin over all bundles, each function right after its bare bundle; the ratio of each
//      pair is taken and its median and interquartile range printed, for CPU time (user + system of
//      the importing process, what the check uses: other processes on a shared machine stretch
//      wall-clock time, not CPU time) and for wall-clock time;
//   4. the check: a function misses a target when its bundle exceeds the bare bundle + 150 KB (the
//      classify step, when it constructs no client: 250 KB) or its median CPU init ratio exceeds 1.15;
//      the exit code is then 1.
//      The bare bundle is built without the `alias` option (the SDK with its default credential chain).
// Usage: node scripts/bundle-report.mjs [--runs N] [--top K] [--no-init] [--json FILE] [--compare FILE]
//   --json FILE: also write the rows as JSON; --compare FILE: print a saved run's rows next to this one.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join, relative, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { inflateRawSync } from 'node:zlib';
import { build } from 'esbuild';
import {
  analyse,
  bareEntry,
  clientClass,
  initRatio,
  kb,
  median,
  missedTargets,
} from './bundle-report-lib.mjs';

const root = fileURLToPath(new URL('..', import.meta.url));
const args = process.argv.slice(2);
const opt = (name, fallback) => {
  const i = args.indexOf(name);
  return i < 0 ? fallback : Number(args[i + 1]);
};
const runs = opt('--runs', 11);
const top = opt('--top', 8);
const measureInit = !args.includes('--no-init');
const fileArg = (name) => {
  const i = args.indexOf(name);
  return i < 0 ? undefined : resolve(args[i + 1]);
};
const jsonOut = fileArg('--json');
const compare = fileArg('--compare');

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
const service = load(join(root, '.serverless'));
const { state } = service;

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

/**
 * The packaged functions of one service: key, serverless function, CloudFormation resource. Lambda resources that are
 * not serverless functions (custom-resource handlers inlined in the template) have no bundle and are skipped.
 */
const functionsOf = ({ state, template }) =>
  Object.entries(template.Resources)
    .filter(([, r]) => r.Type === 'AWS::Lambda::Function')
    .map(([, r]) => {
      const name = Object.entries(state.service.functions).find(
        ([, f]) => f.name === r.Properties.FunctionName,
      );
      return name && { key: name[0], fn: name[1], resource: r };
    })
    .filter(Boolean)
    .sort((a, b) => a.key.localeCompare(b.key));

const outDir = join(root, '.esbuild-report');
mkdirSync(outDir, { recursive: true });
const work = mkdtempSync(join(tmpdir(), 'bundle-report-'));
// The bare bundle is the SDK as it ships: the same options without `alias`, which deployed stages
// use only to replace the SDK's default credential chain (docs/performance.md).
const { alias: _alias, ...bareOptions } = esbuildOptions;
const esbuildRun = (extra, options = esbuildOptions) =>
  build({
    ...options,
    absWorkingDir: root,
    outdir: join(work, 'build'),
    outExtension: { '.js': custom.outputFileExtension ?? '.js' },
    metafile: true,
    write: false,
    logLevel: 'error',
    ...extra,
  });
const sha = (...parts) => {
  const h = createHash('sha256');
  for (const p of parts) h.update(p);
  return h.digest('hex');
};
/** Writes a bundle (and its source map) once per content and environment; returns its sample list. */
const bundles = new Map(); // digest -> { label, file, env, times }
function addBundle(label, code, map, env) {
  const digest = sha(code, map ?? '', JSON.stringify(env));
  if (!bundles.has(digest)) {
    const dir = join(work, digest.slice(0, 16));
    mkdirSync(dir, { recursive: true });
    const file = join(dir, 'handler.mjs');
    writeFileSync(file, code);
    if (map) writeFileSync(`${file}.map`, map);
    bundles.set(digest, { label, file, env, times: [] });
  }
  return digest;
}
const analysed = new Map(); // entry -> analysis
const bare = new Map(); // client set -> { bytes, code, map }
const rows = [];
try {
  for (const { key, fn, resource } of functionsOf(service)) {
    const modulePath = fn.handler.slice(0, fn.handler.lastIndexOf('.'));
    const entry = `${modulePath}.ts`;
    if (!analysed.has(entry)) {
      const { metafile } = await esbuildRun({ entryPoints: [entry] });
      const file = join(outDir, `${modulePath.replaceAll('/', '_')}.json`);
      writeFileSync(file, JSON.stringify(metafile));
      analysed.set(entry, { ...analyse(metafile, top), file: relative(root, file) });
    }
    const a = analysed.get(entry);
    const clientsKey = a.clients.map((c) => c.key).join(' ') || '(none)';
    if (!bare.has(clientsKey)) {
      // Metafile paths are relative to the working directory: import each client by absolute path.
      const clients = a.clients.map((c) => ({ ...c, root: join(root, c.root) }));
      const contents = bareEntry(clients, (c) =>
        clientClass(readFileSync(join(c.root, 'dist-es/index.js'), 'utf8')),
      );
      const result = await esbuildRun(
        {
          stdin: { contents, resolveDir: root, sourcefile: 'bare-clients.mjs', loader: 'js' },
          outfile: join(work, 'build', 'bare.mjs'),
          outdir: undefined,
          outExtension: undefined,
        },
        bareOptions,
      );
      const code = result.outputFiles.find((f) => f.path.endsWith('.mjs')).contents;
      const map = result.outputFiles.find((f) => f.path.endsWith('.map'))?.contents;
      bare.set(clientsKey, { bytes: code.length, code, map });
    }
    const b = bare.get(clientsKey);
    const zipPath = join(service.dir, basename(fn.package.artifact));
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
    rows.push({
      key,
      entry,
      clients: clientsKey,
      bytes: code.length,
      zip: readFileSync(zipPath).length,
      bareBytes: b.bytes,
      digest: addBundle(key, code, map, env),
      bareDigest: addBundle(`bare ${clientsKey}`, b.code, b.map, env),
    });
  }
  // One round: every distinct (bare, function) pair, the bare bundle first, each in a fresh process.
  const pairs = [...new Map(rows.map((r) => [`${r.bareDigest} ${r.digest}`, r])).values()];
  // Each sample: wall-clock and CPU (user + system) milliseconds of the import. The check uses CPU time: on a
  // shared machine other processes stretch wall-clock time but not the CPU time the import itself needs.
  const time = (b) => {
    const script = `const c0 = process.cpuUsage(); const t0 = performance.now(); await import(${JSON.stringify(pathToFileURL(b.file).href)}); const c = process.cpuUsage(c0); process.stdout.write(JSON.stringify([performance.now() - t0, (c.user + c.system) / 1000]));`;
    const r = spawnSync(process.execPath, ['--enable-source-maps', '--input-type=module', '-e', script], {
      env: b.env,
      encoding: 'utf8',
    });
    if (r.status !== 0) throw new Error(`${b.label}: import failed:\n${r.stderr}`);
    return JSON.parse(r.stdout);
  };
  const samples = new Map(); // pair -> { fn: [[wall, cpu]], bare: [[wall, cpu]] }
  for (let i = 0; measureInit && i < runs; i++)
    for (const r of pairs) {
      const k = `${r.bareDigest} ${r.digest}`;
      if (!samples.has(k)) samples.set(k, { fn: [], bare: [] });
      samples.get(k).bare.push(time(bundles.get(r.bareDigest)));
      samples.get(k).fn.push(time(bundles.get(r.digest)));
    }
  for (const r of rows) {
    const s = samples.get(`${r.bareDigest} ${r.digest}`);
    if (!s) continue;
    const wall = (xs) => xs.map(([w]) => w);
    const cpu = (xs) => xs.map(([, c]) => c);
    r.initMs = median(wall(s.fn));
    r.bareInitMs = median(wall(s.bare));
    r.wallRatio = initRatio(wall(s.fn), wall(s.bare));
    r.initCpuMs = median(cpu(s.fn));
    r.bareInitCpuMs = median(cpu(s.bare));
    r.ratio = initRatio(cpu(s.fn), cpu(s.bare));
  }
} finally {
  rmSync(work, { recursive: true, force: true });
}

for (const [entry, a] of analysed) {
  console.log(`\n${entry}: ${kb(a.bytes)} KB (metafile ${a.file})`);
  console.log(`  clients: ${a.clients.map((c) => c.key).join(', ') || 'none'}`);
  console.log(`  largest (KB): ${a.top.map(([p, b]) => `${p} ${kb(b)}`).join(', ')}`);
  if (a.duplicates.length) console.log(`  several versions: ${a.duplicates.join('; ')}`);
  if (a.cjs.length)
    console.log(
      `  dist-cjs builds: ${a.cjs.length} packages, ${kb(a.cjs.reduce((n, [, b]) => n + b, 0))} KB (${a.cjs
        .slice(0, 5)
        .map(([p]) => p)
        .join(', ')}${a.cjs.length > 5 ? ', ...' : ''})`,
    );
}

for (const r of rows) r.missed = missedTargets(r);
const previous = compare
  ? new Map(JSON.parse(readFileSync(compare, 'utf8')).map((r) => [r.key, r]))
  : undefined;
const ratioOf = (ratio) =>
  ratio ? `${ratio.median.toFixed(2)}x (${ratio.p25.toFixed(2)}-${ratio.p75.toFixed(2)})` : '-';
const ratioCell = (r) => ratioOf(r?.ratio);
const ms = (x) => x?.toFixed(1) ?? '-';
const header = [
  'function',
  'bundle KB',
  'bare KB',
  'cpu ms',
  'bare cpu ms',
  `init/bare cpu (IQR, n=${runs})`,
  'wall ms',
  'bare wall ms',
  'init/bare wall (IQR)',
];
const cells = (r) => [
  kb(r.bytes),
  kb(r.bareBytes),
  ms(r.initCpuMs),
  ms(r.bareInitCpuMs),
  ratioCell(r),
  ms(r.initMs),
  ms(r.bareInitMs),
  ratioOf(r.wallRatio),
];
const table = [
  previous ? [...header, 'before KB', 'before init/bare', 'check'] : [...header, 'check'],
  ...rows.map((r) => {
    const p = previous?.get(r.key);
    const check = r.missed.length ? `MISSED: ${r.missed.join('; ')}` : 'ok';
    return [r.key, ...cells(r), ...(previous ? [p ? kb(p.bytes) : '-', ratioCell(p)] : []), check];
  }),
];
const widths = table[0].map((_, c) => Math.max(...table.map((r) => r[c].length)));
console.log(
  `\n${table
    .map((r) =>
      r
        .map((c, i) => (i === 0 || i === r.length - 1 ? c.padEnd(widths[i]) : c.padStart(widths[i])))
        .join('  ')
        .trimEnd(),
    )
    .join('\n')}`,
);
if (previous) console.log(`before: ${compare}`);
console.log(
  `\nnode ${process.version} ${process.platform}-${process.arch}; esbuild options: ${JSON.stringify(esbuildOptions)}`,
);
if (jsonOut)
  writeFileSync(
    jsonOut,
    JSON.stringify(
      rows.map(({ digest, bareDigest, ...r }) => r),
      null,
      2,
    ),
  );
const missed = rows.filter((r) => r.missed.length);
if (missed.length) {
  console.error(`\nbundle-report: ${missed.length} function(s) miss the targets (docs/performance.md)`);
  process.exitCode = 1;
}

#!/usr/bin/env node
// Summarises a V8 CPU profile (`node --cpu-prof`): self time by package (or file) and the
// heaviest functions, so a load run shows where its CPU went.
// Usage: node scripts/cpu-profile-summary.mjs <file.cpuprofile> [--top N]
import { existsSync, readFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

// Bundles (scripts/run-bundled.mjs) carry source maps: positions are mapped back to their source
// file, so the time lands on the package or workspace file that spent it.
const B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
function decodeMappings(mappings) {
  const lines = [];
  let src = 0;
  for (const line of mappings.split(';')) {
    const segments = [];
    let col = 0;
    for (const seg of line ? line.split(',') : []) {
      const vals = [];
      let value = 0;
      let shift = 0;
      for (const ch of seg) {
        let digit = B64.indexOf(ch);
        const more = digit & 32;
        digit &= 31;
        value += digit << shift;
        if (more) shift += 5;
        else {
          vals.push(value & 1 ? -(value >>> 1) : value >>> 1);
          value = 0;
          shift = 0;
        }
      }
      col += vals[0] ?? 0;
      if (vals.length > 1) {
        src += vals[1];
        segments.push([col, src]);
      }
    }
    lines.push(segments);
  }
  return lines;
}
const maps = new Map();
function sourceOf(url, line, column) {
  if (!url.startsWith('file://')) return url;
  if (!maps.has(url)) {
    // The map saved beside the profile when it was written (fleet-load --profile), else the
    // bundle's current one, which a later rebuild may have changed.
    const saved = join(dirname(process.argv[2] ?? '.'), 'maps', `${basename(fileURLToPath(url))}.map`);
    const file = existsSync(saved) ? saved : `${fileURLToPath(url)}.map`;
    maps.set(
      url,
      existsSync(file)
        ? (() => {
            const m = JSON.parse(readFileSync(file, 'utf8'));
            return { sources: m.sources, lines: decodeMappings(m.mappings) };
          })()
        : null,
    );
  }
  const map = maps.get(url);
  if (!map) return url;
  const segments = map.lines[line] ?? [];
  let found;
  for (const seg of segments) {
    if (seg[0] > column) break;
    found = seg;
  }
  return found ? map.sources[found[1]] : url;
}

const [file, ...rest] = process.argv.slice(2);
if (!file) {
  console.error('usage: cpu-profile-summary.mjs <file.cpuprofile> [--top N]');
  process.exit(2);
}
const top = Number(rest[rest.indexOf('--top') + 1]) || 15;
const profile = JSON.parse(readFileSync(file, 'utf8'));
const byId = new Map(profile.nodes.map((n) => [n.id, n]));
const self = new Map();
const dt = profile.timeDeltas;
for (let i = 0; i < profile.samples.length; i++) {
  self.set(profile.samples[i], (self.get(profile.samples[i]) ?? 0) + (dt[i] ?? 0));
}
const total = [...self.values()].reduce((a, b) => a + b, 0);
const bucket = (url, name) => {
  if (name === '(idle)') return '(idle)';
  if (name === '(garbage collector)') return '(garbage collector)';
  if (name === '(program)') return '(program: native, crypto, I/O)';
  if (!url) return `(native) ${name}`;
  const pnpm = /node_modules\/\.pnpm\/([^/]+)\//.exec(url);
  if (pnpm) return pnpm[1].replace(/@(\d[^@]*)$/, '').replace(/\+/, '/');
  const chunk = /node:([a-z_/]+)/.exec(url);
  if (chunk) return `node:${chunk[1].split('/')[0]}`;
  const modules = /node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(url);
  if (modules) return modules[1];
  return url.replace(/^.*?\/?(functions|packages|test)\//, '$1/');
};
const packages = new Map();
const functions = new Map();
for (const [id, us] of self) {
  const node = byId.get(id);
  const { functionName, lineNumber, columnNumber } = node.callFrame;
  const url = node.callFrame.url ? sourceOf(node.callFrame.url, lineNumber, columnNumber) : '';
  const key = bucket(url, functionName);
  packages.set(key, (packages.get(key) ?? 0) + us);
  const fn = `${functionName || '(anonymous)'} ${bucket(url, functionName)}`;
  functions.set(fn, (functions.get(fn) ?? 0) + us);
}
const pct = (us) => `${((100 * us) / total).toFixed(1).padStart(5)}%`;
console.log(`profile ${file}: ${(total / 1e6).toFixed(1)} s sampled`);
console.log('\nself time by package or file:');
for (const [k, v] of [...packages].sort((a, b) => b[1] - a[1]).slice(0, top))
  console.log(`  ${pct(v)}  ${k}`);
console.log('\nheaviest functions (self time):');
for (const [k, v] of [...functions].sort((a, b) => b[1] - a[1]).slice(0, top))
  console.log(`  ${pct(v)}  ${k}`);

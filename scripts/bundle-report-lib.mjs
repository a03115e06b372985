// The pure parts of `pnpm bundle-report` (scripts/bundle-report.mjs): reading an esbuild metafile,
// the bare-client entry of a bundle, the init-ratio statistics and the targets of issue 16.
// No I/O here, so test/bundle-report.test.ts checks the logic on fixtures.

/** Targets (docs/performance.md). Sizes in bytes, KB = 1000 bytes. */
export const targets = {
  /** A function's median init time at most this multiple of its bare-client bundle's. */
  maxInitRatio: 1.15,
  /** A function's bundle at most its bare-client bundle plus this many bytes. */
  maxBytesAboveBare: 150_000,
  /**
   * Functions with a fixed ceiling of their own when they construct no AWS client (issue 16: "classify needs none").
   * classify has read the provenance table since issue 12, so it has a client and the bare + 150 KB rule applies.
   */
  maxBytes: { remediationClassify: 250_000 },
};

export const kb = (bytes) => (bytes / 1000).toFixed(1);

export function quantile(xs, q) {
  if (xs.length === 0) return Number.NaN;
  const s = [...xs].sort((a, b) => a - b);
  const pos = (s.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return s[lo] + (s[hi] - s[lo]) * (pos - lo);
}
export const median = (xs) => quantile(xs, 0.5);

/** `node_modules/.pnpm/<name>@<version>/node_modules/<name>/...` -> { name, version, dir, root } */
export function packageOf(input) {
  const m = input.match(/^(.*node_modules\/\.pnpm\/[^/]+\/node_modules\/((?:@[^/]+\/)?[^/]+))\/(.*)$/);
  if (!m) {
    const ws = input.match(/^(packages|functions)\/([^/]+)\//);
    return { name: ws ? `(${ws[1]}/${ws[2]})` : '(other)', version: '', dir: '', root: '' };
  }
  const storeDir = input.match(/node_modules\/\.pnpm\/([^/]+)\//)?.[1] ?? '';
  const name = m[2];
  const version = storeDir.slice(name.replace('/', '+').length + 1).split('_')[0];
  return { name, version, dir: m[3].split('/')[0], root: m[1] };
}

// STS, SSO and SSO-OIDC clients come with the SDK's default credential chain (nested clients of
// older SDK versions), not from a client a function constructs.
const credentialChainClients = new Set([
  '@aws-sdk/client-sts',
  '@aws-sdk/client-sso',
  '@aws-sdk/client-sso-oidc',
]);
const isConstructedClient = (name) =>
  (/^@aws-sdk\/client-/.test(name) && !credentialChainClients.has(name)) || name === '@aws-sdk/lib-dynamodb';

/** Bytes per package, largest first, several versions, CommonJS builds, and the SDK clients bundled. */
export function analyse(metafile, top = 8) {
  const output = Object.values(metafile.outputs).find((o) => o.entryPoint);
  const byPackage = new Map();
  const versions = new Map();
  const cjs = new Map();
  const clients = new Map(); // package name -> package root (as esbuild resolved it)
  for (const [input, { bytesInOutput }] of Object.entries(output.inputs)) {
    const { name, version, dir, root } = packageOf(input);
    const key = version ? `${name}@${version}` : name;
    byPackage.set(key, (byPackage.get(key) ?? 0) + bytesInOutput);
    if (!version) continue;
    if (!versions.has(name)) versions.set(name, new Map());
    const v = versions.get(name);
    v.set(version, (v.get(version) ?? 0) + bytesInOutput);
    if (dir === 'dist-cjs' && bytesInOutput > 0) cjs.set(key, (cjs.get(key) ?? 0) + bytesInOutput);
    if (bytesInOutput > 0 && isConstructedClient(name)) clients.set(key, { name, root });
  }
  return {
    bytes: output.bytes,
    top: [...byPackage].sort((a, b) => b[1] - a[1]).slice(0, top),
    duplicates: [...versions]
      .filter(([, v]) => [...v.values()].filter((b) => b > 0).length > 1)
      .map(([name, v]) => `${name} {${[...v].map(([ver, b]) => `${ver}: ${kb(b)}`).join(', ')}}`),
    cjs: [...cjs].sort((a, b) => b[1] - a[1]),
    clients: [...clients].sort(([a], [b]) => a.localeCompare(b)).map(([key, c]) => ({ key, ...c })),
  };
}

/**
 * The entry of a bare-client bundle: imports every SDK client a function's bundle holds (from the
 * same package folder, so the same version) and constructs it, nothing else. `classOf(client)`
 * returns the client class a package exports (e.g. `KMSClient`).
 */
export function bareEntry(clients, classOf) {
  const lines = [];
  const dynamo = clients.find((c) => c.name === '@aws-sdk/client-dynamodb');
  for (const [i, c] of clients.entries()) {
    if (c.name === '@aws-sdk/lib-dynamodb') {
      lines.push(`import { DynamoDBDocumentClient as D${i} } from ${JSON.stringify(c.root)};`);
      if (!dynamo) throw new Error('@aws-sdk/lib-dynamodb without @aws-sdk/client-dynamodb');
      lines.push(`globalThis.__bare${i} = D${i}.from(globalThis.__bare${clients.indexOf(dynamo)});`);
      continue;
    }
    lines.push(`import { ${classOf(c)} as C${i} } from ${JSON.stringify(c.root)};`);
    lines.push(`globalThis.__bare${i} = new C${i}({ region: process.env.AWS_REGION });`);
  }
  // lib-dynamodb's line refers to the DynamoDB client: construct clients before wrappers.
  const imports = lines.filter((l) => l.startsWith('import'));
  const constructs = lines.filter((l) => !l.startsWith('import'));
  constructs.sort((a, b) => Number(a.includes('.from(')) - Number(b.includes('.from(')));
  return `${[...imports, ...constructs].join('\n')}\n`;
}

/** The client class exported by a client package's `dist-es/index.js` (`export * from "./XClient"`). */
export function clientClass(indexJs) {
  const m = indexJs.match(/export \* from "\.\/(\w+Client)"/);
  if (!m) throw new Error('no client class export found');
  return m[1];
}

/** Ratios of paired samples (same round): a function's import time over its bare bundle's. */
export function initRatio(times, bareTimes) {
  if (times.length !== bareTimes.length || times.length === 0) throw new Error('unpaired samples');
  const ratios = times.map((t, i) => t / bareTimes[i]);
  return { median: median(ratios), p25: quantile(ratios, 0.25), p75: quantile(ratios, 0.75) };
}

/**
 * The targets a function misses: [] when it meets them all.
 * `row`: { key, clients ('(none)' when it constructs no client), bytes, bareBytes, ratio? }
 */
export function missedTargets(row, t = targets) {
  const missed = [];
  const ceiling = row.clients === '(none)' ? t.maxBytes[row.key] : undefined;
  if (ceiling !== undefined) {
    if (row.bytes > ceiling) missed.push(`bundle ${kb(row.bytes)} KB > ${kb(ceiling)} KB`);
  } else if (row.bytes > row.bareBytes + t.maxBytesAboveBare) {
    missed.push(`bundle ${kb(row.bytes)} KB > bare ${kb(row.bareBytes)} KB + ${kb(t.maxBytesAboveBare)} KB`);
  }
  // A function that constructs no client has an empty bare bundle: a ratio to it measures nothing.
  if (row.clients !== '(none)' && row.ratio && row.ratio.median > t.maxInitRatio)
    missed.push(`init ${row.ratio.median.toFixed(2)}x bare > ${t.maxInitRatio}x`);
  return missed;
}

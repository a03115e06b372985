/**
 * x509-limbo as a peer suite: every selected case of the pinned corpus (tests/limbo/corpus.json,
 * see tests/limbo/README.md) runs through validateChain and through `openssl verify -x509_strict`,
 * and both verdicts are compared with the suite's expected result.
 */
import { writeFileSync, writeSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  categoryOf,
  type LimboCase,
  loadCorpus,
  mapLimit,
  runOpenssl,
  runOurs,
  type Verdict,
} from './helpers/limbo.js';

/**
 * Deliberate deviations: cases where we decide otherwise than the suite's expected result, on
 * purpose. Keep in step with the table in tests/limbo/README.md.
 */
const DEVIATIONS: Readonly<Record<string, string>> = {
  'rfc5280::ca-as-leaf':
    'a CA certificate is never accepted as the attested end entity (webpki::ca-as-leaf, which we follow)',
  'pathlen::validation-ignores-pathlen-in-leaf':
    'the same rule: the leaf of this case is a CA certificate (pathLen 0), refused as an end entity',
  'cve::cve-2024-0567':
    'its trust anchor "Root A" is issued by another CA and has no authorityKeyIdentifier, which we refuse as in rfc5280::aki::cross-signed-root-missing-aki',
  'webpki::nc::permitted-dns-match-noncritical':
    'a non-critical nameConstraints is refused (RFC 5280: MUST be critical), as rfc5280::nc::permitted-dns-match-noncritical requires; the CA/B Forum exception is not taken',
  'pathlen::max-chain-depth-1-self-issued':
    'maxPathLength bounds every certificate in the path, self-issued ones included (a resource bound, not pathLen)',
};

interface Row {
  readonly c: LimboCase;
  readonly ours: Verdict;
  readonly openssl: boolean;
}

const corpus = loadCorpus();
let rows: Row[] = [];

function agree(accepted: boolean, c: LimboCase): boolean {
  return accepted === (c.expected_result === 'SUCCESS');
}

function table(): string {
  const byCategory = new Map<string, Row[]>();
  for (const row of rows) {
    const key = categoryOf(row.c.id);
    byCategory.set(key, [...(byCategory.get(key) ?? []), row]);
  }
  const pct = (n: number, d: number): string => `${((100 * n) / d).toFixed(1)}%`;
  const line = (name: string, list: readonly Row[]): string => {
    const ours = list.filter((r) => agree(r.ours.accepted, r.c)).length;
    const peer = list.filter((r) => agree(r.openssl, r.c)).length;
    return `${name.padEnd(24)} ${String(list.length).padStart(5)}  ${`${ours} (${pct(ours, list.length)})`.padStart(14)}  ${`${peer} (${pct(peer, list.length)})`.padStart(14)}`;
  };
  return [
    `x509-limbo agreement with the expected result (${corpus.cases.length} cases, ${corpus.excluded.length} out of scope)`,
    `${'category'.padEnd(24)} cases  ${'validateChain'.padStart(14)}  ${'openssl'.padStart(14)}`,
    ...[...byCategory.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([k, v]) => line(k, v)),
    line('total', rows),
    '',
  ].join('\n');
}

describe('x509-limbo: validateChain against the suite and openssl verify -x509_strict', () => {
  beforeAll(async () => {
    const peer = await mapLimit(corpus.cases, 4, runOpenssl);
    rows = corpus.cases.map((c, i) => ({ c, ours: runOurs(c), openssl: peer[i] as boolean }));
    // Printed on every run (the per-test output buffer only replays failures).
    writeSync(2, `\n${table()}`);
    // LIMBO_VERDICTS=<file> keeps every case's verdicts (for before/after comparisons).
    const dump = process.env.LIMBO_VERDICTS;
    if (dump !== undefined && dump !== '') {
      const verdicts = rows.map((r) => ({
        id: r.c.id,
        expected: r.c.expected_result,
        ...r.ours,
        openssl: r.openssl,
      }));
      writeFileSync(dump, `${JSON.stringify(verdicts, null, 1)}\n`);
    }
  }, 120_000);

  it('agrees with the expected result on at least 95% of the selected cases, and more often than openssl', () => {
    const ours = rows.filter((r) => agree(r.ours.accepted, r.c)).length;
    const peer = rows.filter((r) => agree(r.openssl, r.c)).length;
    expect(rows.length).toBe(corpus.cases.length);
    expect(ours / rows.length).toBeGreaterThanOrEqual(0.95);
    expect(ours).toBeGreaterThan(peer);
  });

  it('accepts no case that must fail', () => {
    const accepted = rows
      .filter((r) => r.c.expected_result === 'FAILURE' && r.ours.accepted)
      .map((r) => r.c.id);
    expect(accepted).toEqual([]);
  });

  it('disagrees only where a deliberate deviation is listed, and every listed deviation still applies', () => {
    const disagreements = rows.filter((r) => !agree(r.ours.accepted, r.c)).map((r) => r.c.id);
    expect(disagreements.sort()).toEqual(Object.keys(DEVIATIONS).sort());
  });

  it('leaves out only the documented out-of-scope cases, each with its reason', () => {
    const ids = new Set(corpus.cases.map((c) => c.id));
    for (const { id, reason } of corpus.excluded) {
      expect(ids.has(id)).toBe(false);
      expect(reason.length).toBeGreaterThan(10);
    }
    expect(corpus.excluded.some((e) => e.id.startsWith('crl::'))).toBe(true);
  });
});

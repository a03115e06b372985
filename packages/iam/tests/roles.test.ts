/**
 * The static proof of issue 13: for every function of the packaged template, each AWS call its own test suite made
 * (recorded by packages/test-support's aws-call-recorder) and each call AWS makes with its role on its behalf is
 * evaluated with iam-simulate against the function's role and the KMS key policies; every grant of the role must be
 * used by one of those calls or justified in serverless.yml's `custom.iamUnusedGrants`.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { type FunctionProof, proveFunction, readRecordings } from '../src/index.js';
import { justifiedUnusedGrants, packagedTemplate, RECORDINGS, ROOT } from './support.js';

const { template } = packagedTemplate();
const functions = template.functions();
const recordings = readRecordings(RECORDINGS, ROOT);
const justified = justifiedUnusedGrants();
const proofs = new Map<string, FunctionProof>();

beforeAll(async () => {
  for (const fn of functions)
    proofs.set(fn.logicalId, await proveFunction(fn, functions, recordings, template));
  writeReport();
});

const proof = (id: string): FunctionProof => {
  const p = proofs.get(id);
  if (p === undefined) throw new Error(`no proof for ${id}`);
  return p;
};

/** The per-function figures (calls checked, actions granted, unused grants), for the operations notes. */
function writeReport(): void {
  const lines = [
    '| function | requests checked | denied | actions granted | unused grants |',
    '|---|---|---|---|---|',
  ];
  for (const fn of functions) {
    const p = proof(fn.logicalId);
    const actions = new Set(p.granted.map((g) => g.action));
    lines.push(
      `| ${fn.name} | ${p.verdicts.length} | ${p.denied.length} | ${actions.size} | ${p.unused.map((u) => `${u.action} ${u.resource}`).join('<br>') || '-'} |`,
    );
  }
  mkdirSync(join(ROOT, 'node_modules', '.cache'), { recursive: true });
  writeFileSync(join(ROOT, 'node_modules', '.cache', 'iam-report.md'), `${lines.join('\n')}\n`);
}

describe('the recordings', () => {
  it('exist for every function package whose role grants more than logging and tracing (the suites ran first)', () => {
    const needing = functions
      .filter((fn) =>
        fn.role.policies.some((p) =>
          p.document.Statement.some((s) => !/^(logs|xray):/.test(String([s.Action].flat()[0]))),
        ),
      )
      .map((fn) => fn.package);
    const missing = [...new Set(needing)].filter((pkg) => (recordings.get(pkg) ?? []).length === 0);
    expect(
      missing,
      "run the functions' test suites first (pnpm run unit runs this project after them)",
    ).toEqual([]);
  });
});

describe.each(functions.map((fn) => [fn.logicalId, fn] as const))('%s', (id, fn) => {
  it('every call it makes (its tests) and AWS makes for it (its configuration) is allowed by its role and the key policies', () => {
    const denied = proof(id).denied.map(
      (v) =>
        `${fn.name}: ${v.request.action} on ${v.request.resource} (${v.request.origin}) is denied: ${v.reason}`,
    );
    expect([...new Set(denied)]).toEqual([]);
  });

  it('every recorded call maps to IAM requests, and every operation is exercised through its use case', () => {
    const p = proof(id);
    expect(p.unmapped.map((u) => `${fn.name}: ${u}`)).toEqual([]);
    expect(
      p.adapterOnly.map(
        (op) =>
          `${fn.name}: ${op} is only called by adapter tests, and denied with their identifiers: exercise it through the use case`,
      ),
    ).toEqual([]);
  });

  it('every grant of its role is used by one of those calls, or justified in custom.iamUnusedGrants', () => {
    const unjustified = proof(id)
      .unused.filter((g) => justified[g.action] === undefined)
      .map((g) => `${fn.name}: ${g.statement} grants ${g.action} on ${g.resource}, which no call uses`);
    expect(unjustified).toEqual([]);
  });
});

describe('functions outside the recorded-call proof', () => {
  it('are only the inline custom resources, and the trust bundle one may write and purge only its own object', () => {
    expect(template.inlineFunctionIds()).toEqual(['TrustBundleObjectFunction']);
    const statements = template
      .role('TrustBundleObjectRole')
      .policies.flatMap((p) => p.document.Statement)
      .filter((s) => !/^(logs|xray):/.test(String([s.Action].flat()[0])));
    const actions = statements.flatMap((s) => [s.Action].flat()).sort();
    expect(actions).toEqual(['s3:DeleteObjectVersion', 's3:ListBucketVersions', 's3:PutObject']);
    for (const s of statements) {
      for (const r of [s.Resource].flat().map(String)) {
        expect(r).toMatch(/^arn:aws:s3:[^:]*:[^:]*:TruststoreBucket(\/attestation-cas\.pem)?$/);
      }
    }
  });
});

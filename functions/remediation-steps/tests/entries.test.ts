/**
 * Issue 16: each remediation step function is bundled from its own entry (serverless/functions/remediation-steps.yml),
 * and that bundle holds the AWS SDK client of every service its role grants and no other: a step's cold start loads
 * only what it calls. Bundled here with esbuild (metafile only, nothing written), as serverless-esbuild does.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { describe, expect, it } from 'vitest';
import { load } from './machine.js';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const functions = load('serverless/functions/remediation-steps.yml') as Record<
  string,
  { handler: string; iamRoleStatements: Array<{ Action: string[] }> }
>;

/** IAM service prefix -> the SDK client package that calls it (kms: server-side encryption of tables and topics). */
const CLIENT_OF: Record<string, string | undefined> = {
  iot: '@aws-sdk/client-iot',
  'acm-pca': '@aws-sdk/client-acm-pca',
  dynamodb: '@aws-sdk/client-dynamodb',
  sns: '@aws-sdk/client-sns',
  ssm: '@aws-sdk/client-ssm',
  securityhub: '@aws-sdk/client-securityhub',
  kms: undefined,
};

const steps = Object.entries(functions).map(([key, fn]) => {
  const dot = fn.handler.lastIndexOf('.');
  const services = new Set(fn.iamRoleStatements.flatMap((s) => s.Action.map((a) => a.split(':')[0] ?? '')));
  const expected = [...services].map((s) => {
    if (!(s in CLIENT_OF)) throw new Error(`${key}: no client known for service ${s}`);
    return CLIENT_OF[s];
  });
  return {
    key,
    entry: `${fn.handler.slice(0, dot)}.ts`,
    exportName: fn.handler.slice(dot + 1),
    clients: expected.filter((c): c is string => c !== undefined).sort(),
  };
});

const result = await build({
  absWorkingDir: ROOT,
  entryPoints: steps.map((s) => s.entry),
  outdir: 'out',
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node24',
  mainFields: ['module', 'main'],
  metafile: true,
  write: false,
  logLevel: 'silent',
});

/** The @aws-sdk/client-* packages with code in the output of one entry. */
function bundledClients(entry: string): string[] {
  const output = Object.values(result.metafile.outputs).find((o) => o.entryPoint === entry);
  if (output === undefined) throw new Error(`no output for ${entry}`);
  const clients = new Set<string>();
  for (const [input, { bytesInOutput }] of Object.entries(output.inputs)) {
    const m = /node_modules\/(@aws-sdk\/client-[a-z0-9-]+)\//.exec(input);
    if (m?.[1] && bytesInOutput > 0 && !/client-(sts|sso|sso-oidc)$/.test(m[1])) clients.add(m[1]);
  }
  return [...clients].sort();
}

describe('one bundle per remediation step', () => {
  it('every step has an entry of its own that exports its handler', () => {
    expect(new Set(steps.map((s) => s.entry)).size).toBe(steps.length);
    for (const s of steps)
      expect(readFileSync(`${ROOT}${s.entry}`, 'utf8')).toContain(`export const ${s.exportName} =`);
  });

  it.each(steps)('$key bundles exactly the clients of the services its role grants', ({ entry, clients }) => {
    expect(bundledClients(entry)).toEqual(clients);
  });
});

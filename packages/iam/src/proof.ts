/**
 * The static proof: every AWS call a function's own tests recorded (packages/test-support's aws-call-recorder), plus
 * the calls AWS makes with its role on its behalf, evaluated against that function's role in the packaged template;
 * and every grant of the role that no such call uses.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { evaluate, type Verdict } from './evaluate.js';
import { platformRequests } from './platform.js';
import { type ApiCall, type IamRequest, iamRequests } from './requests.js';
import {
  ACCOUNT,
  type LambdaFunction,
  type PolicyStatement,
  type ResolvedTemplate,
  type Role,
} from './template.js';

/** A call as the recorder writes it. */
export interface RecordedCall extends ApiCall {
  env: Record<string, string>;
  sources: string[];
}

/**
 * Every recorded call of each package (`functions/<package>`), from `<dir>/<package>/*.json`; recordings of test files
 * that no longer exist under `root` are skipped.
 */
export function readRecordings(dir: string, root: string): Map<string, RecordedCall[]> {
  const out = new Map<string, RecordedCall[]>();
  let packages: string[] = [];
  try {
    packages = readdirSync(dir);
  } catch {
    return out;
  }
  for (const pkg of packages.sort()) {
    const calls: RecordedCall[] = [];
    for (const file of readdirSync(join(dir, pkg)).sort()) {
      const doc = JSON.parse(readFileSync(join(dir, pkg, file), 'utf8')) as {
        testFile: string;
        calls: RecordedCall[];
      };
      if (existsSync(join(root, doc.testFile))) calls.push(...doc.calls);
    }
    out.set(pkg, calls);
  }
  return out;
}

const camel = (file: string) =>
  (file.split('/').pop() ?? '')
    .replace(/\.[jt]s$/, '')
    .replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());

/** The composition root is named like the default export (`handler`) but is shared by all of a package's functions. */
const claimedBy = (call: RecordedCall, exports: Set<string>) =>
  call.sources
    .filter((s) => s.startsWith('src/') && s !== 'src/handler.ts')
    .map(camel)
    .filter((name) => exports.has(name));

/**
 * Whether a call was made through the function's use case or handler (or a library it calls), so that its identifiers
 * are the ones the function's configuration gives it; a call made by a test straight through an adapter carries
 * identifiers the test chose.
 */
export const throughUseCase = (call: RecordedCall) =>
  call.sources.some((s) => !s.startsWith('src/adapters/')) && call.sources.length > 0;

/**
 * The calls of one function. A package's call belongs to the function whose handler export is named like one of the
 * source files on its stack (`src/steps/open-ticket.ts` -> `openTicket`); a call no export claims belongs to the
 * functions whose claimed calls include the same operation, or else to every function of the package (they share
 * that code, e.g. telemetry-ingest's two entry points).
 */
export function callsOf(
  fn: LambdaFunction,
  all: LambdaFunction[],
  recordings: Map<string, RecordedCall[]>,
): RecordedCall[] {
  const siblings = all.filter((f) => f.package === fn.package);
  const exports = new Set(siblings.map((f) => f.handlerExport));
  const calls = recordings.get(fn.package) ?? [];
  const op = (c: RecordedCall) => `${c.service} ${c.operation}`;
  const claimedOps = new Map<string, Set<string>>();
  for (const c of calls) {
    for (const name of claimedBy(c, exports)) {
      if (!claimedOps.has(op(c))) claimedOps.set(op(c), new Set());
      claimedOps.get(op(c))?.add(name);
    }
  }
  return calls.filter((call) => {
    const claimed = claimedBy(call, exports);
    if (claimed.length > 0) return claimed.includes(fn.handlerExport);
    const owners = claimedOps.get(op(call));
    return owners === undefined || owners.has(fn.handlerExport);
  });
}

/** Renames the key at a dotted path (`RequestItems.<table>`) to `to`, keeping its value. */
function renameKey(input: Record<string, unknown>, path: string, to: string | undefined): void {
  const keys = path.split('.');
  const last = keys.pop();
  let node: Record<string, unknown> | undefined = input;
  for (const key of keys) node = node?.[key] as Record<string, unknown> | undefined;
  if (to === undefined || last === undefined || node === undefined || !(last in node)) return;
  const value = node[last];
  delete node[last];
  node[to] = value;
}

/**
 * Values the tests configured (environment variables) replaced by what the template configures for the function; a
 * recorded template (`s3://${NAME}/key`) is filled with the deployed values.
 */
function asDeployed(call: RecordedCall, fn: LambdaFunction): ApiCall {
  const input = structuredClone(call.input) as Record<string, unknown>;
  for (const [path, name] of Object.entries(call.env)) {
    if (name.startsWith('key:')) {
      renameKey(input, path, fn.environment[name.slice(4)]);
      continue;
    }
    // A name, or a template of names (`s3://${TRUSTSTORE_BUCKET}/key`: an S3 URI in a configured bucket).
    const names = name.includes('${')
      ? [...name.matchAll(/\$\{([A-Za-z0-9_]+)\}/g)].map((m) => m[1] ?? '')
      : [name];
    if (names.some((n) => fn.environment[n] === undefined)) continue;
    const deployed = name.includes('${')
      ? name.replace(/\$\{([A-Za-z0-9_]+)\}/g, (_, n: string) => fn.environment[n] ?? '')
      : (fn.environment[name] as string);
    const keys = path.split('.');
    let node: Record<string, unknown> | undefined = input;
    for (const key of keys.slice(0, -1)) node = node?.[key] as Record<string, unknown> | undefined;
    const last = keys[keys.length - 1];
    if (node !== undefined && last !== undefined) node[last] = deployed;
  }
  return { service: call.service, operation: call.operation, input };
}

export interface Grant {
  statement: string;
  action: string;
  resource: string;
}

export interface FunctionProof {
  fn: LambdaFunction;
  /** Distinct requests checked (code calls and platform calls). */
  verdicts: Verdict[];
  denied: Verdict[];
  /** Errors turning a recorded call into IAM requests. */
  unmapped: string[];
  /** Operations only ever called by a test straight through an adapter, denied with the identifiers the test chose. */
  adapterOnly: string[];
  granted: Grant[];
  unused: Grant[];
}

const asList = (v: string | string[] | undefined) => (v === undefined ? [] : Array.isArray(v) ? v : [v]);
const glob = (pattern: string, value: string) =>
  new RegExp(
    `^${pattern
      .replace(/[.+^${}()|[\]\\]/g, '\\$&')
      .replace(/\*/g, '.*')
      .replace(/\?/g, '.')}$`,
    'i',
  ).test(value);

/** Every (statement, action, resource) a role allows, with the statement it comes from. */
export function grantsOf(role: Role): Array<Grant & { doc: PolicyStatement }> {
  const out: Array<Grant & { doc: PolicyStatement }> = [];
  for (const policy of role.policies) {
    policy.document.Statement.forEach((s, i) => {
      if (s.Effect !== 'Allow') return;
      const statement = s.Sid ?? `${policy.name}[${i}]`;
      for (const action of asList(s.Action)) {
        for (const resource of asList(s.Resource)) out.push({ statement, action, resource, doc: s });
      }
    });
  }
  return out;
}

/**
 * @example const proof = await proveFunction(fn, fns, recordings, template); expect(proof.denied).toEqual([]);
 */
export async function proveFunction(
  fn: LambdaFunction,
  all: LambdaFunction[],
  recordings: Map<string, RecordedCall[]>,
  template: ResolvedTemplate,
): Promise<FunctionProof> {
  const requests = new Map<string, IamRequest>();
  const unmapped: string[] = [];
  const add = (r: IamRequest) => requests.set(JSON.stringify([r.action, r.resource, r.context]), r);
  const calls = callsOf(fn, all, recordings);
  // Calls through the use case carry the configured identifiers; a call a test made straight through an adapter is
  // evaluated only when no call through the use case makes the same operation (it must then be allowed as it is).
  const op = (c: RecordedCall) => `${c.service} ${c.operation}`;
  const covered = new Set(calls.filter(throughUseCase).map(op));
  const adapterOnlyCalls = calls.filter((c) => !covered.has(op(c)));
  const evaluated = [...calls.filter(throughUseCase), ...adapterOnlyCalls];
  const adapterOnlyKeys = new Set<string>();
  for (const call of evaluated) {
    try {
      for (const r of await iamRequests(asDeployed(call, fn), template)) {
        add(r);
        if (!throughUseCase(call)) adapterOnlyKeys.add(JSON.stringify([r.action, r.resource, r.context]));
      }
    } catch (error) {
      unmapped.push(error instanceof Error ? error.message : String(error));
    }
  }
  for (const r of platformRequests(fn, template)) add(r);
  const principal = {
    arn: `arn:aws:sts::${ACCOUNT}:assumed-role/${fn.role.arn.split('/').pop()}/${fn.name}`,
    policies: fn.role.policies,
  };
  const verdicts: Verdict[] = [];
  for (const r of [...requests.values()].sort((a, b) =>
    `${a.action} ${a.resource}`.localeCompare(`${b.action} ${b.resource}`),
  )) {
    verdicts.push(await evaluate(r, principal, template.resourcePolicy(r.resource)));
  }
  const adapterOnly = [
    ...new Set(
      verdicts
        .filter(
          (v) =>
            !v.allowed &&
            adapterOnlyKeys.has(JSON.stringify([v.request.action, v.request.resource, v.request.context])),
        )
        .map((v) => v.request.origin),
    ),
  ].sort();
  const grants = grantsOf(fn.role);
  const strip = ({ statement, action, resource }: Grant) => ({ statement, action, resource });
  return {
    fn,
    verdicts,
    denied: verdicts.filter(
      (v) =>
        !v.allowed &&
        !adapterOnlyKeys.has(JSON.stringify([v.request.action, v.request.resource, v.request.context])),
    ),
    unmapped: [...new Set(unmapped)],
    adapterOnly,
    granted: grants.map(strip),
    unused: unusedGrants(grants, verdicts),
  };
}

/** The grants no allowed request matched (action and resource) through the grant's own statement. */
export function unusedGrants(grants: Array<Grant & { doc: PolicyStatement }>, verdicts: Verdict[]): Grant[] {
  return grants
    .filter(
      (g) =>
        !verdicts.some(
          (v) =>
            v.allowed &&
            glob(g.action, v.request.action) &&
            glob(g.resource, v.request.resource) &&
            v.allowedBy.some((s) => JSON.stringify(s) === JSON.stringify(g.doc)),
        ),
    )
    .map(({ statement, action, resource }) => ({ statement, action, resource }));
}

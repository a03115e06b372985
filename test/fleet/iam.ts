/**
 * IAM in the fleet demo (issue 13): the local cloud evaluates every request of a function against that function's
 * role in the template packaged for the `local` stage, and the ECUs' KMS requests against the credential-provider
 * role bound to their thing name.
 *
 * Lambda gives each function its own role credentials; the demo runs every handler in one process, with the SDK's
 * credentials from the environment (the operator's, `local`). While a handler runs, `asFunction` names it in an
 * AsyncLocalStorage, and the SDK's HTTP requests made in that context carry the function's access key in their SigV4
 * credential scope instead of the operator's (the local cloud reads the access key; it does not verify signatures).
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import http from 'node:http';
import { join } from 'node:path';
import type { CfnTemplate } from '@cv/iam';
import { IamEnforcer, OPERATOR_ACCESS_KEY } from '@cv/local-cloud';

const invocation = new AsyncLocalStorage<string>();
let installed = false;

/** Routes the SDK requests made while a function runs (see the module comment); idempotent. */
export function installCredentialRouting(): void {
  if (installed) return;
  installed = true;
  const original = http.request;
  const operator = `Credential=${OPERATOR_ACCESS_KEY}/`;
  http.request = ((...args: Parameters<typeof http.request>) => {
    const accessKey = invocation.getStore();
    const options = args[0] as { headers?: Record<string, unknown> } | undefined;
    const authorization = options?.headers?.authorization;
    if (
      options !== undefined &&
      accessKey !== undefined &&
      typeof authorization === 'string' &&
      authorization.includes(operator)
    ) {
      options.headers = {
        ...options.headers,
        authorization: authorization.replace(operator, `Credential=${accessKey}/`),
      };
    }
    return original(...args);
  }) as typeof http.request;
}

/** Runs `fn` as the function whose credentials are `accessKey`. */
export function asFunction<T>(accessKey: string, fn: () => T): T {
  return invocation.run(accessKey, fn);
}

function newest(dir: string): number {
  let t = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    t = Math.max(t, entry.isDirectory() ? newest(path) : statSync(path).mtimeMs);
  }
  return t;
}

/**
 * The CloudFormation template of the `local` stage (`serverless package --stage local`), packaged into
 * node_modules/.cache/serverless-local when missing or older than serverless.yml or serverless/.
 */
export function localStageTemplate(root: string): CfnTemplate {
  const dir = join(root, 'node_modules', '.cache', 'serverless-local');
  const file = join(dir, 'cloudformation-template-update-stack.json');
  const sources = Math.max(statSync(join(root, 'serverless.yml')).mtimeMs, newest(join(root, 'serverless')));
  if (!existsSync(file) || statSync(file).mtimeMs < sources) {
    execFileSync(
      join(root, 'node_modules', '.bin', 'serverless'),
      ['package', '--stage', 'local', '--package', dir],
      {
        cwd: root,
        stdio: 'pipe',
        env: {
          ...process.env,
          SLS_TELEMETRY_DISABLED: '1',
          SLS_NOTIFICATIONS_MODE: 'off',
          AWS_EC2_METADATA_DISABLED: 'true',
        },
      },
    );
  }
  return JSON.parse(readFileSync(file, 'utf8')) as CfnTemplate;
}

/** An enforcer for the local stage's template, after `mutate` (the self-test removes a permission with it). */
export function localEnforcer(
  root: string,
  physicalIds: Record<string, string>,
  mutate: (t: CfnTemplate) => CfnTemplate = (t) => t,
): IamEnforcer {
  return new IamEnforcer(mutate(localStageTemplate(root)), physicalIds);
}

/** A copy of the template without `action` in the role of the function named `functionName` (e.g. `remediationNotify`). */
export function withoutPermission(functionName: string, action: string): (t: CfnTemplate) => CfnTemplate {
  return (template) => {
    const copy = structuredClone(template);
    const resources: Record<string, { Type: string; Properties?: Record<string, unknown> }> =
      copy.Resources ?? {};
    const fn = Object.values(resources).find(
      (r) =>
        r.Type === 'AWS::Lambda::Function' && String(r.Properties?.FunctionName).endsWith(`-${functionName}`),
    );
    const roleId = (fn?.Properties?.Role as { 'Fn::GetAtt'?: [string] } | undefined)?.['Fn::GetAtt']?.[0];
    const role = roleId === undefined ? undefined : resources[roleId];
    if (role === undefined) throw new Error(`no role for ${functionName}`);
    const policies = (role.Properties?.Policies ?? []) as Array<{
      PolicyDocument: { Statement: Array<{ Action?: unknown }> };
    }>;
    for (const p of policies) {
      p.PolicyDocument.Statement = p.PolicyDocument.Statement.map((s) => ({
        ...s,
        Action: [s.Action].flat().filter((a) => a !== action),
      })).filter((s) => s.Action.length > 0);
    }
    return copy;
  };
}

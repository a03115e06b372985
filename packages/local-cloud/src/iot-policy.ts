/**
 * A small AWS IoT policy evaluator for the local gateway: Allow/Deny statements, `Action` and
 * `NotAction`, `Resource` with `*`/`?` wildcards, the policy variables
 * `${iot:Connection.Thing.ThingName}`, `${iot:ClientId}`, `${iot:Connection.Thing.IsAttached}`,
 * and `Condition` `Bool` on `iot:Connection.Thing.IsAttached`. An explicit Deny wins; anything
 * not allowed is denied. An unsupported condition makes its statement not apply (fail closed for Allow).
 */
export interface IotRequestContext {
  readonly clientId: string;
  readonly thingName: string | undefined;
  readonly isAttached: boolean;
}

interface Statement {
  Effect?: string;
  Action?: string | string[];
  NotAction?: string | string[];
  Resource?: string | string[];
  Condition?: Record<string, Record<string, unknown>>;
}

const list = (v: string | string[] | undefined): string[] =>
  v === undefined ? [] : Array.isArray(v) ? v : [v];

function glob(pattern: string, value: string): boolean {
  const re = new RegExp(
    `^${pattern
      .replace(/[.+^${}()|[\]\\]/g, '\\$&')
      .replace(/\*/g, '.*')
      .replace(/\?/g, '.')}$`,
    's',
  );
  return re.test(value);
}

function substitute(resource: string, ctx: IotRequestContext): string | undefined {
  let unresolved = false;
  const out = resource.replace(/\$\{([^}]+)\}/g, (_m, name: string) => {
    if (name === 'iot:ClientId') return ctx.clientId;
    if (name === 'iot:Connection.Thing.ThingName') {
      if (ctx.thingName === undefined) unresolved = true;
      return ctx.thingName ?? '';
    }
    if (name === 'iot:Connection.Thing.IsAttached') return String(ctx.isAttached);
    unresolved = true;
    return '';
  });
  // A variable that cannot be resolved makes the resource match nothing (as in AWS IoT).
  return unresolved ? undefined : out;
}

function conditionHolds(condition: Statement['Condition'], ctx: IotRequestContext): boolean {
  for (const [operator, entries] of Object.entries(condition ?? {})) {
    for (const [key, expected] of Object.entries(entries)) {
      if (operator === 'Bool' && key === 'iot:Connection.Thing.IsAttached') {
        const wanted = list(expected as string | string[]).map((v) => String(v).toLowerCase());
        if (!wanted.includes(String(ctx.isAttached))) return false;
        continue;
      }
      return false;
    }
  }
  return true;
}

/**
 * Whether the policy documents allow `action` (e.g. `iot:Publish`) on `resource` (an ARN).
 * @example isAllowed([doc], 'iot:Connect', 'arn:aws:iot:eu-west-1:1:client/T', ctx)
 */
export function isAllowed(
  documents: readonly string[],
  action: string,
  resource: string,
  ctx: IotRequestContext,
): boolean {
  let allowed = false;
  for (const document of documents) {
    let parsed: { Statement?: Statement | Statement[] };
    try {
      parsed = JSON.parse(document) as { Statement?: Statement | Statement[] };
    } catch {
      continue;
    }
    const statements = Array.isArray(parsed.Statement)
      ? parsed.Statement
      : parsed.Statement
        ? [parsed.Statement]
        : [];
    for (const st of statements) {
      const actionMatches =
        st.NotAction !== undefined
          ? !list(st.NotAction).some((a) => glob(a, action))
          : list(st.Action).some((a) => glob(a, action));
      if (!actionMatches) continue;
      const resourceMatches = list(st.Resource).some((r) => {
        const resolved = substitute(r, ctx);
        return resolved !== undefined && glob(resolved, resource);
      });
      if (!resourceMatches) continue;
      if (!conditionHolds(st.Condition, ctx)) continue;
      if (st.Effect === 'Deny') return false;
      if (st.Effect === 'Allow') allowed = true;
    }
  }
  return allowed;
}

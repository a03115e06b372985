/**
 * A small interpreter of Amazon States Language, enough to walk our state machine in tests: Task (Retry, Catch,
 * ResultPath), Choice (String/Boolean/Numeric comparisons, IsPresent, And/Or/Not, Default), Pass (Result,
 * Parameters, ResultPath), Map (ItemsPath, ItemProcessor/Iterator, ResultPath), Succeed and Fail. Tasks are run by
 * the caller's `invoke`; retries do not sleep. Not covered: intrinsic functions, JSONata, timeouts, parallel
 * states, wait states.
 */

type Json = unknown;
type StateDef = Record<string, unknown>;
export interface Definition {
  StartAt: string;
  States: Record<string, StateDef>;
}
export interface Failure {
  Error: string;
  Cause: string;
}
export interface Execution {
  status: 'SUCCEEDED' | 'FAILED';
  output?: Json;
  error?: Failure;
  /** Every state entered, in order. */
  path: string[];
  /** Task invocations (resource per attempt), in order. */
  invocations: string[];
}
export type Invoke = (resource: unknown, input: Json) => Promise<Json>;

class StatesError extends Error {
  constructor(readonly failure: Failure) {
    super(`${failure.Error}: ${failure.Cause}`);
    this.name = 'StatesError';
  }
}

/** Reads a JSONPath of the forms `$`, `$.a.b`, `$.a[0].b`; `undefined` when absent. */
export function readPath(data: Json, path: string): Json {
  if (path === '$') return data;
  if (!path.startsWith('$')) throw new Error(`unsupported path ${path}`);
  let current: Json = data;
  for (const token of tokens(path)) {
    if (current === null || typeof current !== 'object') return undefined;
    current = (current as Record<string | number, Json>)[token];
    if (current === undefined) return undefined;
  }
  return current;
}

function tokens(path: string): Array<string | number> {
  const out: Array<string | number> = [];
  let consumed = 1;
  for (const m of path.matchAll(/\.([A-Za-z0-9_-]+)|\[(\d+)\]/g)) {
    if (m.index !== consumed) throw new Error(`unsupported path ${path}`);
    out.push(m[1] ?? Number(m[2]));
    consumed = m.index + m[0].length;
  }
  if (consumed !== path.length) throw new Error(`unsupported path ${path}`);
  return out;
}

/** ResultPath semantics: `$` replaces, `null` discards, `$.a.b` sets (creating objects) on a copy. */
export function writePath(input: Json, path: string | null | undefined, result: Json): Json {
  if (path === null) return input;
  if (path === undefined || path === '$') return result;
  const keys = tokens(path);
  const root = structuredClone((input ?? {}) as Record<string, Json>);
  let node: Record<string | number, Json> = root;
  keys.forEach((key, i) => {
    if (i === keys.length - 1) node[key] = result;
    else {
      const next = node[key];
      node[key] = next !== null && typeof next === 'object' ? next : {};
      node = node[key] as Record<string | number, Json>;
    }
  });
  return root;
}

function parameters(template: Json, input: Json): Json {
  if (Array.isArray(template)) return template.map((t) => parameters(t, input));
  if (template === null || typeof template !== 'object') return template;
  const out: Record<string, Json> = {};
  for (const [key, value] of Object.entries(template as Record<string, Json>)) {
    if (key.endsWith('.$')) out[key.slice(0, -2)] = readPath(input, String(value));
    else out[key] = parameters(value, input);
  }
  return out;
}

function matches(rule: Record<string, Json>, input: Json): boolean {
  if (Array.isArray(rule.And)) return (rule.And as Record<string, Json>[]).every((r) => matches(r, input));
  if (Array.isArray(rule.Or)) return (rule.Or as Record<string, Json>[]).some((r) => matches(r, input));
  if (rule.Not !== undefined) return !matches(rule.Not as Record<string, Json>, input);
  const variable = String(rule.Variable);
  const value = readPath(input, variable);
  if ('IsPresent' in rule) return (value !== undefined) === rule.IsPresent;
  if (value === undefined) {
    throw new StatesError({ Error: 'States.Runtime', Cause: `Invalid path '${variable}': no such field` });
  }
  if ('StringEquals' in rule) return value === rule.StringEquals;
  if ('BooleanEquals' in rule) return value === rule.BooleanEquals;
  if ('NumericEquals' in rule) return value === rule.NumericEquals;
  if ('NumericLessThan' in rule) return typeof value === 'number' && value < Number(rule.NumericLessThan);
  if ('NumericGreaterThan' in rule)
    return typeof value === 'number' && value > Number(rule.NumericGreaterThan);
  throw new Error(`unsupported Choice rule ${JSON.stringify(rule)}`);
}

function errorMatches(names: Json, failure: Failure): boolean {
  const list = Array.isArray(names) ? (names as string[]) : [];
  return list.includes(failure.Error) || list.includes('States.ALL');
}

/** How a Lambda error surfaces in Step Functions: Error = errorType (the error's name), Cause = JSON. */
export function lambdaFailure(error: unknown): Failure {
  if (error instanceof StatesError) return error.failure;
  const name = error instanceof Error ? error.name : 'Error';
  const message = error instanceof Error ? error.message : String(error);
  return {
    Error: name,
    Cause: JSON.stringify({ errorType: name, errorMessage: message, trace: ['(elided)'] }),
  };
}

export async function execute(
  definition: Definition,
  input: Json,
  invoke: Invoke,
  opts: { maxTransitions?: number } = {},
): Promise<Execution> {
  const path: string[] = [];
  const invocations: string[] = [];
  const budget = { left: opts.maxTransitions ?? 500 };
  try {
    const output = await run(definition, input, invoke, path, invocations, budget);
    return { status: 'SUCCEEDED', output, path, invocations };
  } catch (error) {
    if (error instanceof StatesError) return { status: 'FAILED', error: error.failure, path, invocations };
    throw error;
  }
}

async function run(
  definition: Definition,
  input: Json,
  invoke: Invoke,
  path: string[],
  invocations: string[],
  budget: { left: number },
): Promise<Json> {
  let name = definition.StartAt;
  let data = input;
  for (;;) {
    if (budget.left-- <= 0) throw new Error('transition budget exhausted (loop?)');
    const state = definition.States[name];
    if (state === undefined) throw new Error(`no state ${name}`);
    path.push(name);
    const type = state.Type;
    const effective = readPath(data, String(state.InputPath ?? '$'));
    let next: string | undefined = state.Next as string | undefined;

    if (type === 'Succeed') return effective;
    if (type === 'Fail')
      throw new StatesError({
        Error: String(state.Error ?? 'States.Fail'),
        Cause: String(state.Cause ?? ''),
      });

    if (type === 'Choice') {
      const choices = (state.Choices ?? []) as Record<string, Json>[];
      const hit = choices.find((rule) => matches(rule, effective));
      next = (hit?.Next as string | undefined) ?? (state.Default as string | undefined);
      if (next === undefined) throw new StatesError({ Error: 'States.NoChoiceMatched', Cause: name });
      name = next;
      continue;
    }

    let result: Json;
    if (type === 'Pass') {
      result =
        state.Result !== undefined
          ? state.Result
          : state.Parameters !== undefined
            ? parameters(state.Parameters, effective)
            : effective;
      data = writePath(data, state.ResultPath as string | null | undefined, result);
    } else if (type === 'Task' || type === 'Map') {
      const taskInput = state.Parameters !== undefined ? parameters(state.Parameters, effective) : effective;
      try {
        result = await withRetry(state, async () => {
          if (type === 'Task') {
            invocations.push(JSON.stringify(state.Resource));
            try {
              return await invoke(state.Resource, taskInput);
            } catch (error) {
              throw new StatesError(lambdaFailure(error));
            }
          }
          const items = readPath(taskInput, String(state.ItemsPath ?? '$'));
          if (!Array.isArray(items))
            throw new StatesError({ Error: 'States.Runtime', Cause: 'ItemsPath is not an array' });
          const processor = (state.ItemProcessor ?? state.Iterator) as Definition;
          const out: Json[] = [];
          for (const item of items) out.push(await run(processor, item, invoke, path, invocations, budget));
          return out;
        });
      } catch (error) {
        if (!(error instanceof StatesError)) throw error;
        const catcher = ((state.Catch ?? []) as Record<string, Json>[]).find((c) =>
          errorMatches(c.ErrorEquals, error.failure),
        );
        if (catcher === undefined) throw error;
        data = writePath(data, catcher.ResultPath as string | null | undefined, error.failure);
        name = String(catcher.Next);
        continue;
      }
      data = writePath(data, state.ResultPath as string | null | undefined, result);
    } else {
      throw new Error(`unsupported state type ${String(type)}`);
    }
    data = readPath(data, String(state.OutputPath ?? '$'));
    if (state.End === true) return data;
    if (next === undefined) throw new Error(`state ${name} has neither Next nor End`);
    name = next;
  }
}

async function withRetry(state: StateDef, attempt: () => Promise<Json>): Promise<Json> {
  const retriers = (state.Retry ?? []) as Record<string, Json>[];
  const used = retriers.map(() => 0);
  for (;;) {
    try {
      return await attempt();
    } catch (error) {
      if (!(error instanceof StatesError)) throw error;
      const i = retriers.findIndex((r) => errorMatches(r.ErrorEquals, error.failure));
      const retrier = retriers[i];
      if (retrier === undefined) throw error;
      const max = typeof retrier.MaxAttempts === 'number' ? retrier.MaxAttempts : 3;
      if ((used[i] ?? 0) >= max) throw error;
      used[i] = (used[i] ?? 0) + 1;
    }
  }
}

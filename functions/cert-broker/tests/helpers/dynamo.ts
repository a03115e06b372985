/**
 * DynamoDB's conditional writes for the expressions the broker uses, on an in-memory map:
 * `attribute_exists(a)`, `attribute_not_exists(a)`, `a = :v`, `a <> :v` joined by AND, and
 * `SET a = :v, ...`. Anything else throws, so a new expression cannot pass untested. A failed
 * condition throws the SDK's ConditionalCheckFailedException, as the real service does. The
 * same expressions run against the local cloud's DynamoDB in test/replay-ledger.test.ts.
 */
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';

export type Item = Record<string, unknown>;

interface Expression {
  readonly ConditionExpression?: string;
  readonly UpdateExpression?: string;
  readonly ExpressionAttributeNames?: Record<string, string>;
  readonly ExpressionAttributeValues?: Record<string, unknown>;
  readonly Item?: Item;
}

function name(token: string, input: Expression): string {
  if (!token.startsWith('#')) return token;
  const resolved = input.ExpressionAttributeNames?.[token];
  if (resolved === undefined) throw new Error(`undefined attribute name ${token}`);
  return resolved;
}

function value(token: string, input: Expression): unknown {
  const values = input.ExpressionAttributeValues ?? {};
  if (!(token in values)) throw new Error(`undefined attribute value ${token}`);
  return values[token];
}

function holds(clause: string, item: Item | undefined, input: Expression): boolean {
  const fn = /^(attribute_exists|attribute_not_exists)\((#?\w+)\)$/.exec(clause);
  if (fn) {
    const present = item !== undefined && name(fn[2] ?? '', input) in item;
    return fn[1] === 'attribute_exists' ? present : !present;
  }
  const cmp = /^(#?\w+) (=|<>) (:\w+)$/.exec(clause);
  if (cmp) {
    const attribute = name(cmp[1] ?? '', input);
    const present = item !== undefined && attribute in item;
    const equal = present && item?.[attribute] === value(cmp[3] ?? '', input);
    // DynamoDB: a missing attribute is never equal, and so always "<>".
    return cmp[2] === '=' ? equal : !equal;
  }
  throw new Error(`condition not supported by the fake: ${clause}`);
}

function check(item: Item | undefined, input: Expression): void {
  const condition = input.ConditionExpression?.trim();
  if (!condition) return;
  const ok = condition.split(/\s+AND\s+/).every((clause) => holds(clause.trim(), item, input));
  if (!ok) {
    throw new ConditionalCheckFailedException({ message: 'The conditional request failed', $metadata: {} });
  }
}

export function applyPut(map: Map<string, Item>, id: string, input: Expression): void {
  check(map.get(id), input);
  map.set(id, structuredClone(input.Item ?? {}));
}

export function applyUpdate(map: Map<string, Item>, id: string, input: Expression & { Key?: Item }): void {
  const current = map.get(id);
  check(current, input);
  const expression = input.UpdateExpression?.trim() ?? '';
  if (!expression.startsWith('SET ')) throw new Error(`update not supported by the fake: ${expression}`);
  const next: Item = { ...(current ?? structuredClone(input.Key ?? {})) };
  for (const assignment of expression.slice(4).split(',')) {
    const m = /^(#?\w+) = (:\w+)$/.exec(assignment.trim());
    if (!m) throw new Error(`assignment not supported by the fake: ${assignment}`);
    next[name(m[1] ?? '', input)] = structuredClone(value(m[2] ?? '', input));
  }
  map.set(id, next);
}

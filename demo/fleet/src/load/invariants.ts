/**
 * The invariants of a load run, checked at the end against the local cloud's state (IoT
 * registry, Private CA, DynamoDB tables), not against the harness's own counters.
 */
import { type AttributeValue, type DynamoDBClient, ScanCommand } from '@aws-sdk/client-dynamodb';
import type { EcuSimulator } from '@cv/ecu-sim';
import type { LocalCloud } from '@cv/local-cloud';

export interface Invariant {
  readonly name: string;
  readonly ok: boolean;
  readonly detail: string;
}

async function scanAll(
  ddb: DynamoDBClient,
  table: string,
  projection: string,
  names?: Record<string, string>,
): Promise<Record<string, AttributeValue>[]> {
  const items: Record<string, AttributeValue>[] = [];
  let start: Record<string, AttributeValue> | undefined;
  do {
    const out = await ddb.send(
      new ScanCommand({
        TableName: table,
        ProjectionExpression: projection,
        ...(names ? { ExpressionAttributeNames: names } : {}),
        ...(start ? { ExclusiveStartKey: start } : {}),
      }),
    );
    items.push(...(out.Items ?? []));
    start = out.LastEvaluatedKey;
  } while (start);
  return items;
}

/**
 * The campaign's commands in the commands table: `unsettled` counts those still PENDING and not yet expired (no
 * final status) plus those an ECU executed whose result is not in the row yet (still PENDING, expired or not: a
 * result that never arrives, or was dropped, leaves an executed command PENDING for ever).
 */
export async function commandStates(
  ddb: DynamoDBClient,
  ids: readonly string[],
  executed: ReadonlySet<string> | ReadonlyMap<string, unknown>,
): Promise<{
  byStatus: Map<string, number>;
  unsettled: number;
  pending: number;
  executedWithoutResult: number;
  missing: number;
}> {
  const wanted = new Set(ids);
  const rows = await scanAll(ddb, 'cv-security-local-commands', 'commandId, #s, expiresAt', {
    '#s': 'status',
  });
  const now = Date.now();
  const byStatus = new Map<string, number>();
  let pending = 0;
  let executedWithoutResult = 0;
  let found = 0;
  for (const r of rows) {
    const id = r.commandId?.S ?? '';
    if (!wanted.has(id)) continue;
    found += 1;
    const status = r.status?.S ?? '?';
    byStatus.set(status, (byStatus.get(status) ?? 0) + 1);
    if (status !== 'PENDING') continue;
    if (executed.has(id)) executedWithoutResult += 1;
    else if (Date.parse(r.expiresAt?.S ?? '') > now) pending += 1;
  }
  const missing = wanted.size - found;
  return {
    byStatus,
    unsettled: pending + executedWithoutResult + missing,
    pending,
    executedWithoutResult,
    missing,
  };
}

export async function checkInvariants(input: {
  cloud: LocalCloud;
  ddb: DynamoDBClient;
  ecus: readonly EcuSimulator[];
  flows: readonly string[];
  commandIds: readonly string[];
  /** Command ids an ECU verified and executed (their result must reach the row). */
  executedCommands: ReadonlyMap<string, unknown>;
  telemetryPerEcu: number;
  /** The ECUs that sent telemetry (every registered ECU, or the online ones without a JITR flow). */
  senders: readonly EcuSimulator[];
  deadLetters: readonly { fn: string; error: string }[];
  ruleErrors: readonly string[];
}): Promise<Invariant[]> {
  const { cloud, ddb, ecus } = input;
  const iot = cloud.iot;
  const out: Invariant[] = [];
  const things = new Set(ecus.map((e) => e.thingName));
  const certByArn = new Map([...iot.certificates.values()].map((c) => [c.certificateArn, c]));

  if (input.flows.includes('jitr')) {
    let good = 0;
    const bad: string[] = [];
    for (const name of things) {
      const principals = [...(iot.thingPrincipals.get(name)?.keys() ?? [])];
      const cert = principals.length === 1 ? certByArn.get(principals[0] ?? '') : undefined;
      if (iot.things.has(name) && cert?.status === 'ACTIVE') good += 1;
      else if (bad.length < 3)
        bad.push(`${name}: ${principals.length} principals, ${cert?.status ?? 'no cert'}`);
    }
    const active = [...iot.certificates.values()].filter((c) => c.status === 'ACTIVE').length;
    out.push({
      name: 'every ECU ACTIVE exactly once, one attached certificate',
      ok: good === things.size && active === things.size,
      detail: `${good}/${things.size} things with exactly one ACTIVE certificate; ${active} ACTIVE certificates${bad.length ? `; e.g. ${bad.join('; ')}` : ''}`,
    });
    const orphanThings = [...iot.things.keys()].filter(
      (t) => !things.has(t) || (iot.thingPrincipals.get(t)?.size ?? 0) === 0,
    ).length;
    const attached = new Set([...iot.thingPrincipals.values()].flatMap((m) => [...m.keys()]));
    const orphanCerts = [...iot.certificates.values()].filter((c) => !attached.has(c.certificateArn)).length;
    out.push({
      name: 'no orphan certificate or thing (IoT registry)',
      ok: orphanThings === 0 && orphanCerts === 0,
      detail: `${orphanThings} things without a principal or ECU, ${orphanCerts} IoT certificates attached to no thing`,
    });
  }
  if (input.flows.includes('enrolment')) {
    const enrolled = ecus.filter((e) => e.enrolment).length;
    out.push({
      name: 'one Private CA certificate per enrolled ECU (none issued and lost)',
      ok: cloud.pca.issued.size === enrolled && enrolled === ecus.length,
      detail: `${cloud.pca.issued.size} issued by the Private CA, ${enrolled}/${ecus.length} ECUs enrolled`,
    });
  }
  if (input.flows.includes('commands')) {
    const c = await commandStates(ddb, input.commandIds, input.executedCommands);
    const executed = input.commandIds.filter((id) => input.executedCommands.has(id)).length;
    out.push({
      name: 'every command delivered or with a final status; every executed command with its result',
      ok: c.unsettled === 0 && input.commandIds.length > 0,
      detail: `${input.commandIds.length} accepted: ${[...c.byStatus].map(([k, v]) => `${k} ${v}`).join(', ')}; ${executed} executed by their ECU, ${c.executedWithoutResult} of them without their result; ${c.pending} others without a final status, ${c.missing} missing`,
    });
  }
  if (input.flows.includes('telemetry')) {
    const rows = await scanAll(ddb, 'cv-security-local-telemetry', 'thingName, #k, messageId', {
      '#k': 'kind',
    });
    const perThing = new Map<string, number>();
    const ids = new Set<string>();
    let duplicates = 0;
    for (const r of rows) {
      if (r.kind?.S !== 'telemetry') continue;
      const id = r.messageId?.S ?? '';
      if (ids.has(id)) duplicates += 1;
      ids.add(id);
      const t = r.thingName?.S ?? '';
      perThing.set(t, (perThing.get(t) ?? 0) + 1);
    }
    const expected = input.senders.reduce((n, e) => n + e.telemetrySent, 0);
    const wrong = input.senders.filter((e) => (perThing.get(e.thingName) ?? 0) !== e.telemetrySent).length;
    out.push({
      name: 'every telemetry message stored exactly once',
      ok:
        duplicates === 0 &&
        wrong === 0 &&
        ids.size === expected &&
        expected === input.senders.length * input.telemetryPerEcu,
      detail: `${ids.size} stored for ${expected} acknowledged (${input.senders.length * input.telemetryPerEcu} planned); ${duplicates} duplicates; ${wrong} ECUs with a wrong count`,
    });
  }
  out.push({
    name: 'dead-letter queue: nothing unreported',
    ok: input.deadLetters.length === 0 && input.ruleErrors.length === 0,
    detail:
      input.deadLetters.length + input.ruleErrors.length === 0
        ? 'empty (no asynchronous event failed all attempts, no rule error)'
        : `${input.deadLetters.length} dead letters: ${input.deadLetters
            .slice(0, 5)
            .map((d) => `${d.fn} ${d.error}`)
            .join('; ')}; ${input.ruleErrors.length} rule errors: ${input.ruleErrors.slice(0, 3).join('; ')}`,
  });
  return out;
}

import { createHash } from 'node:crypto';
import type { Action, Plan, StepResult } from '../plan.js';
import type { IotPort } from '../ports.js';

/** What every step receives: the plan and what the steps before it did. */
export interface StepInput {
  plan: Plan;
  results: readonly StepResult[];
}

/** Things and certificates a device step acts on: the plan's own, or those attached to them. */
export async function deviceTargets(
  plan: Plan,
  iot: Pick<IotPort, 'thingsForCertificate' | 'certificatesForThing'>,
  want: { things?: boolean; certificates?: boolean },
): Promise<{ things: string[]; certificates: string[] }> {
  let things: string[] = [];
  let certificates: string[] = [];
  if (want.things) {
    if (plan.thingName !== undefined) things = [plan.thingName];
    else if (plan.certificateId !== undefined) things = await iot.thingsForCertificate(plan.certificateId);
  }
  if (want.certificates) {
    if (plan.certificateId !== undefined) certificates = [plan.certificateId];
    else if (plan.thingName !== undefined) certificates = await iot.certificatesForThing(plan.thingName);
  }
  return { things: [...new Set(things)].sort(), certificates: [...new Set(certificates)].sort() };
}

export function result(
  action: Action,
  outcome: StepResult['outcome'],
  detail: string,
  data?: StepResult['data'],
): StepResult {
  return { action, outcome, detail: detail.slice(0, 512), ...(data === undefined ? {} : { data }) };
}

/** A short, stable, URL- and name-safe digest of a finding id (for job ids and dedup strings). */
export function findingDigest(findingId: string, length = 40): string {
  return createHash('sha256').update(findingId, 'utf8').digest('hex').slice(0, length);
}

function stringList(value: unknown): string[] {
  return Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : [];
}

/**
 * The certificates an earlier `deactivateCertificate` of this execution took out of service (or found already out
 * of service), or `undefined` when it did not run. Steps that follow it act on exactly these: the genuine ECU may
 * re-enrol as soon as its certificate is refused, and its new certificate, attached to the same thing, must not be
 * taken for the compromised one.
 */
export function certificatesSeenByDeactivate(results: readonly StepResult[]): string[] | undefined {
  const seen = results.find((r) => r.action === 'deactivateCertificate');
  if (seen?.data === undefined) return undefined;
  return [...new Set([...stringList(seen.data.deactivated), ...stringList(seen.data.unchanged)])].sort();
}

/** The things an earlier `quarantine` of this execution found (added or already there), or `undefined`. */
export function thingsSeenByQuarantine(results: readonly StepResult[]): string[] | undefined {
  const seen = results.find((r) => r.action === 'quarantine');
  if (seen?.data === undefined) return undefined;
  return [...new Set([...stringList(seen.data.added), ...stringList(seen.data.alreadyQuarantined)])].sort();
}

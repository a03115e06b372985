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

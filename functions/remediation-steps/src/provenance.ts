import type { FindingProvenance } from '@cv/runtime';
import { sameTargets } from '@cv/runtime';
import type { Plan, RefusalCode } from './plan.js';

export type Verdict = { genuine: true } | { genuine: false; reason: string };

/**
 * Whether a finding that claims to come from one of our detectors is one it raised: the detector's provenance
 * record exists for this finding id and agrees on the generator, the product, the account and exactly the
 * resources the plan would act on. Pure.
 */
export function verifyProvenance(
  plan: Plan,
  generatorId: string,
  record: FindingProvenance | undefined,
): Verdict {
  if (record === undefined) return { genuine: false, reason: 'no provenance record for this finding id' };
  if (record.findingId !== plan.findingId) return { genuine: false, reason: 'record is for another finding' };
  if (record.generatorId !== generatorId || !plan.findingId.startsWith(`${generatorId}/`)) {
    return { genuine: false, reason: 'record names another generator' };
  }
  if (record.productArn !== plan.productArn || record.accountId !== plan.accountId) {
    return { genuine: false, reason: 'record names another product or account' };
  }
  if (!sameTargets(record.targets, plan)) {
    return { genuine: false, reason: 'finding names other resources than the detector recorded' };
  }
  return { genuine: true };
}

/** The refused form of a plan: no target at all, notify only (then closed as NOTIFIED). */
export function refused(plan: Plan, code: RefusalCode, reason: string): Plan {
  return {
    findingId: plan.findingId,
    productArn: plan.productArn,
    check: plan.check,
    ...(plan.title === undefined ? {} : { title: plan.title }),
    ...(plan.severity === undefined ? {} : { severity: plan.severity }),
    ...(plan.region === undefined ? {} : { region: plan.region }),
    ...(plan.accountId === undefined ? {} : { accountId: plan.accountId }),
    actions: ['notify'],
    refusal: { code, reason: reason.slice(0, 512) },
  };
}

/**
 * The classify step's use case (the `classify` entry of handler.ts). Its own module, so that the provenance read is
 * attributed to the classify function alone by the IAM proof (packages/iam: calls are claimed by the source file
 * named like the handler export).
 */
import { classify } from '../classify.js';
import type { RemediationState } from '../plan.js';
import type { ProvenancePort } from '../ports.js';
import { refused, verifyProvenance } from '../provenance.js';
import type { StackScope } from '../scope.js';
import { asStepError, stateOf } from '../state.js';

/**
 * classify task: event in, initial state out. A finding that claims to come from one of our own detectors is acted
 * on only when the detector's provenance record matches it (provenance.ts); otherwise the plan is refused: no
 * target, notify only, closed as NOTIFIED.
 */
export async function triage(
  event: unknown,
  scope: StackScope,
  deps: { provenance: ProvenancePort },
): Promise<RemediationState> {
  const classification = classify(event, scope);
  let { plan } = classification;
  if (!classification.skipped && classification.claimsOwnDetector && plan.refusal === undefined) {
    const record = await asStepError('classify', () => deps.provenance.recordOf(plan.findingId));
    const verdict = verifyProvenance(plan, classification.generatorId, record);
    if (!verdict.genuine) plan = refused(plan, 'unverified-finding', verdict.reason);
  }
  return stateOf(plan, classification);
}

import type { Plan, StepResult } from '../plan.js';
import type { FindingsPort } from '../ports.js';
import type { Failure } from './notify.js';

export interface CloseFindingInput {
  plan: Plan;
  results: readonly StepResult[];
  failure?: Failure;
}

export interface CloseFindingDeps {
  findings: FindingsPort;
}

const FIXES = new Set([
  'quarantine',
  'deactivateCertificate',
  'revokeCertificate',
  'rotateCertificate',
  'fixPolicy',
]);

/**
 * Workflow status to set: RESOLVED when the plan had automatic fixes and none was declined; NOTIFIED when a human
 * must act (only notify/ticket, a declined fix, or a failure).
 */
export function closingStatus(input: CloseFindingInput): 'RESOLVED' | 'NOTIFIED' {
  if (input.failure !== undefined || input.plan.refusal !== undefined) return 'NOTIFIED';
  if (input.results.some((r) => r.outcome === 'declined')) return 'NOTIFIED';
  return input.plan.actions.some((a) => FIXES.has(a)) ? 'RESOLVED' : 'NOTIFIED';
}

/** The Security Hub note (at most 512 characters): what was done, and what failed. */
export function closingNote(input: CloseFindingInput): string {
  const done = input.results.map((r) => `${r.action}: ${r.outcome}`).join('; ') || 'nothing';
  const refusal = input.plan.refusal;
  const text = input.failure
    ? `cv-security remediation FAILED (${input.failure.error}: ${input.failure.message}). Done: ${done}.`
    : refusal !== undefined
      ? `cv-security REFUSED (${refusal.code}): ${refusal.reason}. No resource was touched. Done: ${done}.`
      : `cv-security remediation. ${done}. ${ticketOf(input.results)}`;
  return text.trim().slice(0, 512);
}

function ticketOf(results: readonly StepResult[]): string {
  const id = results.find((r) => r.action === 'openTicket')?.data?.opsItemId;
  return typeof id === 'string' ? `OpsItem ${id}.` : '';
}

/**
 * Sets the finding's workflow status and a note of what was done. BatchUpdateFindings sets absolute values, so a
 * second run leaves the same end state. Our own update is imported as a new event with status RESOLVED or
 * NOTIFIED, which the EventBridge rule (status NEW only) does not match: no loop.
 */
export async function closeFinding(
  input: CloseFindingInput,
  deps: CloseFindingDeps,
): Promise<{ status: 'RESOLVED' | 'NOTIFIED'; note: string }> {
  const status = closingStatus(input);
  const note = closingNote(input);
  await deps.findings.update({
    findingId: input.plan.findingId,
    productArn: input.plan.productArn,
    status,
    note,
  });
  return { status, note };
}

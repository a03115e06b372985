import { randomUUID } from 'node:crypto';
import type { Plan, StepResult } from '../plan.js';
import type { AlertPort } from '../ports.js';
import { findingDigest, result } from './common.js';

/** A failure caught by the state machine, reduced to what is safe to send: error name and message, no trace. */
export interface Failure {
  error: string;
  message: string;
}

export interface NotifyInput {
  /** Absent when classify itself failed (malformed finding). */
  plan?: Plan;
  results: readonly StepResult[];
  failure?: Failure;
  /** Identifiers of a finding that could not be classified, when readable. */
  unclassified?: { findingId?: string; productArn?: string; eventId?: string };
}

export interface NotifyDeps {
  alerts: AlertPort;
}

/**
 * Publishes the alert: a short subject and a structured JSON message with the finding, the targets and what each
 * step did (or what failed). Never carries certificates, keys or finding descriptions. SNS is at-least-once, so a
 * retry may deliver the alert twice; `dedupeKey` (stable per finding and outcome) lets consumers drop the copy.
 */
export async function notify(input: NotifyInput, deps: NotifyDeps): Promise<StepResult> {
  const { plan, failure } = input;
  const outcome =
    plan === undefined ? 'unclassifiable-finding' : failure === undefined ? 'remediating' : 'failed';
  const findingId = plan?.findingId ?? input.unclassified?.findingId ?? 'unknown';
  // What the alert is about, for de-duplication: never one key for two different unreadable findings.
  const subjectKey =
    plan?.findingId ?? input.unclassified?.findingId ?? input.unclassified?.eventId ?? randomUUID();
  const subject = ascii(
    plan === undefined
      ? '[cv-security] Unclassifiable security finding'
      : `[cv-security] ${failure === undefined ? '' : 'FAILED '}${plan.severity ?? ''} ${plan.check}`,
  );
  const message = {
    kind: 'cv-security.remediation',
    outcome,
    findingId,
    productArn: plan?.productArn ?? input.unclassified?.productArn,
    check: plan?.check,
    severity: plan?.severity,
    title: plan?.title,
    targets: plan && {
      thingName: plan.thingName,
      certificateId: plan.certificateId,
      caCertificateId: plan.caCertificateId,
      policyName: plan.policyName,
    },
    plannedActions: plan?.actions,
    results: input.results.map(({ action, outcome: o, detail }) => ({ action, outcome: o, detail })),
    failure,
  };
  const dedupeKey = `cv-${findingDigest(`${subjectKey}\n${outcome}`, 32)}`;
  const published = await deps.alerts.publish({
    subject,
    message: JSON.stringify(message, null, 2),
    dedupeKey,
  });
  return result('notify', 'changed', `alert ${published.messageId} published (${outcome})`, {
    messageId: published.messageId,
    dedupeKey,
  });
}

/** SNS subjects: ASCII, no control characters, at most 100 characters. */
function ascii(text: string): string {
  return (
    text
      .replace(/[^\x20-\x7e]/g, '?')
      .replace(/\s+/g, ' ')
      .trim()
      .slice(0, 100) || '[cv-security] security finding'
  );
}

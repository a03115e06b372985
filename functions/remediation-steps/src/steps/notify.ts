import { randomUUID } from 'node:crypto';
import { TransientStepError } from '../errors.js';
import type { Plan, StepResult } from '../plan.js';
import type { AlertLedgerPort, AlertPort, Clock } from '../ports.js';
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
  ledger: AlertLedgerPort;
  clock: Clock;
}

type Outcome = 'unclassifiable-finding' | 'remediating' | 'refused' | 'failed';

/**
 * What makes two alerts the same alert: the finding (id and product), the outcome, the plan (actions, targets,
 * refusal) and, on the failure path, the error name. Re-running the workflow for the same finding and plan gives
 * the same key, so the alert is sent once.
 */
export function alertKey(input: NotifyInput, outcome: Outcome, subjectKey: string): string {
  const { plan, failure } = input;
  const identity = [
    'cv-security.alert/v1',
    subjectKey,
    plan?.productArn ?? input.unclassified?.productArn ?? '',
    outcome,
    plan === undefined
      ? ''
      : JSON.stringify([
          plan.actions,
          plan.thingName ?? null,
          plan.certificateId ?? null,
          plan.caCertificateId ?? null,
          plan.policyName ?? null,
          plan.policyVersionId ?? null,
          plan.refusal?.code ?? null,
        ]),
    failure?.error ?? '',
  ];
  return findingDigest(identity.join('\n'), 64);
}

/**
 * Publishes the alert once: a short subject and a structured JSON message with the finding, the targets and what
 * each step did (or what failed, or why the finding was refused). Never carries certificates, keys or finding
 * descriptions. The alert ledger makes it one alert per finding and plan however often the workflow runs: a run
 * that finds the alert already sent publishes nothing (`unchanged`); one that finds another run sending it right now
 * retries later (TransientStepError). A run that dies between Publish and the ledger update leaves a claim that
 * expires after the lease, after which the alert is sent again: SNS's own at-least-once edge, carried by the same
 * `dedupeKey` message attribute for consumers.
 */
export async function notify(input: NotifyInput, deps: NotifyDeps): Promise<StepResult> {
  const { plan, failure } = input;
  const outcome: Outcome =
    plan === undefined
      ? 'unclassifiable-finding'
      : failure !== undefined
        ? 'failed'
        : plan.refusal !== undefined
          ? 'refused'
          : 'remediating';
  const findingId = plan?.findingId ?? input.unclassified?.findingId ?? 'unknown';
  // What the alert is about, for de-duplication: never one key for two different unreadable findings.
  const subjectKey =
    plan?.findingId ?? input.unclassified?.findingId ?? input.unclassified?.eventId ?? randomUUID();
  const key = alertKey(input, outcome, subjectKey);
  const dedupeKey = `cv-${key.slice(0, 32)}`;
  const claim = await deps.ledger.claim(key, findingId, deps.clock.now());
  if (claim.state === 'sent') {
    return result('notify', 'unchanged', `alert already sent for this finding and plan (${outcome})`, {
      messageId: claim.messageId,
      dedupeKey,
    });
  }
  if (claim.state === 'busy') {
    throw new TransientStepError('notify', new Error('another run is sending this alert'));
  }
  const subject = ascii(
    plan === undefined
      ? '[cv-security] Unclassifiable security finding'
      : `[cv-security] ${failure === undefined ? (plan.refusal === undefined ? '' : 'REFUSED ') : 'FAILED '}${plan.severity ?? ''} ${plan.check}`,
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
    refusal: plan?.refusal,
    plannedActions: plan?.actions,
    results: input.results.map(({ action, outcome: o, detail }) => ({ action, outcome: o, detail })),
    failure,
  };
  const published = await deps.alerts.publish({
    subject,
    message: JSON.stringify(message, null, 2),
    dedupeKey,
  });
  await deps.ledger.markSent(key, published.messageId, deps.clock.now());
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

import type { StepResult } from '../plan.js';
import type { TicketPort } from '../ports.js';
import { findingDigest, result, type StepInput } from './common.js';

export interface OpenTicketDeps {
  tickets: TicketPort;
}

const SEVERITY = { CRITICAL: '1', HIGH: '2', MEDIUM: '3', LOW: '4', INFORMATIONAL: '4' } as const;

/** OpsCenter dedup string for a finding: the same finding never opens two tickets while one is open. */
export function ticketDedupString(findingId: string): string {
  return `cv-security:finding:${findingDigest(findingId, 64)}`;
}

/**
 * Opens an OpsCenter OpsItem for the finding, unless one carrying `/cv/findingId` is already open (a retry, or a
 * finding re-raised while its ticket is open); OpsCenter's own dedup string backs that check up.
 */
export async function openTicket(input: StepInput, deps: OpenTicketDeps): Promise<StepResult> {
  const { plan, results } = input;
  const existing = await deps.tickets.findOpen(plan.findingId);
  if (existing !== undefined) {
    return result('openTicket', 'unchanged', `OpsItem ${existing} is already open for this finding`, {
      opsItemId: existing,
    });
  }
  const target = plan.thingName ?? plan.certificateId ?? plan.caCertificateId ?? plan.policyName;
  const title = `${plan.check}${target === undefined ? '' : ` on ${target}`}`.slice(0, 1024);
  const lines = [
    `Security Hub finding ${plan.findingId}`,
    `Product: ${plan.productArn}`,
    `Check: ${plan.check} (${plan.severity ?? 'unknown severity'})`,
    plan.title === undefined ? '' : `Title: ${plan.title}`,
    `Targets: ${JSON.stringify({ thingName: plan.thingName, certificateId: plan.certificateId, caCertificateId: plan.caCertificateId, policyName: plan.policyName })}`,
    `Automatic steps so far: ${results.map((r) => `${r.action}=${r.outcome} (${r.detail})`).join('; ') || 'none'}`,
    `Planned: ${plan.actions.join(', ')}`,
  ].filter((l) => l !== '');
  const ticket = await deps.tickets.create({
    findingId: plan.findingId,
    productArn: plan.productArn,
    dedupString: ticketDedupString(plan.findingId),
    title,
    description: lines.join('\n').slice(0, 2048),
    severity: SEVERITY[(plan.severity ?? 'MEDIUM') as keyof typeof SEVERITY] ?? '3',
  });
  return result(
    'openTicket',
    ticket.created ? 'changed' : 'unchanged',
    ticket.created
      ? `OpsItem ${ticket.opsItemId} opened`
      : `OpsItem ${ticket.opsItemId} already open (deduplicated)`,
    { opsItemId: ticket.opsItemId },
  );
}

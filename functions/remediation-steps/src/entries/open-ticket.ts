/** Entry of the openTicket step (Systems Manager OpsCenter only). */
import { SSMClient } from '@aws-sdk/client-ssm';
import { OpsCenterTickets } from '../adapters/tickets.js';
import type { RemediationState } from '../plan.js';
import { advance } from '../state.js';
import { openTicket as openTicketUseCase } from '../steps/open-ticket.js';
import { clientConfig, on, once, record } from './runtime.js';

const ssmClient = once(() => new SSMClient(clientConfig));

export const openTicket = on<unknown, RemediationState>((input) =>
  advance('openTicket', input, async (state) =>
    record(await openTicketUseCase(state, { tickets: new OpsCenterTickets(ssmClient()) })),
  ),
);

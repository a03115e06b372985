import {
  CreateOpsItemCommand,
  DescribeOpsItemsCommand,
  OpsItemAlreadyExistsException,
  type SSMClient,
} from '@aws-sdk/client-ssm';
import type { TicketPort } from '../ports.js';

/** OperationalData key that carries the Security Hub finding id on our OpsItems (searchable). */
export const FINDING_ID_KEY = '/cv/findingId';
const OPEN = new Set(['Open', 'InProgress']);
const MAX_PAGES = 5;

/** {@link TicketPort} on Systems Manager OpsCenter. */
export class OpsCenterTickets implements TicketPort {
  constructor(
    private readonly client: SSMClient,
    private readonly source = 'cv-security',
  ) {}

  async findOpen(findingId: string): Promise<string | undefined> {
    let NextToken: string | undefined;
    for (let page = 0; page < MAX_PAGES; page++) {
      const out = await this.client.send(
        new DescribeOpsItemsCommand({
          OpsItemFilters: [
            {
              Key: 'OperationalData',
              Operator: 'Equal',
              Values: [JSON.stringify({ key: FINDING_ID_KEY, value: findingId })],
            },
          ],
          MaxResults: 50,
          NextToken,
        }),
      );
      const open = (out.OpsItemSummaries ?? []).find((s) => s.OpsItemId && OPEN.has(s.Status ?? ''));
      if (open?.OpsItemId) return open.OpsItemId;
      NextToken = out.NextToken;
      if (!NextToken) break;
    }
    return undefined;
  }

  async create(ticket: {
    findingId: string;
    productArn: string;
    dedupString: string;
    title: string;
    description: string;
    severity: '1' | '2' | '3' | '4';
  }): Promise<{ opsItemId: string; created: boolean }> {
    try {
      const out = await this.client.send(
        new CreateOpsItemCommand({
          Title: ticket.title,
          Description: ticket.description,
          Source: this.source,
          Category: 'Security',
          Severity: ticket.severity,
          OperationalData: {
            [FINDING_ID_KEY]: { Value: ticket.findingId, Type: 'SearchableString' },
            '/cv/productArn': { Value: ticket.productArn, Type: 'SearchableString' },
            '/aws/dedup': {
              Value: JSON.stringify({ dedupString: ticket.dedupString }),
              Type: 'SearchableString',
            },
          },
        }),
      );
      return { opsItemId: out.OpsItemId ?? '', created: true };
    } catch (error) {
      if (error instanceof OpsItemAlreadyExistsException && error.OpsItemId) {
        return { opsItemId: error.OpsItemId, created: false };
      }
      throw error;
    }
  }
}

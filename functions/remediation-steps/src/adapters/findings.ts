import { BatchUpdateFindingsCommand, type SecurityHubClient } from '@aws-sdk/client-securityhub';
import { StepFailedError } from '../errors.js';
import type { FindingsPort } from '../ports.js';

export const UPDATED_BY = 'cv-security/remediation-steps';

/** {@link FindingsPort} on Security Hub BatchUpdateFindings. */
export class SecurityHubFindings implements FindingsPort {
  constructor(private readonly client: SecurityHubClient) {}

  async update(finding: {
    findingId: string;
    productArn: string;
    status: 'RESOLVED' | 'NOTIFIED';
    note: string;
  }): Promise<void> {
    const out = await this.client.send(
      new BatchUpdateFindingsCommand({
        FindingIdentifiers: [{ Id: finding.findingId, ProductArn: finding.productArn }],
        Workflow: { Status: finding.status },
        Note: { Text: finding.note, UpdatedBy: UPDATED_BY },
      }),
    );
    const failed = out.UnprocessedFindings?.[0];
    if (failed !== undefined) {
      throw new StepFailedError(
        'closeFinding',
        `Security Hub did not update the finding: ${failed.ErrorCode ?? 'unknown'}`,
      );
    }
  }
}

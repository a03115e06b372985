import { BatchImportFindingsCommand, type SecurityHubClient } from '@aws-sdk/client-securityhub';
import { FindingImportError } from '../errors.js';
import type { FindingImporter } from '../ports.js';

/** {@link FindingImporter} on Security Hub BatchImportFindings. */
export class SecurityHubImporter implements FindingImporter {
  constructor(private readonly client: SecurityHubClient) {}

  async import(finding: Record<string, unknown>): Promise<void> {
    const out = await this.client.send(
      // The finding is built by buildFinding() to the ASFF; the SDK's type is a structural subset of it.
      new BatchImportFindingsCommand({ Findings: [finding as never] }),
    );
    const failed = out.FailedFindings?.[0];
    if ((out.FailedCount ?? 0) > 0 || failed !== undefined) {
      throw new FindingImportError(String(finding.Id), failed?.ErrorCode ?? 'unknown');
    }
  }
}

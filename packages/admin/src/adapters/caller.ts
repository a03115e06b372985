import { GetCallerIdentityCommand, type STSClient } from '@aws-sdk/client-sts';
import type { CallerPort } from '../ports.js';

/** {@link CallerPort}: the ARN of the principal the operator's credentials belong to (STS GetCallerIdentity). */
export class StsCaller implements CallerPort {
  private arn: string | undefined;
  constructor(private readonly client: STSClient) {}

  async whoAmI(): Promise<string> {
    this.arn ??= (await this.client.send(new GetCallerIdentityCommand({}))).Arn ?? 'unknown';
    return this.arn;
  }
}

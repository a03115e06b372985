import { PublishCommand, type SNSClient } from '@aws-sdk/client-sns';
import type { AlertPort } from '../ports.js';

/** {@link AlertPort} on an SNS topic. */
export class SnsAlerts implements AlertPort {
  constructor(
    private readonly client: SNSClient,
    private readonly topicArn: string,
  ) {}

  async publish(alert: {
    subject: string;
    message: string;
    dedupeKey: string;
  }): Promise<{ messageId: string }> {
    const out = await this.client.send(
      new PublishCommand({
        TopicArn: this.topicArn,
        Subject: alert.subject,
        Message: alert.message,
        MessageAttributes: { dedupeKey: { DataType: 'String', StringValue: alert.dedupeKey } },
      }),
    );
    return { messageId: out.MessageId ?? '' };
  }
}

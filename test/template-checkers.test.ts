/**
 * scripts/check-template.mjs (the CI gate of issue 14) must be able to fail: a validator error or an
 * unacknowledged cdk-nag finding makes it exit non-zero; acknowledgements apply only where they say.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const dir = mkdtempSync(join(tmpdir(), 'cv-checkers-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function check(name: string, template: unknown) {
  const file = join(dir, `${name}.json`);
  writeFileSync(file, JSON.stringify(template));
  const r = spawnSync(process.execPath, [join(root, 'scripts/check-template.mjs'), '--template', file], {
    cwd: root,
    encoding: 'utf8',
  });
  if (r.status !== 0 && !r.stdout.includes('template checks')) console.error(r.stderr.slice(0, 2000));
  return { status: r.status, out: `${r.stdout}${r.stderr}` };
}

const encryptedQueue = {
  Type: 'AWS::SQS::Queue',
  Properties: { KmsMasterKeyId: 'alias/aws/sqs' },
};

describe('check-template', () => {
  it('fails on a CloudFormation validator error (a table without its key schema)', () => {
    const r = check('invalid', {
      Resources: { Table: { Type: 'AWS::DynamoDB::Table', Properties: { BillingMode: 'PAY_PER_REQUEST' } } },
    });
    expect(r.status).toBe(1);
    expect(r.out).toMatch(/cloudformation-validate \w+ errors [1-9]/);
  }, 120_000);

  it('fails on a cdk-nag finding no acknowledgement covers (an unencrypted topic), naming rule and resource', () => {
    const r = check('nag', { Resources: { Topic: { Type: 'AWS::SNS::Topic', Properties: {} } } });
    expect(r.status).toBe(1);
    expect(r.out).toContain('cdk-nag NIST.800.53.R5-SNSEncryptedKMS Topic');
  }, 120_000);

  it('applies a resource-scoped acknowledgement to that logical id only', () => {
    // nag-suppressions.json acknowledges AwsSolutions-SQS3 for JitrDeadLetterQueue (a DLQ) only.
    const r = check('scoped', {
      Resources: { JitrDeadLetterQueue: encryptedQueue, OtherQueue: encryptedQueue },
    });
    expect(r.out).not.toContain('AwsSolutions-SQS3 JitrDeadLetterQueue');
    expect(r.out).toContain('AwsSolutions-SQS3 OtherQueue');
    expect(r.status).toBe(1);
  }, 120_000);
});

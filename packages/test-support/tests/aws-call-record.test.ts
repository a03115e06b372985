import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { configured, identifying, operationOf, ROOT, sourcesOnStack } from '../src/aws-call-record.js';

describe('what the AWS call recorder keeps of a call', () => {
  it('never items, messages, plaintexts, ciphertexts or tokens: only identifiers and the encryption context', () => {
    const input = {
      TableName: 'cv-security-dev-commands',
      Item: { secret: { S: 'odometer 987654' } },
      Key: { commandId: { S: 'x' } },
      ExpressionAttributeValues: { ':v': { S: 'secret' } },
      Message: 'alert body',
      Plaintext: new TextEncoder().encode('unlock'),
      CiphertextBlob: new Uint8Array([1, 2, 3]),
      IdempotencyToken: 'abc',
      KeyId: 'alias/cv-security-dev-command-encryption',
      EncryptionContext: { aud: 'VIN_gw-1', jti: '3b241101-e2bb-4255-8caf-4136c566a962' },
    };
    const kept = JSON.stringify(identifying(input));
    for (const secret of ['odometer', 'secret', 'alert body', 'unlock', 'abc', '"x"'])
      expect(kept).not.toContain(secret);
    expect(identifying(input)).toEqual({
      TableName: 'cv-security-dev-commands',
      KeyId: 'alias/cv-security-dev-command-encryption',
      EncryptionContext: { aud: 'VIN_gw-1', jti: '00000000-0000-4000-8000-000000000000' },
    });
  });

  it('replaces random ids and times by fixed values of the same shape (reruns record the same bytes)', () => {
    const a = identifying({
      certificateId: 'ab'.repeat(32),
      at: '2026-12-03T09:00:01.123Z',
      serial: '0a:1b:2c:3d:4e:5f:60:71',
    });
    const b = identifying({
      certificateId: 'cd'.repeat(32),
      at: '2027-01-01T00:00:00Z',
      serial: 'ff:ee:dd:cc:bb:aa:99:88',
    });
    expect(a).toEqual(b);
    expect((a as { certificateId: string }).certificateId).toHaveLength(64);
  });

  it("keeps S3's object key (IAM authorises on it) but never the object's body; DynamoDB's Key stays dropped", () => {
    const kept = identifying({
      Bucket: 'cv-truststore',
      Key: 'trust/attestation-cas.pem',
      Body: '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n',
    });
    expect(kept).toEqual({ Bucket: 'cv-truststore', Key: 'trust/attestation-cas.pem' });
    expect(identifying({ TableName: 't', Key: { pk: { S: 'secret-row' } } })).toEqual({ TableName: 't' });
  });

  it('names an S3 URI in a configured bucket as a template of the variable (the deployed bucket fills it)', () => {
    process.env.CV_RECORDER_TEST_BUCKET = 'cv-recorder-test-bucket';
    try {
      expect(
        configured({
          MutualTlsAuthentication: { TruststoreUri: 's3://cv-recorder-test-bucket/trust/cas.pem' },
          Other: 's3://another-bucket/cas.pem',
          Prefix: 's3://cv-recorder-test-bucket-2/cas.pem',
        }),
      ).toEqual({
        'MutualTlsAuthentication.TruststoreUri': `s3://${'$'}{CV_RECORDER_TEST_BUCKET}/trust/cas.pem`,
      });
    } finally {
      delete process.env.CV_RECORDER_TEST_BUCKET;
    }
  });

  it('names a key that is a configured table name (RequestItems of the batch operations) as key:NAME, never its items', () => {
    process.env.CV_RECORDER_TEST_REGISTRY = 'cv-security-test-registry';
    try {
      const input = {
        RequestItems: {
          'cv-security-test-registry': { Keys: [{ ecuId: { S: 'GW-1' } }], ConsistentRead: true },
        },
      };
      expect(configured(input)).toEqual({
        'RequestItems.cv-security-test-registry': 'key:CV_RECORDER_TEST_REGISTRY',
      });
      expect(JSON.stringify(identifying(input))).not.toContain('GW-1');
    } finally {
      delete process.env.CV_RECORDER_TEST_REGISTRY;
    }
  });

  it('names the input fields whose value is the value of an environment variable', () => {
    process.env.CV_RECORDER_TEST_TABLE = 'cv-security-test-table';
    try {
      expect(
        configured({
          TableName: 'cv-security-test-table',
          Other: 'x',
          Nested: { Name: 'cv-security-test-table' },
        }),
      ).toEqual({
        TableName: 'CV_RECORDER_TEST_TABLE',
        'Nested.Name': 'CV_RECORDER_TEST_TABLE',
      });
    } finally {
      delete process.env.CV_RECORDER_TEST_TABLE;
    }
  });

  it("keeps a call made by the function's code, and drops one a test makes itself", () => {
    const fn = (p: string) => `    at x (${join(ROOT, 'functions', 'command-sender', p)}:1:1)`;
    const lib = (p: string) => `    at y (${join(ROOT, 'packages', 'crypto', p)}:1:1)`;
    const stack = (...frames: string[]) => ['Error', ...frames].join('\n');
    expect(
      sourcesOnStack(
        stack(fn('src/adapters/kms.ts'), fn('src/send-command.ts'), fn('tests/handler.test.ts')),
      ),
    ).toEqual(['src/adapters/kms.ts', 'src/send-command.ts']);
    expect(sourcesOnStack(stack(lib('src/telemetry/decrypt.ts')))).toEqual([
      '@cv/crypto/src/telemetry/decrypt.ts',
    ]);
    expect(
      sourcesOnStack(stack(lib('src/telemetry/encrypt.ts'), fn('tests/handler.test.ts'))),
    ).toBeUndefined();
    expect(sourcesOnStack(stack(fn('tests/handler.test.ts')))).toBeUndefined();
  });

  it('records a lib-dynamodb command as the client command it sends', () => {
    const put = {
      input: { TableName: 't' },
      clientCommand: { schema: [9, 'ns', 'PutItem'], constructor: { name: 'PutItemCommand' } },
      constructor: { name: 'PutCommand' },
    };
    expect(operationOf(put).operation).toBe('PutItem');
  });
});

import { DecryptCommand, GenerateDataKeyCommand, KMSClient } from '@aws-sdk/client-kms';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, describe, expect, it } from 'vitest';
import { installFakeKms } from '../src/index.js';

const KEY = 'arn:aws:kms:eu-west-1:123456789012:key/11111111-2222-4333-8444-555555555555';
const stub = mockClient(KMSClient as never);
const kms = new KMSClient({
  region: 'eu-west-1',
  credentials: { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'x' },
});
installFakeKms(stub as never, [KEY]);
afterAll(() => stub.restore());

describe('installFakeKms', () => {
  it('decrypts the data key it generated, only under the same encryption context', async () => {
    const context = { thing: 'VIN_ECU', kind: 'telemetry' };
    const key = await kms.send(
      new GenerateDataKeyCommand({ KeyId: KEY, NumberOfBytes: 32, EncryptionContext: context }),
    );

    const back = await kms.send(
      new DecryptCommand({ CiphertextBlob: key.CiphertextBlob, EncryptionContext: context }),
    );

    expect(Buffer.from(back.Plaintext ?? [])).toEqual(Buffer.from(key.Plaintext ?? []));
    expect(back.KeyId).toBe(KEY);
    await expect(
      kms.send(
        new DecryptCommand({
          CiphertextBlob: key.CiphertextBlob,
          EncryptionContext: { ...context, kind: 'x' },
        }),
      ),
    ).rejects.toMatchObject({ name: 'InvalidCiphertextException' });
  });
});

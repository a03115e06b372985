import { generateKeyPairSync, sign } from 'node:crypto';
import { GetPublicKeyCommand, KMSClient, SignCommand } from '@aws-sdk/client-kms';
import { signCommandJws } from '@cv/crypto/command';
import { mockClient } from 'aws-sdk-client-mock';
import { decodeProtectedHeader } from 'jose';
import { beforeEach, describe, expect, it } from 'vitest';
import { kmsSigner } from '../src/adapters/kms.js';
import { SIGNING_KEY_ARN, SUB, VIN } from './helpers.js';

const kmsMock = mockClient(KMSClient);
const kms = new KMSClient({ region: 'eu-west-1' });
const claims = {
  iss: 'cv-security:dev',
  aud: `${VIN}_gw-0001`,
  sub: SUB,
  jti: '3b241101-e2bb-4255-8caf-4136c566a962',
  iat: 1,
  exp: 121,
  vin: VIN,
  cmd: 'locate',
  args: {},
};
const spki = (k: import('node:crypto').KeyObject) =>
  new Uint8Array(k.export({ format: 'der', type: 'spki' }));

beforeEach(() => kmsMock.reset());

describe('kmsSigner', () => {
  it.each([
    ['ECC_NIST_P256', 'ES256', 'ECDSA_SHA_256', 32],
    ['ECC_NIST_P384', 'ES384', 'ECDSA_SHA_384', 48],
    ['RSA_2048', 'PS256', 'RSASSA_PSS_SHA_256', 32],
  ] as const)(
    '%s key -> %s, Sign(MessageType DIGEST, %s) over a %i-byte digest',
    async (keySpec, alg, kmsAlg, digestLength) => {
      const pair =
        keySpec === 'RSA_2048'
          ? generateKeyPairSync('rsa', { modulusLength: 2048 })
          : generateKeyPairSync('ec', { namedCurve: keySpec === 'ECC_NIST_P256' ? 'P-256' : 'P-384' });
      kmsMock.on(GetPublicKeyCommand).resolves({
        KeyId: SIGNING_KEY_ARN,
        KeySpec: keySpec,
        KeyUsage: 'SIGN_VERIFY',
        PublicKey: spki(pair.publicKey),
        SigningAlgorithms:
          keySpec === 'RSA_2048' ? ['RSASSA_PKCS1_V1_5_SHA_256', 'RSASSA_PSS_SHA_256'] : [kmsAlg],
      });
      // A syntactically valid signature of the right size (its value is checked by the crypto module's jose tests).
      kmsMock
        .on(SignCommand)
        .resolves({ Signature: new Uint8Array(sign(null, Buffer.from('x'), pair.privateKey)) });

      const signer = await kmsSigner(kms, 'alias/cv-security-dev-command-signing').get();
      const jws = await signCommandJws(claims, signer);

      expect(decodeProtectedHeader(jws)).toEqual({ alg, kid: SIGNING_KEY_ARN, typ: 'cv-command+jws' });
      const input = kmsMock.commandCalls(SignCommand)[0]?.args[0].input;
      expect(input).toMatchObject({
        KeyId: 'alias/cv-security-dev-command-signing',
        MessageType: 'DIGEST',
        SigningAlgorithm: kmsAlg,
      });
      expect(input?.Message?.length).toBe(digestLength);
    },
  );

  it('calls GetPublicKey once per container, and again after a failure (failures are not cached)', async () => {
    const { publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    kmsMock
      .on(GetPublicKeyCommand)
      .rejectsOnce(new Error('KMSInternalException'))
      .resolves({
        KeyId: SIGNING_KEY_ARN,
        KeySpec: 'ECC_NIST_P256',
        KeyUsage: 'SIGN_VERIFY',
        PublicKey: spki(publicKey),
      });
    const signer = kmsSigner(kms, SIGNING_KEY_ARN);
    await expect(signer.get()).rejects.toThrow('KMSInternalException');
    await signer.get();
    await signer.get();
    await signer.publicKey();
    expect(kmsMock.commandCalls(GetPublicKeyCommand)).toHaveLength(2);
  });

  it.each([
    ['an ENCRYPT_DECRYPT key', { KeyUsage: 'ENCRYPT_DECRYPT' as const }],
    ['a public key that does not match the key spec', { KeySpec: 'ECC_NIST_P384' as const }],
    [
      'an RSA key without PSS',
      { KeySpec: 'RSA_2048' as const, SigningAlgorithms: ['RSASSA_PKCS1_V1_5_SHA_256' as const] },
    ],
    ['a secp256k1 key', { KeySpec: 'ECC_SECG_P256K1' as const }],
  ])('refuses %s', async (_n, over) => {
    const { publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    kmsMock.on(GetPublicKeyCommand).resolves({
      KeyId: SIGNING_KEY_ARN,
      KeySpec: 'ECC_NIST_P256',
      KeyUsage: 'SIGN_VERIFY',
      PublicKey: spki(publicKey),
      ...over,
    });
    await expect(kmsSigner(kms, SIGNING_KEY_ARN).get()).rejects.toThrow();
    expect(kmsMock.commandCalls(SignCommand)).toHaveLength(0);
  });
});

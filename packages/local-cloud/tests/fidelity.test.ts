/**
 * Fidelity of the local cloud: the real AWS SDK v3 clients against it on an ephemeral port,
 * checked with independent peers (node:crypto, openssl) where they exist.
 */
import { execFile, execFileSync } from 'node:child_process';
import { createHash, createVerify, generateKeyPairSync, verify, webcrypto } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import {
  ACMPCAClient,
  GetCertificateCommand,
  IssueCertificateCommand,
  RequestInProgressException,
  RevokeCertificateCommand,
  waitUntilCertificateIssued,
} from '@aws-sdk/client-acm-pca';
import { DescribeTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  AttachPolicyCommand,
  AttachThingPrincipalCommand,
  CreatePolicyCommand,
  CreatePolicyVersionCommand,
  CreateThingCommand,
  DeletePolicyVersionCommand,
  DescribeCACertificateCommand,
  DescribeCertificateCommand,
  GetEffectivePoliciesCommand,
  GetPolicyCommand,
  InvalidRequestException,
  IoTClient,
  ListAttachedPoliciesCommand,
  ListPolicyVersionsCommand,
  ListThingPrincipalsCommand,
  RegisterCertificateCommand,
  ResourceAlreadyExistsException,
  ResourceNotFoundException,
  UpdateCertificateCommand,
  VersionsLimitExceededException,
} from '@aws-sdk/client-iot';
import { IoTDataPlaneClient, PublishCommand as IotPublishCommand } from '@aws-sdk/client-iot-data-plane';
import {
  DecryptCommand,
  EncryptCommand,
  GenerateDataKeyCommand,
  GetPublicKeyCommand,
  InvalidCiphertextException,
  KMSClient,
  SignCommand,
} from '@aws-sdk/client-kms';
import {
  BatchImportFindingsCommand,
  BatchUpdateFindingsCommand,
  GetFindingsCommand,
  SecurityHubClient,
} from '@aws-sdk/client-securityhub';
import { PublishCommand, SNSClient, NotFoundException as SnsNotFound } from '@aws-sdk/client-sns';
import {
  CreateOpsItemCommand,
  DescribeOpsItemsCommand,
  GetParameterCommand,
  OpsItemAlreadyExistsException,
  ParameterNotFound,
  SSMClient,
} from '@aws-sdk/client-ssm';
import { DynamoDBDocumentClient, GetCommand, PutCommand, TransactWriteCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTables, LocalCloud, x509 } from '../src/index.js';

const SIGN_KEY = '11111111-1111-4111-8111-111111111111';
const ENC_KEY = '22222222-2222-4222-8222-222222222222';
const RSA_KEY = '33333333-3333-4333-8333-333333333333';
const TOPIC = 'arn:aws:sns:eu-west-1:123456789012:alerts';

let cloud: LocalCloud;
let kms: KMSClient;
let pca: ACMPCAClient;
let iot: IoTClient;

beforeAll(async () => {
  cloud = await LocalCloud.start({
    kmsKeys: [
      { keyId: SIGN_KEY, spec: 'ECC_NIST_P256', aliases: ['alias/command-signing'] },
      { keyId: ENC_KEY, spec: 'SYMMETRIC_DEFAULT', aliases: ['alias/command-encryption'] },
      { keyId: RSA_KEY, spec: 'RSA_2048' },
    ],
    snsTopics: [TOPIC],
    ssmParameters: { '/cv-security/local/attestation-trust-bundle': 'PEM' },
  });
  const config = { ...cloud.clientConfig(), maxAttempts: 1 };
  kms = new KMSClient(config);
  pca = new ACMPCAClient(config);
  iot = new IoTClient(config);
});

afterAll(async () => {
  await cloud?.stop();
});

async function csrPem(cn: string): Promise<{ pem: string; keys: webcrypto.CryptoKeyPair }> {
  const alg = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' };
  const keys = (await webcrypto.subtle.generateKey(alg, true, ['sign', 'verify'])) as webcrypto.CryptoKeyPair;
  const csr = await x509.Pkcs10CertificateRequestGenerator.create({
    name: `CN=${cn}`,
    keys,
    signingAlgorithm: alg,
  } as never);
  return { pem: csr.toString('pem'), keys };
}

describe('KMS', () => {
  it('signs a SHA-256 digest (MessageType DIGEST) with a DER ECDSA signature node:crypto verifies', async () => {
    const message = Buffer.from('header.payload');
    const digest = createHash('sha256').update(message).digest();
    const out = await kms.send(
      new SignCommand({
        KeyId: SIGN_KEY,
        Message: digest,
        MessageType: 'DIGEST',
        SigningAlgorithm: 'ECDSA_SHA_256',
      }),
    );
    const pub = await kms.send(new GetPublicKeyCommand({ KeyId: 'alias/command-signing' }));
    const spki = Buffer.from(pub.PublicKey ?? new Uint8Array());
    const key = { key: spki, format: 'der' as const, type: 'spki' as const, dsaEncoding: 'der' as const };
    expect(out.KeyId).toBe(`arn:aws:kms:eu-west-1:123456789012:key/${SIGN_KEY}`);
    expect(Buffer.from(out.Signature ?? new Uint8Array())[0]).toBe(0x30);
    expect(verify('sha256', message, key, Buffer.from(out.Signature ?? new Uint8Array()))).toBe(true);
    expect(verify('sha256', Buffer.from('other'), key, Buffer.from(out.Signature ?? new Uint8Array()))).toBe(
      false,
    );
  });

  it('signs a RAW message the same way, and GetPublicKey answers SPKI DER with the signing algorithms', async () => {
    const message = Buffer.from('raw message');
    const out = await kms.send(
      new SignCommand({
        KeyId: SIGN_KEY,
        Message: message,
        MessageType: 'RAW',
        SigningAlgorithm: 'ECDSA_SHA_256',
      }),
    );
    const pub = await kms.send(new GetPublicKeyCommand({ KeyId: SIGN_KEY }));
    const v = createVerify('sha256').update(message);
    const spki = Buffer.from(pub.PublicKey ?? new Uint8Array());
    expect(
      v.verify(
        { key: spki, format: 'der', type: 'spki', dsaEncoding: 'der' },
        Buffer.from(out.Signature ?? new Uint8Array()),
      ),
    ).toBe(true);
    expect(pub.KeySpec).toBe('ECC_NIST_P256');
    expect(pub.SigningAlgorithms).toEqual(['ECDSA_SHA_256']);
    // openssl, as an independent parser, reads the SPKI as a P-256 key.
    const dir = mkdtempSync(join(tmpdir(), 'spki-'));
    try {
      writeFileSync(join(dir, 'k.der'), spki);
      const text = execFileSync('openssl', [
        'pkey',
        '-pubin',
        '-inform',
        'DER',
        '-in',
        join(dir, 'k.der'),
        '-noout',
        '-text',
      ]).toString();
      expect(text).toMatch(/prime256v1|P-256/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('rejects a digest of the wrong length with ValidationException and signs with RSA-PSS that node verifies', async () => {
    await expect(
      kms.send(
        new SignCommand({
          KeyId: SIGN_KEY,
          Message: Buffer.alloc(20),
          MessageType: 'DIGEST',
          SigningAlgorithm: 'ECDSA_SHA_256',
        }),
      ),
    ).rejects.toMatchObject({ name: 'ValidationException' });
    const message = Buffer.from('pss');
    const out = await kms.send(
      new SignCommand({
        KeyId: RSA_KEY,
        Message: createHash('sha256').update(message).digest(),
        MessageType: 'DIGEST',
        SigningAlgorithm: 'RSASSA_PSS_SHA_256',
      }),
    );
    const pub = await kms.send(new GetPublicKeyCommand({ KeyId: RSA_KEY }));
    const key = {
      key: Buffer.from(pub.PublicKey ?? new Uint8Array()),
      format: 'der' as const,
      type: 'spki' as const,
    };
    expect(
      verify(
        'sha256',
        message,
        { ...key, padding: 6, saltLength: 32 },
        Buffer.from(out.Signature ?? new Uint8Array()),
      ),
    ).toBe(true);
  });

  it('binds the encryption context: Decrypt with another context fails with InvalidCiphertextException', async () => {
    const context = { aud: 'VIN_ecu', jti: 'c1' };
    const enc = await kms.send(
      new EncryptCommand({
        KeyId: 'alias/command-encryption',
        Plaintext: Buffer.from('jws'),
        EncryptionContext: context,
      }),
    );
    const ok = await kms.send(
      new DecryptCommand({ CiphertextBlob: enc.CiphertextBlob, EncryptionContext: context }),
    );
    expect(Buffer.from(ok.Plaintext ?? new Uint8Array()).toString()).toBe('jws');
    expect(ok.KeyId).toBe(`arn:aws:kms:eu-west-1:123456789012:key/${ENC_KEY}`);
    await expect(
      kms.send(
        new DecryptCommand({
          CiphertextBlob: enc.CiphertextBlob,
          EncryptionContext: { ...context, aud: 'OTHER' },
        }),
      ),
    ).rejects.toBeInstanceOf(InvalidCiphertextException);
    await expect(kms.send(new DecryptCommand({ CiphertextBlob: enc.CiphertextBlob }))).rejects.toBeInstanceOf(
      InvalidCiphertextException,
    );
  });

  it('GenerateDataKey returns a plaintext key and a blob that decrypts to it under the same context', async () => {
    const out = await kms.send(
      new GenerateDataKeyCommand({ KeyId: ENC_KEY, KeySpec: 'AES_256', EncryptionContext: { thing: 't' } }),
    );
    expect(out.Plaintext?.length).toBe(32);
    const back = await kms.send(
      new DecryptCommand({ CiphertextBlob: out.CiphertextBlob, EncryptionContext: { thing: 't' } }),
    );
    expect(
      Buffer.from(back.Plaintext ?? new Uint8Array()).equals(Buffer.from(out.Plaintext ?? new Uint8Array())),
    ).toBe(true);
  });
});

describe('ACM PCA', () => {
  it('answers RequestInProgressException first, then the certificate with the passthrough subject and URI SAN', async () => {
    const { pem } = await csrPem('ignored-csr-subject');
    const issued = await pca.send(
      new IssueCertificateCommand({
        CertificateAuthorityArn: cloud.pca.caArn,
        Csr: Buffer.from(pem),
        SigningAlgorithm: 'SHA256WITHECDSA',
        TemplateArn: 'arn:aws:acm-pca:::template/EndEntityClientAuthCertificate_APIPassthrough/V1',
        Validity: { Type: 'DAYS', Value: 30 },
        IdempotencyToken: 'token-1',
        ApiPassthrough: {
          Subject: { CommonName: 'VIN_ecu-1' },
          Extensions: {
            SubjectAlternativeNames: [{ UniformResourceIdentifier: 'urn:cv:vin:VIN:ecu:ecu-1' }],
          },
        },
      }),
    );
    const input = { CertificateAuthorityArn: cloud.pca.caArn, CertificateArn: issued.CertificateArn };
    await expect(pca.send(new GetCertificateCommand(input))).rejects.toBeInstanceOf(
      RequestInProgressException,
    );
    const got = await pca.send(new GetCertificateCommand(input));
    const cert = new x509.X509Certificate(got.Certificate ?? '');
    expect(cert.subject).toBe('CN=VIN_ecu-1');
    expect(cert.getExtension(x509.SubjectAlternativeNameExtension)?.names.toJSON()).toEqual([
      { type: 'url', value: 'urn:cv:vin:VIN:ecu:ecu-1' },
    ]);
    const days = (cert.notAfter.getTime() - Date.now()) / 86400_000;
    expect(days).toBeGreaterThan(29);
    expect(days).toBeLessThanOrEqual(30);
    // openssl verifies the leaf against the returned chain.
    const dir = mkdtempSync(join(tmpdir(), 'chain-'));
    try {
      const chain = (got.CertificateChain ?? '').split(/(?<=-----END CERTIFICATE-----)\s*/).filter(Boolean);
      writeFileSync(join(dir, 'leaf.pem'), got.Certificate ?? '');
      writeFileSync(join(dir, 'sub.pem'), chain[0] ?? '');
      writeFileSync(join(dir, 'root.pem'), chain[1] ?? '');
      const out = execFileSync('openssl', [
        'verify',
        '-CAfile',
        join(dir, 'root.pem'),
        '-untrusted',
        join(dir, 'sub.pem'),
        '-purpose',
        'sslclient',
        join(dir, 'leaf.pem'),
      ]).toString();
      expect(out).toContain('OK');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('returns the same ARN for a repeated idempotency token and issues once; the SDK waiter gets the certificate', async () => {
    const { pem } = await csrPem('x');
    const request = {
      CertificateAuthorityArn: cloud.pca.caArn,
      Csr: Buffer.from(pem),
      SigningAlgorithm: 'SHA256WITHECDSA' as const,
      Validity: { Type: 'DAYS' as const, Value: 1 },
      IdempotencyToken: 'same-token',
    };
    const before = cloud.pca.issued.size;
    const a = await pca.send(new IssueCertificateCommand(request));
    const b = await pca.send(new IssueCertificateCommand(request));
    expect(b.CertificateArn).toBe(a.CertificateArn);
    expect(cloud.pca.issued.size).toBe(before + 1);
    const waited = await waitUntilCertificateIssued(
      { client: pca, maxWaitTime: 10, minDelay: 1 },
      { CertificateAuthorityArn: cloud.pca.caArn, CertificateArn: a.CertificateArn },
    );
    expect(waited.state).toBe('SUCCESS');
  });

  it('rejects a CSR whose signature does not verify, issuing nothing', async () => {
    const { pem } = await csrPem('tampered');
    const der = Buffer.from(pem.replace(/-----[^-]+-----/g, '').replace(/\s/g, ''), 'base64');
    der[der.length - 5] = (der[der.length - 5] ?? 0) ^ 0xff;
    const bad = `-----BEGIN CERTIFICATE REQUEST-----\n${der.toString('base64')}\n-----END CERTIFICATE REQUEST-----\n`;
    const before = cloud.pca.issued.size;
    await expect(
      pca.send(
        new IssueCertificateCommand({
          CertificateAuthorityArn: cloud.pca.caArn,
          Csr: Buffer.from(bad),
          SigningAlgorithm: 'SHA256WITHECDSA',
          Validity: { Type: 'DAYS', Value: 1 },
        }),
      ),
    ).rejects.toMatchObject({ name: 'MalformedCSRException' });
    expect(cloud.pca.issued.size).toBe(before);
  });

  it('OCSP (openssl ocsp as the client) answers good, then revoked after RevokeCertificate', async () => {
    const { pem } = await csrPem('ocsp');
    const issued = await pca.send(
      new IssueCertificateCommand({
        CertificateAuthorityArn: cloud.pca.caArn,
        Csr: Buffer.from(pem),
        SigningAlgorithm: 'SHA256WITHECDSA',
        Validity: { Type: 'DAYS', Value: 1 },
      }),
    );
    const input = { CertificateAuthorityArn: cloud.pca.caArn, CertificateArn: issued.CertificateArn };
    await pca.send(new GetCertificateCommand(input)).catch(() => undefined);
    const got = await pca.send(new GetCertificateCommand(input));
    const cert = new x509.X509Certificate(got.Certificate ?? '');
    const aia = cert.getExtension(x509.AuthorityInfoAccessExtension);
    const url = String(aia?.ocsp[0]?.value);
    expect(url).toBe(`${cloud.endpoint}/ocsp`);
    const dir = mkdtempSync(join(tmpdir(), 'ocsp-'));
    try {
      writeFileSync(join(dir, 'leaf.pem'), got.Certificate ?? '');
      writeFileSync(join(dir, 'issuer.pem'), cloud.pca.issuing.certificatePem);
      // Asynchronous: the responder runs in this process, a synchronous child would deadlock it.
      const ask = async () =>
        (
          await promisify(execFile)('openssl', [
            'ocsp',
            '-issuer',
            join(dir, 'issuer.pem'),
            '-cert',
            join(dir, 'leaf.pem'),
            '-url',
            url,
            '-VAfile',
            join(dir, 'issuer.pem'),
          ])
        ).stdout;
      expect(await ask()).toMatch(/leaf\.pem: good/);
      await pca.send(
        new RevokeCertificateCommand({
          CertificateAuthorityArn: cloud.pca.caArn,
          CertificateSerial: cert.serialNumber.replace(/(..)(?!$)/g, '$1:'),
          RevocationReason: 'KEY_COMPROMISE',
        }),
      );
      expect(await ask()).toMatch(/leaf\.pem: revoked/);
      await expect(
        pca.send(
          new RevokeCertificateCommand({
            CertificateAuthorityArn: cloud.pca.caArn,
            CertificateSerial: cert.serialNumber,
            RevocationReason: 'KEY_COMPROMISE',
          }),
        ),
      ).rejects.toMatchObject({ name: 'RequestAlreadyProcessedException' });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('IoT control plane', () => {
  it('CreateThing is idempotent with the same attributes and ResourceAlreadyExists with others', async () => {
    const attributes = { vin: 'WVWZZZ1JZXW000001', ecuId: 'ecu-1', role: 'gateway' };
    const a = await iot.send(new CreateThingCommand({ thingName: 'T_1', attributePayload: { attributes } }));
    const b = await iot.send(new CreateThingCommand({ thingName: 'T_1', attributePayload: { attributes } }));
    expect(b.thingArn).toBe(a.thingArn);
    const error = await iot
      .send(
        new CreateThingCommand({
          thingName: 'T_1',
          attributePayload: { attributes: { ...attributes, role: 'adas' } },
        }),
      )
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ResourceAlreadyExistsException);
    expect((error as ResourceAlreadyExistsException).$metadata.httpStatusCode).toBe(409);
    expect(cloud.iot.things.get('T_1')?.attributes.role).toBe('gateway');
  });

  it('keeps at most five policy versions; the default cannot be deleted', async () => {
    const doc = (n: number) =>
      JSON.stringify({
        Version: '2012-10-17',
        Statement: [
          {
            Effect: 'Allow',
            Action: 'iot:Connect',
            Resource: `arn:aws:iot:eu-west-1:123456789012:client/c${n}`,
          },
        ],
      });
    await iot.send(new CreatePolicyCommand({ policyName: 'p1', policyDocument: doc(1) }));
    await expect(
      iot.send(new CreatePolicyCommand({ policyName: 'p1', policyDocument: doc(1) })),
    ).rejects.toBeInstanceOf(ResourceAlreadyExistsException);
    for (let n = 2; n <= 5; n++) {
      await iot.send(
        new CreatePolicyVersionCommand({ policyName: 'p1', policyDocument: doc(n), setAsDefault: n === 5 }),
      );
    }
    await expect(
      iot.send(
        new CreatePolicyVersionCommand({ policyName: 'p1', policyDocument: doc(6), setAsDefault: true }),
      ),
    ).rejects.toBeInstanceOf(VersionsLimitExceededException);
    const versions = await iot.send(new ListPolicyVersionsCommand({ policyName: 'p1' }));
    expect(versions.policyVersions?.length).toBe(5);
    expect(versions.policyVersions?.find((v) => v.isDefaultVersion)?.versionId).toBe('5');
    await expect(
      iot.send(new DeletePolicyVersionCommand({ policyName: 'p1', policyVersionId: '5' })),
    ).rejects.toMatchObject({
      name: 'DeleteConflictException',
    });
    await iot.send(new DeletePolicyVersionCommand({ policyName: 'p1', policyVersionId: '1' }));
    await iot.send(
      new CreatePolicyVersionCommand({ policyName: 'p1', policyDocument: doc(6), setAsDefault: true }),
    );
    const policy = await iot.send(new GetPolicyCommand({ policyName: 'p1' }));
    expect(policy.defaultVersionId).toBe('6');
    expect(policy.policyDocument).toBe(doc(6));
    await expect(iot.send(new GetPolicyCommand({ policyName: 'missing' }))).rejects.toBeInstanceOf(
      ResourceNotFoundException,
    );
  });

  it('certificates: register under the operational CA, state changes, EXCLUSIVE_THING, policy attachments', async () => {
    const caId = cloud.operationalCaCertificateId;
    const ca = await iot.send(new DescribeCACertificateCommand({ certificateId: caId }));
    expect(ca.certificateDescription?.autoRegistrationStatus).toBe('ENABLE');
    const { pem } = await csrPem('VIN_ecu-9');
    const issued = await pca.send(
      new IssueCertificateCommand({
        CertificateAuthorityArn: cloud.pca.caArn,
        Csr: Buffer.from(pem),
        SigningAlgorithm: 'SHA256WITHECDSA',
        Validity: { Type: 'DAYS', Value: 1 },
      }),
    );
    const input = { CertificateAuthorityArn: cloud.pca.caArn, CertificateArn: issued.CertificateArn };
    await pca.send(new GetCertificateCommand(input)).catch(() => undefined);
    const got = await pca.send(new GetCertificateCommand(input));
    const reg = await iot.send(
      new RegisterCertificateCommand({ certificatePem: got.Certificate, status: 'PENDING_ACTIVATION' }),
    );
    const desc = await iot.send(new DescribeCertificateCommand({ certificateId: reg.certificateId }));
    expect(desc.certificateDescription?.status).toBe('PENDING_ACTIVATION');
    expect(desc.certificateDescription?.caCertificateId).toBe(caId);
    expect(desc.certificateDescription?.creationDate).toBeInstanceOf(Date);
    await iot.send(new CreateThingCommand({ thingName: 'T_9' }));
    await iot.send(new CreateThingCommand({ thingName: 'T_10' }));
    await iot.send(
      new AttachThingPrincipalCommand({
        thingName: 'T_9',
        principal: reg.certificateArn,
        thingPrincipalType: 'EXCLUSIVE_THING',
      }),
    );
    await iot.send(
      new AttachThingPrincipalCommand({
        thingName: 'T_9',
        principal: reg.certificateArn,
        thingPrincipalType: 'EXCLUSIVE_THING',
      }),
    );
    await expect(
      iot.send(new AttachThingPrincipalCommand({ thingName: 'T_10', principal: reg.certificateArn })),
    ).rejects.toBeInstanceOf(InvalidRequestException);
    await iot.send(
      new CreatePolicyCommand({
        policyName: 'role-gateway',
        policyDocument: '{"Version":"2012-10-17","Statement":[]}',
      }),
    );
    await iot.send(new AttachPolicyCommand({ policyName: 'role-gateway', target: reg.certificateArn }));
    const attached = await iot.send(new ListAttachedPoliciesCommand({ target: reg.certificateArn }));
    expect(attached.policies?.map((p) => p.policyName)).toEqual(['role-gateway']);
    const effective = await iot.send(new GetEffectivePoliciesCommand({ principal: reg.certificateArn }));
    expect(effective.effectivePolicies?.map((p) => p.policyName)).toEqual(['role-gateway']);
    await expect(
      iot.send(new ListThingPrincipalsCommand({ thingName: 'T_no_such_thing' })),
    ).rejects.toBeInstanceOf(ResourceNotFoundException);
    await iot.send(new UpdateCertificateCommand({ certificateId: reg.certificateId, newStatus: 'REVOKED' }));
    await expect(
      iot.send(new UpdateCertificateCommand({ certificateId: reg.certificateId, newStatus: 'ACTIVE' })),
    ).rejects.toMatchObject({ name: 'CertificateStateException' });
    await expect(
      iot.send(new DescribeCertificateCommand({ certificateId: 'f'.repeat(64) })),
    ).rejects.toBeInstanceOf(ResourceNotFoundException);
  });

  it('IoT data plane Publish reaches the gateway hook with its MQTT 5 properties', async () => {
    const data = new IoTDataPlaneClient(cloud.clientConfig());
    const seen: string[] = [];
    cloud.iot.once('publish', (topic, payload) => seen.push(`${topic} ${payload.toString()}`));
    await data.send(
      new IotPublishCommand({
        topic: 'ecus/T_1/commands',
        qos: 1,
        payload: Buffer.from('{"v":1}'),
        messageExpiry: 120,
        correlationData: Buffer.from('cmd-1').toString('base64'),
        responseTopic: 'ecus/T_1/command-results',
      }),
    );
    expect(seen).toEqual(['ecus/T_1/commands {"v":1}']);
    const last = cloud.published.at(-1);
    expect(last?.props).toMatchObject({
      qos: 1,
      messageExpiry: 120,
      responseTopic: 'ecus/T_1/command-results',
    });
    expect(last?.props.correlationData?.toString()).toBe('cmd-1');
  });

  it('throttles on demand with ThrottlingException (429), which the SDK retries', async () => {
    cloud.throttle('iot', 1);
    await expect(iot.send(new GetPolicyCommand({ policyName: 'p1' }))).rejects.toMatchObject({
      name: 'ThrottlingException',
      $metadata: { httpStatusCode: 429 },
    });
    cloud.throttle('iot', 1);
    const retrying = new IoTClient({ ...cloud.clientConfig(), maxAttempts: 3 });
    const out = await retrying.send(new GetPolicyCommand({ policyName: 'p1' }));
    expect(out.policyName).toBe('p1');
    expect(out.$metadata.attempts).toBe(2);
  });
});

describe('Security Hub, SNS, SSM, DynamoDB', () => {
  it('Security Hub: import, get by filter, batch update workflow and note', async () => {
    const hub = new SecurityHubClient(cloud.clientConfig());
    const finding = {
      SchemaVersion: '2018-10-08',
      Id: 'finding-1',
      ProductArn: 'arn:aws:securityhub:eu-west-1::product/aws/iot-device-defender-detect',
      GeneratorId: 'detect',
      AwsAccountId: '123456789012',
      Types: ['Unusual Behaviors'],
      CreatedAt: new Date().toISOString(),
      UpdatedAt: new Date().toISOString(),
      Severity: { Label: 'HIGH' as const },
      Title: 'Authorization failures',
      Description: 'd',
      Resources: [{ Type: 'AwsIotThing', Id: 'T_1' }],
    };
    const imported = await hub.send(new BatchImportFindingsCommand({ Findings: [finding] }));
    expect(imported).toMatchObject({ SuccessCount: 1, FailedCount: 0 });
    const found = await hub.send(
      new GetFindingsCommand({ Filters: { Id: [{ Value: 'finding-1', Comparison: 'EQUALS' }] } }),
    );
    expect(found.Findings?.[0]?.Workflow?.Status).toBe('NEW');
    const updated = await hub.send(
      new BatchUpdateFindingsCommand({
        FindingIdentifiers: [
          { Id: 'finding-1', ProductArn: finding.ProductArn },
          { Id: 'missing', ProductArn: finding.ProductArn },
        ],
        Workflow: { Status: 'RESOLVED' },
        Note: { Text: 'quarantined', UpdatedBy: 'test' },
      }),
    );
    expect(updated.ProcessedFindings?.length).toBe(1);
    expect(updated.UnprocessedFindings?.[0]?.ErrorCode).toBe('FindingNotFound');
    const after = await hub.send(
      new GetFindingsCommand({ Filters: { WorkflowStatus: [{ Value: 'RESOLVED', Comparison: 'EQUALS' }] } }),
    );
    expect(after.Findings?.[0]?.Note?.Text).toBe('quarantined');
  });

  it('SNS Publish (awsQuery) returns a MessageId; an unknown topic is NotFound', async () => {
    const sns = new SNSClient(cloud.clientConfig());
    const out = await sns.send(new PublishCommand({ TopicArn: TOPIC, Subject: 's', Message: 'hello' }));
    expect(out.MessageId).toMatch(/^[0-9a-f-]{36}$/);
    expect(cloud.sns.messages.at(-1)).toMatchObject({ topicArn: TOPIC, message: 'hello', subject: 's' });
    await expect(
      sns.send(new PublishCommand({ TopicArn: `${TOPIC}-x`, Message: 'x' })),
    ).rejects.toBeInstanceOf(SnsNotFound);
  });

  it('SSM: GetParameter, ParameterNotFound, OpsItems with dedup and OperationalData filters', async () => {
    const ssm = new SSMClient(cloud.clientConfig());
    const p = await ssm.send(
      new GetParameterCommand({ Name: '/cv-security/local/attestation-trust-bundle', WithDecryption: true }),
    );
    expect(p.Parameter?.Value).toBe('PEM');
    await expect(ssm.send(new GetParameterCommand({ Name: '/missing' }))).rejects.toBeInstanceOf(
      ParameterNotFound,
    );
    const item = {
      Title: 't',
      Description: 'd',
      Source: 'cv-security',
      OperationalData: {
        '/cv/findingId': { Value: 'finding-1', Type: 'SearchableString' as const },
        '/aws/dedup': {
          Value: JSON.stringify({ dedupString: 'finding-1' }),
          Type: 'SearchableString' as const,
        },
      },
    };
    const created = await ssm.send(new CreateOpsItemCommand(item));
    const again = await ssm.send(new CreateOpsItemCommand(item)).catch((e: unknown) => e);
    expect(again).toBeInstanceOf(OpsItemAlreadyExistsException);
    expect((again as OpsItemAlreadyExistsException).OpsItemId).toBe(created.OpsItemId);
    const found = await ssm.send(
      new DescribeOpsItemsCommand({
        OpsItemFilters: [
          {
            Key: 'OperationalData',
            Operator: 'Equal',
            Values: [JSON.stringify({ key: '/cv/findingId', value: 'finding-1' })],
          },
        ],
      }),
    );
    expect(found.OpsItemSummaries?.map((s) => s.OpsItemId)).toEqual([created.OpsItemId]);
  });

  it('DynamoDB through dynalite, and TransactWriteItems all-or-nothing', async () => {
    const client = new DynamoDBClient(cloud.clientConfig());
    const names = { ecuRegistry: 'reg', vehicleAccess: 'acc', commands: 'cmd', telemetry: 'tel' };
    await createTables(client, names);
    const table = await client.send(new DescribeTableCommand({ TableName: 'reg' }));
    expect(table.Table?.GlobalSecondaryIndexes?.[0]?.IndexName).toBe('byVin');
    const doc = DynamoDBDocumentClient.from(client);
    await doc.send(new PutCommand({ TableName: 'cmd', Item: { commandId: 'idem', status: 'IN_PROGRESS' } }));
    const failing = doc.send(
      new TransactWriteCommand({
        TransactItems: [
          { Put: { TableName: 'cmd', Item: { commandId: 'c1', status: 'PENDING' } } },
          {
            Update: {
              TableName: 'cmd',
              Key: { commandId: 'idem' },
              UpdateExpression: 'SET #s = :done',
              ConditionExpression: '#s = :wrong',
              ExpressionAttributeNames: { '#s': 'status' },
              ExpressionAttributeValues: { ':done': 'COMPLETED', ':wrong': 'NOPE' },
            },
          },
        ],
      }),
    );
    await expect(failing).rejects.toMatchObject({ name: 'TransactionCanceledException' });
    expect(
      (await doc.send(new GetCommand({ TableName: 'cmd', Key: { commandId: 'c1' } }))).Item,
    ).toBeUndefined();
    expect(
      (await doc.send(new GetCommand({ TableName: 'cmd', Key: { commandId: 'idem' } }))).Item?.status,
    ).toBe('IN_PROGRESS');
  });
});

describe('routing', () => {
  it('an unsigned request is refused like the real endpoint', async () => {
    const res = await fetch(`${cloud.endpoint}/things/T_1`);
    expect(res.status).toBe(403);
  });

  it('a key pair made elsewhere cannot impersonate a KMS key (sanity of the test peer)', () => {
    const { publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    expect(publicKey.asymmetricKeyDetails?.namedCurve).toBe('prime256v1');
  });
});

/**
 * aws-sdk-client-mock fakes that behave like the real services where the broker depends on it:
 * a private CA that signs with a real operational CA (and answers RequestInProgressException
 * first, honours idempotency tokens), and a registry table with conditional updates.
 */
import 'reflect-metadata';
import {
  ACMPCAClient,
  GetCertificateCommand,
  IssueCertificateCommand,
  type IssueCertificateCommandInput,
  RequestInProgressException,
} from '@aws-sdk/client-acm-pca';
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { SSMClient } from '@aws-sdk/client-ssm';
import { DynamoDBDocumentClient, GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import * as x509 from '@peculiar/x509';
import { mockAws } from './mock.js';
import type { Issued } from './pki.js';

/** Real time even under fake timers: the fake CA signs like a real one would, on the wall clock. */
const realNow = Date.now.bind(Date);

export const CA_ARN =
  'arn:aws:acm-pca:eu-west-1:123456789012:certificate-authority/0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0';
export const TEMPLATE_ARN = 'arn:aws:acm-pca:::template/EndEntityClientAuthCertificate_APIPassthrough/V1';
export const REGISTRY_TABLE = 'cv-security-dev-ecu-registry';

export interface FakePcaOptions {
  /** Answer RequestInProgressException to the first GetCertificate of each certificate. */
  readonly inProgressFirst?: boolean;
}

/** A fake AWS Private CA backed by a real issuing CA. */
export function fakePca(issuing: Issued, chainPem: string, options: FakePcaOptions = {}) {
  const mock = mockAws(ACMPCAClient);
  const requests: IssueCertificateCommandInput[] = [];
  const byToken = new Map<string, string>();
  const certificates = new Map<string, Promise<string>>();
  const polled = new Set<string>();
  let serial = 0x10000;

  mock.on(IssueCertificateCommand as never).callsFake(async (input: IssueCertificateCommandInput) => {
    requests.push(input);
    const known = input.IdempotencyToken ? byToken.get(input.IdempotencyToken) : undefined;
    if (known) return { CertificateArn: known };
    serial += 1;
    const arn = `${input.CertificateAuthorityArn}/certificate/${serial.toString(16).padStart(32, '0')}`;
    if (input.IdempotencyToken) byToken.set(input.IdempotencyToken, arn);
    certificates.set(arn, sign(issuing, input, serial.toString(16)));
    return { CertificateArn: arn };
  });
  mock.on(GetCertificateCommand as never).callsFake(async (input: { CertificateArn?: string }) => {
    const arn = input.CertificateArn ?? '';
    const pem = certificates.get(arn);
    if (!pem) throw new Error(`unknown certificate ${arn}`);
    if (options.inProgressFirst && !polled.has(arn)) {
      polled.add(arn);
      throw new RequestInProgressException({ message: 'The request is in progress', $metadata: {} });
    }
    return { Certificate: await pem, CertificateChain: chainPem };
  });
  return { mock, requests };
}

async function sign(
  issuing: Issued,
  input: IssueCertificateCommandInput,
  serialHex: string,
): Promise<string> {
  const csr = new x509.Pkcs10CertificateRequest(Buffer.from(input.Csr ?? new Uint8Array()).toString('utf8'));
  const cn = input.ApiPassthrough?.Subject?.CommonName ?? 'missing';
  const uris = (input.ApiPassthrough?.Extensions?.SubjectAlternativeNames ?? [])
    .map((n) => n.UniformResourceIdentifier)
    .filter((u): u is string => typeof u === 'string');
  const days = input.Validity?.Value ?? 1;
  const notBefore = new Date(realNow() - 3_600_000);
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: `7a${serialHex}`,
    subject: `CN=${cn}`,
    issuer: issuing.cert.subject,
    notBefore,
    notAfter: new Date(notBefore.getTime() + days * 86_400_000),
    publicKey: await csr.publicKey.export(),
    signingKey: issuing.keys.privateKey,
    signingAlgorithm: { name: 'ECDSA', hash: 'SHA-256' },
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.clientAuth]),
      await x509.AuthorityKeyIdentifierExtension.create(issuing.cert),
      new x509.SubjectAlternativeNameExtension(uris.map((value) => ({ type: 'url' as const, value }))),
    ],
  });
  return `${cert.toString('pem').trimEnd()}\n`;
}

export interface RegistryRow {
  ecuId: string;
  vin: string;
  role: string;
  status: string;
  [key: string]: unknown;
}

/** A fake ECU registry table behind the DynamoDB document client. */
export function fakeRegistry(rows: readonly RegistryRow[]) {
  const mock = mockAws(DynamoDBDocumentClient);
  const table = new Map<string, RegistryRow>(rows.map((r) => [r.ecuId, { ...r }]));
  /** Every UpdateItem the broker attempted, successful or not. */
  const updates: unknown[] = [];
  mock.on(GetCommand as never).callsFake(async (input: { Key?: { ecuId?: string } }) => {
    const row = table.get(input.Key?.ecuId ?? '');
    return { Item: row ? { ...row } : undefined };
  });
  mock
    .on(UpdateCommand as never)
    .callsFake(
      async (input: { Key?: { ecuId?: string }; ExpressionAttributeValues?: Record<string, unknown> }) => {
        updates.push(input);
        const row = table.get(input.Key?.ecuId ?? '');
        const values = input.ExpressionAttributeValues ?? {};
        if (!row || row.status !== values[':active'] || row.vin !== values[':vin']) {
          throw new ConditionalCheckFailedException({
            message: 'The conditional request failed',
            $metadata: {},
          });
        }
        row.thingName = values[':thingName'];
        row.certificateSerial = values[':serial'];
        row.certificateNotAfter = values[':notAfter'];
        row.updatedAt = values[':updatedAt'];
        return {};
      },
    );
  return { mock, table, updates };
}

export function fakeSsm() {
  return mockAws(SSMClient);
}

/**
 * aws-sdk-client-mock fakes that behave like the real services where the broker depends on it:
 * a private CA that signs with a real operational CA (and answers RequestInProgressException
 * first, honours idempotency tokens for five minutes, as PCA documents), and the registry and
 * replay-ledger tables with DynamoDB's conditional writes (see ./dynamo.ts).
 */
import 'reflect-metadata';
import {
  ACMPCAClient,
  GetCertificateCommand,
  IssueCertificateCommand,
  type IssueCertificateCommandInput,
  RequestInProgressException,
} from '@aws-sdk/client-acm-pca';
import { SSMClient } from '@aws-sdk/client-ssm';
import { DynamoDBDocumentClient, GetCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import * as x509 from '@peculiar/x509';
import { applyPut, applyUpdate, type Item } from './dynamo.js';
import { mockAws } from './mock.js';
import type { Issued } from './pki.js';

/** Real time even under fake timers: the fake CA signs like a real one would, on the wall clock. */
const realNow = Date.now.bind(Date);

export const CA_ARN =
  'arn:aws:acm-pca:eu-west-1:123456789012:certificate-authority/0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0';
export const TEMPLATE_ARN = 'arn:aws:acm-pca:::template/EndEntityClientAuthCertificate_APIPassthrough/V1';
export const REGISTRY_TABLE = 'cv-security-dev-ecu-registry';

export const ISSUED_TABLE = 'cv-security-dev-issued-certificates';
export const LEDGER_TABLE = 'cv-security-dev-enrolment-proofs';

export interface FakePcaOptions {
  /** Answer RequestInProgressException to the first GetCertificate of each certificate. */
  readonly inProgressFirst?: boolean;
  /** How long an idempotency token is remembered (PCA: five minutes), on `Date.now()` (fakeable). */
  readonly tokenMemoryMs?: number;
}

/** A fake AWS Private CA backed by a real issuing CA. */
export function fakePca(issuing: Issued, chainPem: string, options: FakePcaOptions = {}) {
  const mock = mockAws(ACMPCAClient);
  const requests: IssueCertificateCommandInput[] = [];
  const byToken = new Map<string, { arn: string; at: number }>();
  const certificates = new Map<string, Promise<string>>();
  const polled = new Set<string>();
  const memoryMs = options.tokenMemoryMs ?? 5 * 60_000;
  /** Errors the next IssueCertificate / GetCertificate calls fail with, in order. */
  const failIssue: Error[] = [];
  const failGet: Error[] = [];
  let serial = 0x10000;

  mock.on(IssueCertificateCommand as never).callsFake(async (input: IssueCertificateCommandInput) => {
    requests.push(input);
    const failure = failIssue.shift();
    if (failure) throw failure;
    const known = input.IdempotencyToken ? byToken.get(input.IdempotencyToken) : undefined;
    if (known && Date.now() - known.at < memoryMs) return { CertificateArn: known.arn };
    serial += 1;
    const arn = `${input.CertificateAuthorityArn}/certificate/${serial.toString(16).padStart(32, '0')}`;
    if (input.IdempotencyToken) byToken.set(input.IdempotencyToken, { arn, at: Date.now() });
    certificates.set(arn, sign(issuing, input, serial.toString(16)));
    return { CertificateArn: arn };
  });
  mock.on(GetCertificateCommand as never).callsFake(async (input: { CertificateArn?: string }) => {
    const failure = failGet.shift();
    if (failure) throw failure;
    const arn = input.CertificateArn ?? '';
    const pem = certificates.get(arn);
    if (!pem) throw new Error(`unknown certificate ${arn}`);
    if (options.inProgressFirst && !polled.has(arn)) {
      polled.add(arn);
      throw new RequestInProgressException({ message: 'The request is in progress', $metadata: {} });
    }
    return { Certificate: await pem, CertificateChain: chainPem };
  });
  return {
    mock,
    requests,
    failIssue,
    failGet,
    /** How many distinct certificates the CA has signed. */
    issuedCount: () => certificates.size,
  };
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

/**
 * The ECU registry (pk `ecuId`) and the replay ledger (pk `proofId`) behind the DynamoDB document
 * client, told apart by their key attribute so any table name works. Conditions and updates are
 * evaluated like DynamoDB does for the expressions the broker writes (./dynamo.ts).
 */
export function fakeRegistry(rows: readonly RegistryRow[]) {
  const mock = mockAws(DynamoDBDocumentClient);
  const table = new Map<string, Item>(rows.map((r) => [r.ecuId, { ...r }]));
  const ledger = new Map<string, Item>();
  /** Every registry UpdateItem the broker attempted, successful or not. */
  const updates: unknown[] = [];
  /** Every ledger write (Put or Update) the broker attempted, successful or not. */
  const ledgerWrites: unknown[] = [];
  /** Errors the next registry UpdateItem calls fail with, in order (before any change). */
  const failUpdates: Error[] = [];
  /** The issued-certificates table (pk certificateId) and every put the broker attempted there. */
  const issued = new Map<string, Item>();
  const issuedWrites: unknown[] = [];
  /** Errors the next issued-certificate puts fail with, in order (before any change). */
  const failIssuedPuts: Error[] = [];
  type Input = {
    TableName?: string;
    Key?: Record<string, unknown>;
    Item?: Record<string, unknown>;
    UpdateExpression?: string;
    ConditionExpression?: string;
    ExpressionAttributeNames?: Record<string, string>;
    ExpressionAttributeValues?: Record<string, unknown>;
  };
  const target = (input: Input): [Map<string, Item>, string] => {
    const key = input.Key ?? input.Item ?? {};
    if (typeof key.proofId === 'string') return [ledger, key.proofId];
    if (input.TableName === ISSUED_TABLE) return [issued, String(key.certificateId ?? '')];
    return [table, String(key.ecuId ?? '')];
  };
  mock.on(GetCommand as never).callsFake(async (input: Input) => {
    const [map, id] = target(input);
    const row = map.get(id);
    return { Item: row ? structuredClone(row) : undefined };
  });
  mock.on(PutCommand as never).callsFake(async (input: Input) => {
    const [map, id] = target(input);
    if (map === ledger) ledgerWrites.push(input);
    if (map === issued) {
      issuedWrites.push(input);
      const failure = failIssuedPuts.shift();
      if (failure) throw failure;
    }
    applyPut(map, id, input);
    return {};
  });
  mock.on(UpdateCommand as never).callsFake(async (input: Input) => {
    const [map, id] = target(input);
    (map === ledger ? ledgerWrites : updates).push(input);
    const failure = map === table ? failUpdates.shift() : undefined;
    if (failure) throw failure;
    applyUpdate(map, id, input);
    return {};
  });
  return { mock, table, updates, ledger, ledgerWrites, failUpdates, issued, issuedWrites, failIssuedPuts };
}

export function fakeSsm() {
  return mockAws(SSMClient);
}

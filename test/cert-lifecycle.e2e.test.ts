/**
 * End to end, AWS faked, crypto real: an attested ECU enrols with cert-broker, connects
 * with the certificate (AWS IoT registers it PENDING_ACTIVATION and emits the JITR event),
 * jitr-handler checks it by OCSP against `openssl ocsp` and activates it. Then the ECU
 * re-enrols: the new certificate is activated and the first one is retired (INACTIVE,
 * detached from the thing and the role policy); revoked at the CA, it is never activated again.
 */
import { createHash, X509Certificate } from 'node:crypto';
import {
  ACMPCAClient,
  GetCertificateCommand,
  IssueCertificateCommand,
  type IssueCertificateCommandInput,
} from '@aws-sdk/client-acm-pca';
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { Context } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { applyPut, applyUpdate, type Item } from '../functions/cert-broker/tests/helpers/dynamo.js';
import { mockAws } from '../functions/cert-broker/tests/helpers/mock.js';
import { opensslVerify } from '../functions/cert-broker/tests/helpers/pki.js';
import {
  buildWorld,
  ECU_ID,
  freshCsr,
  httpEvent,
  issuerKeySha256,
  lambdaContext,
  THING_NAME,
  toResponse,
  VIN,
  type World,
} from '../functions/cert-broker/tests/helpers/world.js';
import {
  ACCOUNT,
  certificateArn,
  type FakeCertificate,
  fakeIot,
  type Journal,
  OPERATIONAL_CA_ID,
  REGION,
  seedStackPolicies,
} from '../functions/jitr-handler/tests/helpers/fake-aws.js';
import {
  OperationalPki,
  type Responder,
  startOpensslResponder,
} from '../functions/jitr-handler/tests/helpers/pki.js';

const CA_ARN = `arn:aws:acm-pca:${REGION}:${ACCOUNT}:certificate-authority/0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0`;

let world: World;
let pki: OperationalPki;
let responder: Responder;
let broker: typeof import('@cv/cert-broker').handler;
let jitr: typeof import('@cv/jitr-handler').handler;
const registry = new Map<string, Record<string, unknown>>();
const certificates = new Map<string, FakeCertificate>();
const journal: Journal = { entries: [] };
let iot: ReturnType<typeof fakeIot>;
const issueRequests: IssueCertificateCommandInput[] = [];

/** cert-broker's replay ledger (rows keyed by `proofId`), with DynamoDB's conditional writes. */
const ledger = new Map<string, Item>();

/** cert-broker's issued-certificate records (ISSUED_CERTIFICATES_TABLE), read by jitr-handler. */
const ISSUED_TABLE = 'cv-security-dev-issued-certificates';
const issuedRecords = new Map<string, Item>();

/** One registry table for both functions: conditional SET updates as DynamoDB applies them. */
function fakeRegistryTable() {
  const mock = mockAws(DynamoDBDocumentClient);
  mock
    .on(GetCommand as never)
    .callsFake(async (input: { TableName: string; Key: { ecuId: string; proofId?: string } }) => {
      if (input.TableName === ISSUED_TABLE) {
        const record = issuedRecords.get(String((input.Key as { certificateId?: string }).certificateId));
        return { Item: record ? structuredClone(record) : undefined };
      }
      if (input.Key.proofId !== undefined) return { Item: structuredClone(ledger.get(input.Key.proofId)) };
      const row = registry.get(input.Key.ecuId);
      return { Item: row ? { ...row } : undefined };
    });
  mock.on(PutCommand as never).callsFake(async (input: { TableName: string; Item: { proofId: string } }) => {
    if (input.TableName === ISSUED_TABLE) {
      issuedRecords.set(
        String((input.Item as { certificateId?: string }).certificateId),
        structuredClone(input.Item),
      );
      return {};
    }
    applyPut(ledger, input.Item.proofId, input);
    return {};
  });
  mock
    .on(UpdateCommand as never)
    .callsFake(
      async (input: {
        Key: { ecuId: string; proofId?: string };
        UpdateExpression: string;
        ExpressionAttributeValues: Record<string, unknown>;
      }) => {
        if (input.Key.proofId !== undefined) {
          applyUpdate(ledger, input.Key.proofId, input);
          return {};
        }
        const row = registry.get(input.Key.ecuId);
        const values = input.ExpressionAttributeValues;
        const rebound = ':issuer' in values && row?.attestationIssuerKeySha256 !== values[':issuer'];
        if (!row || row.status !== values[':active'] || row.vin !== values[':vin'] || rebound) {
          throw new ConditionalCheckFailedException({
            message: 'The conditional request failed',
            $metadata: {},
          });
        }
        for (const assignment of input.UpdateExpression.replace(/^SET /, '').split(',')) {
          const [name, placeholder] = assignment.split('=').map((part) => part.trim());
          if (name && placeholder) row[name] = values[placeholder];
        }
        return {};
      },
    );
}

/** AWS Private CA behind the openssl operational CA (APIPassthrough subject and SAN). */
function fakePca() {
  const mock = mockAws(ACMPCAClient);
  const issued = new Map<string, string>();
  const byToken = new Map<string, string>();
  mock.on(IssueCertificateCommand as never).callsFake(async (input: IssueCertificateCommandInput) => {
    issueRequests.push(input);
    const token = input.IdempotencyToken ?? '';
    const known = byToken.get(token);
    if (known) return { CertificateArn: known };
    const cert = pki.signCsr(Buffer.from(input.Csr ?? new Uint8Array()).toString('utf8'), {
      cn: input.ApiPassthrough?.Subject?.CommonName ?? '',
      sanUri: input.ApiPassthrough?.Extensions?.SubjectAlternativeNames?.[0]?.UniformResourceIdentifier ?? '',
      ocspUrl: responder.url,
      days: input.Validity?.Value ?? 1,
    });
    const arn = `${CA_ARN}/certificate/${cert.serial.toLowerCase()}`;
    issued.set(arn, cert.pem);
    byToken.set(token, arn);
    return { CertificateArn: arn };
  });
  mock.on(GetCertificateCommand as never).callsFake(async (input: { CertificateArn: string }) => ({
    Certificate: issued.get(input.CertificateArn),
    CertificateChain: pki.caPem,
  }));
}

/** What AWS IoT does when a device connects with an unknown certificate of a registered CA. */
function connect(certificatePem: string) {
  const certificateId = createHash('sha256').update(new X509Certificate(certificatePem).raw).digest('hex');
  if (!certificates.has(certificateId)) {
    certificates.set(certificateId, {
      pem: certificatePem,
      status: 'PENDING_ACTIVATION',
      caCertificateId: OPERATIONAL_CA_ID,
    });
  }
  const event = {
    certificateId,
    caCertificateId: OPERATIONAL_CA_ID,
    timestamp: Date.now(),
    certificateStatus: 'PENDING_ACTIVATION',
    awsAccountId: ACCOUNT,
    certificateRegistrationTimestamp: String(Date.now()),
  };
  return { certificateId, event };
}

const jitrContext = { ...lambdaContext, functionName: 'cv-security-dev-jitrHandler' } as Context;

async function enrol(): Promise<{ certificatePem: string; serialNumber: string }> {
  const csr = await freshCsr('CN=whatever-the-ecu-asks');
  const res = toResponse(
    await broker(httpEvent(JSON.stringify({ csr: csr.pem }), world.attestation.pem), lambdaContext),
  );
  expect(res.status).toBe(201);
  return { certificatePem: String(res.body.certificatePem), serialNumber: String(res.body.serialNumber) };
}

beforeAll(async () => {
  world = await buildWorld();
  pki = new OperationalPki();
  responder = await startOpensslResponder(pki);
  Object.assign(process.env, {
    AWS_REGION: REGION,
    AWS_ACCOUNT_ID: ACCOUNT,
    LOG_LEVEL: 'SILENT',
    ECU_REGISTRY_TABLE: 'cv-security-dev-ecu-registry',
    REPLAY_LEDGER_TABLE: 'cv-security-dev-enrolment-proofs',
    ISSUED_CERTIFICATES_TABLE: ISSUED_TABLE,
    PCA_CA_ARN: CA_ARN,
    PCA_TEMPLATE_ARN: 'arn:aws:acm-pca:::template/EndEntityClientAuthCertificate_APIPassthrough/V1',
    ATTESTATION_TRUST_BUNDLE: world.trustBundlePem,
    OPERATIONAL_CA_CERTIFICATE_ID: OPERATIONAL_CA_ID,
    OCSP_ALLOWED_HOSTS: '127.0.0.1',
    IOT_POLICY_PREFIX: 'cv-security-dev',
  });
  registry.set(ECU_ID, {
    ecuId: ECU_ID,
    vin: VIN,
    role: 'telematics',
    status: 'ACTIVE',
    attestationIssuerKeySha256: issuerKeySha256(world.mfrInt1),
  });
  fakeRegistryTable();
  fakePca();
  iot = fakeIot({ certificates, caCertificates: new Map([[OPERATIONAL_CA_ID, pki.caPem]]), journal });
  seedStackPolicies(iot.policies, 'cv-security-dev'); // serverless/resources/ecu-policies.yml
  broker = (await import('@cv/cert-broker')).handler;
  jitr = (await import('@cv/jitr-handler')).handler;
});

afterAll(async () => {
  await responder.close();
  pki.cleanup();
});

describe('enrolment then just-in-time registration', () => {
  let first: { certificatePem: string; serialNumber: string; certificateId: string };

  it('an attested ECU gets a certificate the operational CA signed, and its first connection activates it', async () => {
    const { certificatePem, serialNumber } = await enrol();
    expect(opensslVerify(certificatePem, pki.caPem)).toMatch(/OK/);
    const { certificateId, event } = connect(certificatePem);
    journal.entries.length = 0;

    const outcome = await jitr(event, jitrContext);

    expect(outcome).toEqual({
      outcome: 'activated',
      thingName: THING_NAME,
      policyName: 'cv-security-dev-ecu-telematics',
      retiredCertificateIds: [],
    });
    expect(certificates.get(certificateId)?.status).toBe('ACTIVE');
    // The broker recorded the certificate under the id IoT gave it: no DescribeCertificate (issue 16);
    // DescribeCACertificate: this container's first event, no CA PEM configured.
    expect(issuedRecords.get(certificateId)).toMatchObject({
      ecuId: ECU_ID,
      thingName: THING_NAME,
      certificatePem,
    });
    expect(journal.entries.filter((e) => e.service === 'iot').map((e) => e.command)).toEqual([
      'DescribeCACertificate',
      'CreateThing',
      'AttachThingPrincipal',
      'AttachPolicy',
      'UpdateCertificate',
    ]);
    expect(iot.things.get(THING_NAME)).toEqual({ vin: VIN, ecuId: ECU_ID, role: 'telematics' });
    expect(registry.get(ECU_ID)).toMatchObject({
      status: 'ACTIVE',
      thingName: THING_NAME,
      certificateSerial: serialNumber,
      certificateId,
    });
    first = { certificatePem, serialNumber, certificateId };
  });

  it('re-enrolment: the new certificate activates, then the old one is set INACTIVE and detached; it is never activated again', async () => {
    const second = await enrol();
    const { certificateId, event } = connect(second.certificatePem);
    journal.entries.length = 0;
    await expect(jitr(event, jitrContext)).resolves.toMatchObject({
      outcome: 'activated',
      retiredCertificateIds: [first.certificateId],
    });

    const updates = journal.entries
      .filter((e) => e.command === 'UpdateCertificate')
      .map((e) => [e.input.certificateId, e.input.newStatus]);
    expect(updates).toEqual([
      [certificateId, 'ACTIVE'],
      [first.certificateId, 'INACTIVE'],
    ]);
    expect(certificates.get(first.certificateId)?.status).toBe('INACTIVE');
    expect(iot.principalThings.get(certificateArn(first.certificateId)) ?? []).toEqual([]);
    expect([...(iot.policyTargets.get('cv-security-dev-ecu-telematics') ?? [])]).toEqual([
      certificateArn(certificateId),
    ]);
    expect(iot.principalThings.get(certificateArn(certificateId))).toEqual([
      { thing: THING_NAME, type: 'EXCLUSIVE_THING' },
    ]);

    // The old key tries again, its certificate meanwhile revoked at the CA: it stays INACTIVE.
    pki.revoke(first.serialNumber.toUpperCase());
    const old = connect(first.certificatePem);
    const outcome = await jitr(old.event, jitrContext);

    expect(outcome).toMatchObject({ outcome: 'skipped', reason: 'status' });
    expect(certificates.get(first.certificateId)?.status).toBe('INACTIVE');
    expect(iot.principalThings.get(certificateArn(first.certificateId)) ?? []).toEqual([]);
    expect(certificates.get(certificateId)?.status).toBe('ACTIVE');
    expect(registry.get(ECU_ID)).toMatchObject({ certificateSerial: second.serialNumber, certificateId });
    expect(issueRequests).toHaveLength(2);
  });

  it('a certificate of the ECU that is not the latest issued is not activated', async () => {
    const current = registry.get(ECU_ID)?.certificateSerial;
    const older = pki.signCsr((await freshCsr()).pem, {
      cn: THING_NAME,
      sanUri: `urn:cv:vin:${VIN}:ecu:${ECU_ID}`,
      ocspUrl: responder.url,
      days: 1,
    });
    const { certificateId, event } = connect(older.pem);

    await expect(jitr(event, jitrContext)).resolves.toMatchObject({
      outcome: 'skipped',
      reason: 'serial-mismatch',
    });
    expect(certificates.get(certificateId)?.status).toBe('PENDING_ACTIVATION');
    expect(registry.get(ECU_ID)?.certificateSerial).toBe(current);
  });
});

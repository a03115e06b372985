/**
 * cert-broker against the local cloud (issue 12 items 6-8): the real handler, the local Private CA
 * (which, like AWS, remembers idempotency tokens for five minutes), and the replay ledger and the
 * registry in the local DynamoDB, so the ledger's conditional expressions run against a real
 * DynamoDB implementation. Two suppliers are trusted; the clock is faked (Date only).
 */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DynamoDBClient, GetItemCommand, PutItemCommand, ScanCommand } from '@aws-sdk/client-dynamodb';
import { functionEnv, startSeededCloud } from '@cv/demo';
import { attestationProof } from '@cv/ecu-sim';
import {
  attestationIssuerKeySha256,
  type CertificateAuthority,
  createCertificateAuthority,
  generateKeyPair,
  issueLeaf,
  type LocalCloud,
  pemOf,
  x509,
} from '@cv/local-cloud';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const VIN = 'WVWZZZ1JZXW900001';
const TRUST_PARAM = '/cv-security/local/attestation-trust-bundle';
const MINUTE = 60_000;

let cloud: LocalCloud;
let ddb: DynamoDBClient;
let supplierA: CertificateAuthority;
let supplierB: CertificateAuthority;
let handler: (event: unknown, context: unknown) => Promise<{ statusCode: number; body: string }>;

interface Ecu {
  readonly ecuId: string;
  readonly attestationPem: string;
  readonly attestationKeyPem: string;
}

async function ecuOf(supplier: CertificateAuthority, ecuId: string): Promise<Ecu> {
  const { keys, privateKeyPem } = await generateKeyPair();
  const leaf = await issueLeaf(supplier, { subject: `CN=${ecuId}`, publicKey: keys.publicKey });
  return { ecuId, attestationPem: pemOf(leaf), attestationKeyPem: privateKeyPem };
}

async function register(ecuId: string, boundTo: CertificateAuthority): Promise<void> {
  await ddb.send(
    new PutItemCommand({
      TableName: functionEnv(cloud).ECU_REGISTRY_TABLE,
      Item: {
        ecuId: { S: ecuId },
        vin: { S: VIN },
        role: { S: 'telematics' },
        status: { S: 'ACTIVE' },
        attestationIssuerKeySha256: { S: attestationIssuerKeySha256(boundTo.certificatePem) },
      },
    }),
  );
}

async function csrPem(): Promise<string> {
  const { keys } = await generateKeyPair();
  const csr = await x509.Pkcs10CertificateRequestGenerator.create({
    name: 'CN=ignored',
    keys: keys as never,
    signingAlgorithm: { name: 'ECDSA', hash: 'SHA-256' },
  });
  return csr.toString('pem');
}

function body(ecu: Ecu, csr: string, at: Date): string {
  const proof = attestationProof(csr, ecu.attestationKeyPem, at);
  return JSON.stringify({ csr, attestation: { certificate: ecu.attestationPem, ...proof } });
}

async function post(raw: string): Promise<{ status: number; body: Record<string, unknown> }> {
  const event = JSON.parse(
    readFileSync(join(ROOT, 'events/cert-broker/post-certificates-attestation.json'), 'utf8'),
  ) as { body: string; headers: Record<string, string> };
  event.body = raw;
  event.headers['content-length'] = String(Buffer.byteLength(raw));
  const res = await handler(event, { awsRequestId: 'e2e', getRemainingTimeInMillis: () => 25_000 });
  return { status: res.statusCode, body: JSON.parse(res.body) as Record<string, unknown> };
}

const issued = () => cloud.requests.get('acm-pca:IssueCertificate') ?? 0;

async function registryRow(ecuId: string) {
  const out = await ddb.send(
    new GetItemCommand({ TableName: functionEnv(cloud).ECU_REGISTRY_TABLE, Key: { ecuId: { S: ecuId } } }),
  );
  return out.Item;
}

beforeAll(async () => {
  ({ cloud } = await startSeededCloud());
  ddb = new DynamoDBClient(cloud.clientConfig());
  supplierA = await createCertificateAuthority({ name: 'CN=Supplier A Attestation CA, O=cv-security e2e' });
  supplierB = await createCertificateAuthority({ name: 'CN=Supplier B Attestation CA, O=cv-security e2e' });
  cloud.ssm.putParameter(TRUST_PARAM, supplierA.certificatePem + supplierB.certificatePem);
  Object.assign(process.env, functionEnv(cloud));
  handler = (await import('../functions/cert-broker/src/handler.js')).handler as never;
});

afterEach(() => {
  vi.useRealTimers();
});

afterAll(async () => {
  await cloud?.stop();
});

describe('cert-broker on the local cloud', () => {
  it('a proof replayed after the CA forgot its idempotency token gets the same certificate; the CA issues once', async () => {
    const ecu = await ecuOf(supplierA, 'E2E-REPLAY-1');
    await register(ecu.ecuId, supplierA);
    vi.useFakeTimers({ toFake: ['Date'] });
    const request = body(ecu, await csrPem(), new Date(Date.now() + 4 * MINUTE));
    const before = issued();

    const first = await post(request);
    vi.setSystemTime(new Date(Date.now() + 8 * MINUTE));
    const replay = await post(request);

    expect([first.status, replay.status]).toEqual([201, 201]);
    expect(replay.body.serialNumber).toBe(first.body.serialNumber);
    expect(issued() - before).toBe(1);
    expect((await registryRow(ecu.ecuId))?.certificateSerial?.S).toBe(first.body.serialNumber);
    const ledger = await ddb.send(new ScanCommand({ TableName: functionEnv(cloud).REPLAY_LEDGER_TABLE }));
    expect(ledger.Items?.filter((i) => i.ecuId?.S === ecu.ecuId)).toEqual([
      expect.objectContaining({ state: { S: 'COMPLETED' }, serialNumber: { S: first.body.serialNumber } }),
    ]);
  });

  it('two identical requests at once: the CA issues once', async () => {
    const ecu = await ecuOf(supplierA, 'E2E-CONCURRENT-1');
    await register(ecu.ecuId, supplierA);
    const request = body(ecu, await csrPem(), new Date());
    const before = issued();

    const both = await Promise.all([post(request), post(request)]);

    expect(issued() - before).toBe(1);
    expect(both.map((r) => r.status).sort()).toEqual(expect.arrayContaining([201]));
    for (const r of both) expect([201, 409]).toContain(r.status);
    const retry = await post(request);
    expect(retry.status).toBe(201);
    expect(
      both.filter((r) => r.status === 201).every((r) => r.body.serialNumber === retry.body.serialNumber),
    ).toBe(true);
  });

  it('Private CA throttles after the proof was claimed: 429, then a retry of the same body takes the released claim over and completes', async () => {
    const ecu = await ecuOf(supplierA, 'E2E-RETRY-1');
    await register(ecu.ecuId, supplierA);
    const request = body(ecu, await csrPem(), new Date());
    const before = issued();
    cloud.throttle('acm-pca', 3, 'IssueCertificate'); // the SDK's three attempts, all throttled

    const throttled = await post(request);
    const retry = await post(request);

    expect(throttled.status).toBe(429);
    expect(retry.status).toBe(201);
    expect(issued() - before).toBe(4); // three throttled attempts, one issuance
    expect((await registryRow(ecu.ecuId))?.certificateSerial?.S).toBe(retry.body.serialNumber);
  });

  it("a valid attestation from trusted supplier B for supplier A's ECU: 403, nothing issued, registry untouched", async () => {
    const genuine = await ecuOf(supplierA, 'E2E-BOUND-1');
    await register(genuine.ecuId, supplierA);
    const impostor = await ecuOf(supplierB, genuine.ecuId);
    const rowBefore = await registryRow(genuine.ecuId);
    const before = issued();

    const res = await post(body(impostor, await csrPem(), new Date()));

    expect(res.status).toBe(403);
    expect(res.body.error).toBe('ecu_not_allowed');
    expect(issued()).toBe(before);
    expect(await registryRow(genuine.ecuId)).toEqual(rowBefore);
    // The genuine ECU still enrols.
    expect((await post(body(genuine, await csrPem(), new Date()))).status).toBe(201);
  });

  it('a csr field with two PEM blocks: 400, nothing issued', async () => {
    const ecu = await ecuOf(supplierA, 'E2E-STRICT-1');
    await register(ecu.ecuId, supplierA);
    const csr = await csrPem();
    const proof = attestationProof(csr, ecu.attestationKeyPem, new Date());
    const before = issued();

    const res = await post(
      JSON.stringify({
        csr: csr + (await csrPem()),
        attestation: { certificate: ecu.attestationPem, ...proof },
      }),
    );

    expect(res.status).toBe(400);
    expect(issued()).toBe(before);
    expect((await registryRow(ecu.ecuId))?.certificateSerial).toBeUndefined();
  });
});

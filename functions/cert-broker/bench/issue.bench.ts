/**
 * The broker's in-process time per request, AWS excluded: PCA, DynamoDB and SSM are
 * zero-latency mocks and the fake PCA answers with certificates signed in advance, so what
 * is measured is the handler itself (middy, body parsing, CSR parse + signature, chain
 * validation, attestation signature, response).
 *
 * Run: pnpm vitest bench --run --project @cv/cert-broker
 */
import 'reflect-metadata';
import { ACMPCAClient, GetCertificateCommand, IssueCertificateCommand } from '@aws-sdk/client-acm-pca';
import { DynamoDBDocumentClient, GetCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import * as x509 from '@peculiar/x509';
import { bench, describe } from 'vitest';
import { CA_ARN, LEDGER_TABLE, REGISTRY_TABLE, TEMPLATE_ARN } from '../tests/helpers/aws.js';
import { mockAws } from '../tests/helpers/mock.js';
import { signAttestation } from '../tests/helpers/pki.js';
import {
  buildWorld,
  ECU_ID,
  ecuBoundTo,
  freshCsr,
  httpEvent,
  lambdaContext,
  THING_NAME,
  VIN,
} from '../tests/helpers/world.js';

const world = await buildWorld();
Object.assign(process.env, {
  ECU_REGISTRY_TABLE: REGISTRY_TABLE,
  REPLAY_LEDGER_TABLE: LEDGER_TABLE,
  ISSUED_CERTIFICATES_TABLE: 'cv-security-dev-issued-certificates',
  PCA_CA_ARN: CA_ARN,
  PCA_TEMPLATE_ARN: TEMPLATE_ARN,
  ATTESTATION_TRUST_BUNDLE: world.trustBundlePem,
  AWS_REGION: 'eu-west-1',
  LOG_LEVEL: 'SILENT',
  POWERTOOLS_METRICS_DISABLED: 'true',
});
const { handler } = await import('../src/handler.js');

// A pool of CSRs with their certificates issued in advance by the operational CA.
const POOL = 32;
const signedAt = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
const pool: { csr: string; cert: string; signature: string }[] = [];
for (let i = 0; i < POOL; i += 1) {
  const { pem, keys } = await freshCsr();
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: `7b${i.toString(16).padStart(4, '0')}`,
    subject: `CN=${THING_NAME}`,
    issuer: world.opIssuing.cert.subject,
    notBefore: new Date(Date.now() - 3_600_000),
    notAfter: new Date(Date.now() + 365 * 86_400_000),
    publicKey: keys.publicKey,
    signingKey: world.opIssuing.keys.privateKey,
    signingAlgorithm: { name: 'ECDSA', hash: 'SHA-256' },
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
      new x509.SubjectAlternativeNameExtension([{ type: 'url', value: `urn:cv:vin:${VIN}:ecu:${ECU_ID}` }]),
    ],
  });
  // Signed in advance (valid for 5 minutes): the device's work is not the broker's.
  const signature = signAttestation(pem, signedAt, world.attestationViaInt2.keys.privateKey);
  pool.push({ csr: pem, cert: `${cert.toString('pem').trimEnd()}\n`, signature });
}
const byCsr = new Map(pool.map((p) => [p.csr.replace(/\s+/g, ''), p.cert]));
let lastIssued = '';

const pca = mockAws(ACMPCAClient);
pca.on(IssueCertificateCommand as never).callsFake(async (input: { Csr: Uint8Array }) => {
  lastIssued = byCsr.get(Buffer.from(input.Csr).toString('utf8').replace(/\s+/g, '')) ?? '';
  return { CertificateArn: `${CA_ARN}/certificate/00` };
});
pca.on(GetCertificateCommand as never).callsFake(async () => ({
  Certificate: lastIssued,
  CertificateChain: world.opChainPem,
}));
// The registry row, bound to the issuing CA of the attestation each bench presents; the replay
// ledger's conditional put always succeeds (every request is a first use of its proof).
let row = ecuBoundTo(world.mfrInt1);
const dynamo = mockAws(DynamoDBDocumentClient);
dynamo.on(GetCommand as never).callsFake(async () => ({ Item: { ...row } }));
dynamo.on(PutCommand as never).resolves({});
dynamo.on(UpdateCommand as never).resolves({});
const boundToInt1 = row;
const boundToInt2 = ecuBoundTo(world.mfrInt2);

let n = 0;
const next = () => pool[n++ % POOL] as { csr: string; cert: string; signature: string };

async function invoke(body: unknown, clientCertPem?: string): Promise<void> {
  const res = await handler(httpEvent(JSON.stringify(body), clientCertPem), lambdaContext);
  if (typeof res === 'string' || res.statusCode !== 201) throw new Error(`unexpected ${JSON.stringify(res)}`);
}

describe('cert-broker per request, AWS at zero latency', () => {
  bench(
    'mutual TLS (chain + CSR checks)',
    async () => {
      row = boundToInt1;
      await invoke({ csr: next().csr }, world.attestation.pem);
    },
    { time: 3000 },
  );

  bench(
    'signed attestation (chain via body intermediate + CSR checks + ECDSA proof)',
    async () => {
      const { csr, signature } = next();
      row = boundToInt2;
      await invoke({
        csr,
        attestation: { certificate: world.attestationViaInt2.pem + world.mfrInt2.pem, signedAt, signature },
      });
    },
    { time: 3000 },
  );
});

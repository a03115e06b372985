/**
 * jitr-handler's in-process time per registration, AWS and the network excluded: the use
 * case with in-memory IoT and registry, and an OCSP transport that replays a response
 * `openssl ocsp` produced once (so parsing and verifying the response is measured, the
 * HTTP round trip is not).
 *
 * Run: pnpm vitest bench --run --project @cv/jitr-handler
 */
import { createHash, X509Certificate } from 'node:crypto';
import { createHttpTransport, type OcspTransport } from '@cv/crypto/ocsp';
import { afterAll, bench, describe } from 'vitest';
import { CaCertificates, RolePolicies } from '../src/caches.js';
import type { CertificateDescription, EcuRecord, EcuRegistry, IotControlPlane } from '../src/ports.js';
import { type RegisterCertificateDeps, registerCertificate } from '../src/register-certificate.js';
import { OPERATIONAL_CA_ID } from '../tests/helpers/fake-aws.js';
import { OperationalPki, startOpensslResponder } from '../tests/helpers/pki.js';

const VIN = 'WVWZZZ1JZXW000001';
const pki = new OperationalPki();
const responder = await startOpensslResponder(pki);

const POOL = 16;
const certs = new Map<string, CertificateDescription>();
const ids: string[] = [];
for (let i = 0; i < POOL; i += 1) {
  const ecuId = `ECU-${i}`;
  const cert = pki.issue({
    cn: `${VIN}_${ecuId}`,
    sanUri: `urn:cv:vin:${VIN}:ecu:${ecuId}`,
    ocspUrl: responder.url,
  });
  const certificateId = createHash('sha256').update(new X509Certificate(cert.pem).raw).digest('hex');
  certs.set(certificateId, {
    certificateId,
    certificateArn: `arn:aws:iot:eu-west-1:123456789012:cert/${certificateId}`,
    caCertificateId: OPERATIONAL_CA_ID,
    status: 'PENDING_ACTIVATION',
    certificatePem: cert.pem,
  });
  ids.push(certificateId);
}

// Each response is fetched from openssl once, then replayed.
const http = createHttpTransport();
const recorded = new Map<string, Uint8Array>();
const replay: OcspTransport = async (request) => {
  const key = Buffer.from(request.body).toString('base64');
  const hit = recorded.get(key);
  if (hit) return hit;
  const bytes = await http(request);
  recorded.set(key, bytes);
  return bytes;
};

const noop = async () => undefined;
const iot: IotControlPlane = {
  describeCertificate: async (id) => certs.get(id) as CertificateDescription,
  describeCaCertificate: async () => pki.caPem,
  setCertificateStatus: noop,
  ensureThing: async () => 'created',
  checkThing: noop,
  attachPolicy: noop,
  attachThingPrincipalExclusive: noop,
  // First enrolment: the registry names no certificate, so the thing is not listed.
  listThingPrincipals: async () => undefined,
  certificatePolicyNames: async () => [],
  certificateStatus: async () => 'ACTIVE',
  detachPolicy: noop,
  detachThingPrincipal: noop,
};
const registry: EcuRegistry = {
  get: async (ecuId): Promise<EcuRecord> => ({ ecuId, vin: VIN, role: 'gateway', status: 'ACTIVE' }),
  recordCertificate: async () => ({ recorded: true, previousCertificateId: undefined }),
};
const deps: RegisterCertificateDeps = {
  iot,
  registry,
  // No issued-certificate record: the bench measures the DescribeCertificate path.
  issuedCertificates: { get: async () => undefined },
  region: 'eu-west-1',
  accountId: '123456789012',
  policies: new RolePolicies({ prefix: 'cv-security-dev' }),
  caCertificates: new CaCertificates(iot, { ttlMs: 3_600_000, maxEntries: 8 }),
  operationalCaCertificateId: OPERATIONAL_CA_ID,
  ocsp: {
    allowedHosts: ['127.0.0.1'],
    fallbackUrl: undefined,
    transport: replay,
    timeoutMs: 3_000,
    hashAlgorithm: 'sha1',
  },
  now: () => new Date(),
  log: () => undefined,
};

// Warm the replay cache (one real openssl exchange per certificate).
for (const certificateId of ids) {
  await registerCertificate({ certificateId, caCertificateId: OPERATIONAL_CA_ID }, deps);
}

afterAll(async () => {
  await responder.close();
  pki.cleanup();
});

let n = 0;
describe('jitr-handler per registration, AWS and network at zero latency', () => {
  bench(
    'registration (parse, OCSP verify, identity, thing/policy/attach/activate calls)',
    async () => {
      const certificateId = ids[n++ % POOL] as string;
      const outcome = await registerCertificate({ certificateId, caCertificateId: OPERATIONAL_CA_ID }, deps);
      if (outcome.outcome !== 'activated') throw new Error(JSON.stringify(outcome));
    },
    { time: 3000 },
  );
});

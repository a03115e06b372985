/**
 * The world of tests/issued-record*.test.ts: the operational PKI and a rogue CA, the openssl OCSP
 * responder, fake IoT (with the stack's role policies) and registry (with cert-broker's issued-
 * certificate records), and enrolled certificates as cert-broker issues and IoT registers them.
 * `recordWorld()` registers the hooks; its fields are renewed per test.
 */
import { createHash, X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Context } from 'aws-lambda';
import { afterAll, beforeAll, beforeEach, expect, vi } from 'vitest';
import {
  ACCOUNT,
  certificateArn,
  type FakeCertificate,
  fakeIot,
  fakeRegistry,
  ISSUED_TABLE,
  type Journal,
  OPERATIONAL_CA_ID,
  REGION,
  seedStackPolicies,
} from './fake-aws.js';
import { OperationalPki, type Responder, startOpensslResponder } from './pki.js';

export const VIN = 'WVWZZZ1JZXW000001';
export const PREFIX = 'cv-security-dev';
const sampleEvent = JSON.parse(
  readFileSync(
    fileURLToPath(new URL('../../../../events/jitr-handler/certificate-registered.json', import.meta.url)),
    'utf8',
  ),
) as Record<string, unknown>;
export const context = {
  awsRequestId: '8f5e1c2a-3b4d-4e6f-8a9b-0c1d2e3f4a5b',
  functionName: 'cv-security-dev-jitr-handler',
  invokedFunctionArn: `arn:aws:lambda:${REGION}:${ACCOUNT}:function:cv-security-dev-jitr-handler`,
  getRemainingTimeInMillis: () => 10_000,
} as unknown as Context;

type Handler = typeof import('../../src/handler.js').handler;
const IOT_WRITES = new Set(['CreateThing', 'AttachThingPrincipal', 'AttachPolicy', 'UpdateCertificate']);

export interface RecordWorld {
  pki: OperationalPki;
  rogueCa: OperationalPki;
  responder: Responder;
  certificates: Map<string, FakeCertificate>;
  journal: Journal;
  iot: ReturnType<typeof fakeIot>;
  registry: ReturnType<typeof fakeRegistry>;
}

export function recordWorld() {
  const w = {} as RecordWorld;

  /** A fresh container: the module (and its caches) is evaluated again. */
  async function coldHandler(): Promise<Handler> {
    vi.resetModules();
    return (await import('../../src/handler.js')).handler;
  }
  const idOf = (pem: string) => createHash('sha256').update(new X509Certificate(pem).raw).digest('hex');
  const iotCalls = () => w.journal.entries.filter((e) => e.service === 'iot').map((e) => e.command);
  const calls = () => w.journal.entries.map((e) => `${e.service}:${e.command}`);
  const iotWrites = () => iotCalls().filter((c) => IOT_WRITES.has(c) || c.startsWith('Detach'));

  /**
   * A certificate of `ecuId` issued by `ca` and registered by IoT (PENDING_ACTIVATION) under its
   * id, the broker's record of it (unless `record: false`), and its fresh JITR event.
   */
  function enrolled(ecuId: string, opts: { ca?: OperationalPki; record?: boolean; caId?: string } = {}) {
    const ca = opts.ca ?? w.pki;
    const cert = ca.issue({
      cn: `${VIN}_${ecuId}`,
      sanUri: `urn:cv:vin:${VIN}:ecu:${ecuId}`,
      ocspUrl: w.responder.url,
    });
    const certificateId = idOf(cert.pem);
    const caCertificateId = opts.caId ?? OPERATIONAL_CA_ID;
    w.certificates.set(certificateId, { pem: cert.pem, status: 'PENDING_ACTIVATION', caCertificateId });
    const record = { certificateId, ecuId, thingName: `${VIN}_${ecuId}`, certificatePem: cert.pem };
    if (opts.record !== false) w.registry.issued.set(certificateId, record);
    const serialNumber = new X509Certificate(cert.pem).serialNumber.toLowerCase();
    const row = w.registry.table.get(ecuId);
    if (row) row.certificateSerial = serialNumber; // cert-broker records the serial it issued
    const event = {
      ...sampleEvent,
      certificateId,
      caCertificateId,
      certificateStatus: 'PENDING_ACTIVATION',
      timestamp: Date.now(),
    };
    return {
      certificateId,
      pem: cert.pem,
      serial: cert.serial,
      record,
      event,
      arn: certificateArn(certificateId),
    };
  }

  function expectActivatedAndRegistered(c: ReturnType<typeof enrolled>, ecuId: string): void {
    expect(w.certificates.get(c.certificateId)?.status).toBe('ACTIVE');
    expect(w.iot.principalThings.get(c.arn)).toEqual([{ thing: `${VIN}_${ecuId}`, type: 'EXCLUSIVE_THING' }]);
    expect(w.iot.policyTargets.get(`${PREFIX}-ecu-gateway`)?.has(c.arn)).toBe(true);
    expect(w.registry.table.get(ecuId)).toMatchObject({
      certificateId: c.certificateId,
      thingName: `${VIN}_${ecuId}`,
    });
  }

  beforeAll(async () => {
    w.pki = new OperationalPki();
    w.rogueCa = new OperationalPki();
    w.responder = await startOpensslResponder(w.pki, 'delegated');
    Object.assign(process.env, {
      ECU_REGISTRY_TABLE: 'cv-security-dev-ecu-registry',
      ISSUED_CERTIFICATES_TABLE: ISSUED_TABLE,
      OPERATIONAL_CA_CERTIFICATE_ID: OPERATIONAL_CA_ID,
      OCSP_ALLOWED_HOSTS: '127.0.0.1',
      IOT_POLICY_PREFIX: PREFIX,
      AWS_REGION: REGION,
      AWS_ACCOUNT_ID: ACCOUNT,
      LOG_LEVEL: 'SILENT',
    });
  });

  afterAll(async () => {
    await w.responder.close();
    w.pki.cleanup();
    w.rogueCa.cleanup();
  });

  beforeEach(() => {
    delete process.env.OPERATIONAL_CA_CERTIFICATE_PEM;
    w.certificates = new Map();
    w.journal = { entries: [] };
    w.iot = fakeIot({
      certificates: w.certificates,
      caCertificates: new Map([[OPERATIONAL_CA_ID, w.pki.caPem]]),
      journal: w.journal,
    });
    seedStackPolicies(w.iot.policies, PREFIX);
    w.registry = fakeRegistry(
      ['ECU-A', 'ECU-B', 'ECU-C', 'ECU-D'].map((ecuId) => ({
        ecuId,
        vin: VIN,
        role: 'gateway',
        status: 'ACTIVE',
        thingName: `${VIN}_${ecuId}`,
      })),
      w.journal,
    );
  });

  return { w, coldHandler, iotCalls, calls, iotWrites, enrolled, expectActivatedAndRegistered };
}

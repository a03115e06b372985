import { createHash, X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { iotPolicyName } from '@cv/policy';
import type { Context } from 'aws-lambda';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  ACCOUNT,
  certificateArn,
  type FakeCertificate,
  fakeIot,
  fakeRegistry,
  ISSUED_TABLE,
  type Journal,
  OPERATIONAL_CA_ID,
  OTHER_CA_ID,
  REGION,
  type RegistryRow,
  seedStackPolicies,
} from './helpers/fake-aws.js';
import {
  deadPort,
  OperationalPki,
  type Responder,
  startCountingServer,
  startOpensslResponder,
} from './helpers/pki.js';

const VIN = 'WVWZZZ1JZXW000001';
const PREFIX = 'cv-security-dev';
const sampleEvent = JSON.parse(
  readFileSync(
    fileURLToPath(new URL('../../../events/jitr-handler/certificate-registered.json', import.meta.url)),
    'utf8',
  ),
) as Record<string, unknown>;

const context = {
  awsRequestId: '8f5e1c2a-3b4d-4e6f-8a9b-0c1d2e3f4a5b',
  functionName: 'cv-security-dev-jitr-handler',
  functionVersion: '$LATEST',
  invokedFunctionArn: `arn:aws:lambda:${REGION}:${ACCOUNT}:function:cv-security-dev-jitr-handler`,
  memoryLimitInMB: '256',
  getRemainingTimeInMillis: () => 10_000,
} as unknown as Context;

let pki: OperationalPki;
let responder: Responder;
let rogueResponder: Responder;
let certificates: Map<string, FakeCertificate>;
let journal: Journal;
let iot: ReturnType<typeof fakeIot>;
let registry: ReturnType<typeof fakeRegistry>;
type Handler = typeof import('../src/handler.js').handler;

/** A fresh container: the module (and its caches) is evaluated again. */
async function coldHandler(): Promise<Handler> {
  vi.resetModules();
  return (await import('../src/handler.js')).handler;
}

function ecu(ecuId: string, role = 'gateway', extra: Partial<RegistryRow> = {}): RegistryRow {
  return { ecuId, vin: VIN, role, status: 'ACTIVE', thingName: `${VIN}_${ecuId}`, ...extra };
}

/** Registers a device certificate with IoT as JITR would (PENDING_ACTIVATION) and returns its event. */
function register(
  ecuId: string,
  opts: {
    ocspUrl?: string;
    state?: 'good' | 'revoked' | 'unknown';
    cn?: string;
    status?: string;
    ca?: string;
  } = {},
) {
  const cert = pki.issue({
    cn: opts.cn ?? `${VIN}_${ecuId}`,
    sanUri: `urn:cv:vin:${VIN}:ecu:${ecuId}`,
    ocspUrl: opts.ocspUrl ?? responder.url,
    state: opts.state ?? 'good',
  });
  const certificateId = createHash('sha256').update(new X509Certificate(cert.pem).raw).digest('hex');
  const caCertificateId = opts.ca ?? OPERATIONAL_CA_ID;
  certificates.set(certificateId, {
    pem: cert.pem,
    status: opts.status ?? 'PENDING_ACTIVATION',
    caCertificateId,
  });
  const serialNumber = new X509Certificate(cert.pem).serialNumber.toLowerCase();
  return {
    serialNumber,
    certificateId,
    event: {
      ...sampleEvent,
      certificateId,
      caCertificateId,
      timestamp: Date.now(),
      certificateRegistrationTimestamp: String(Date.now()),
    },
  };
}

function row(ecuId: string): RegistryRow {
  const found = registry.table.get(ecuId);
  if (!found) throw new Error(`no registry row ${ecuId}`);
  return found;
}

const iotCalls = () => journal.entries.filter((e) => e.service === 'iot').map((e) => e.command);
const allCalls = () => journal.entries.map((e) => `${e.service}:${e.command}`);
const activations = () =>
  journal.entries.filter((e) => e.command === 'UpdateCertificate' && e.input.newStatus === 'ACTIVE');
const MUTATIONS = [
  'CreateThing',
  'AttachPolicy',
  'AttachThingPrincipal',
  'UpdateCertificate',
  'DetachPolicy',
  'DetachThingPrincipal',
];
const mutations = () => iotCalls().filter((c) => MUTATIONS.includes(c));

beforeAll(async () => {
  pki = new OperationalPki();
  responder = await startOpensslResponder(pki, 'delegated');
  rogueResponder = await startOpensslResponder(pki, 'rogue');
  Object.assign(process.env, {
    ECU_REGISTRY_TABLE: 'cv-security-dev-ecu-registry',
    ISSUED_CERTIFICATES_TABLE: ISSUED_TABLE,
    OPERATIONAL_CA_CERTIFICATE_ID: OPERATIONAL_CA_ID,
    OCSP_ALLOWED_HOSTS: '127.0.0.1',
    OCSP_TIMEOUT_MS: '3000',
    IOT_POLICY_PREFIX: PREFIX,
    AWS_REGION: REGION,
    AWS_ACCOUNT_ID: ACCOUNT,
    LOG_LEVEL: 'SILENT',
  });
});

afterAll(async () => {
  await responder.close();
  await rogueResponder.close();
  pki.cleanup();
});

beforeEach(() => {
  certificates = new Map();
  journal = { entries: [] };
  iot = fakeIot({ certificates, caCertificates: new Map([[OPERATIONAL_CA_ID, pki.caPem]]), journal });
  seedStackPolicies(iot.policies, PREFIX); // the stack creates them (serverless/resources/ecu-policies.yml)
  registry = fakeRegistry(
    [
      ecu('ECU-GW-0001'),
      ecu('ECU-TCU-0002', 'telematics'),
      ecu('ECU-GW-0003'),
      ecu('ECU-BLK-0004', 'body', { status: 'BLOCKED' }),
    ],
    journal,
  );
});

describe('a good certificate is registered, then activated', () => {
  it('runs the steps in order and activates last (cold container: 6 IoT calls; the stack policy attached, never created)', async () => {
    const handler = await coldHandler();
    const { event, certificateId, serialNumber } = register('ECU-GW-0001');
    row('ECU-GW-0001').certificateSerial = serialNumber;
    const policiesBefore = new Map(iot.policies);

    const outcome = await handler(event, context);

    expect(outcome).toEqual({
      outcome: 'activated',
      thingName: `${VIN}_ECU-GW-0001`,
      policyName: `${PREFIX}-ecu-gateway`,
      retiredCertificateIds: [],
    });
    expect(allCalls()).toEqual([
      'issued:GetItem', // cert-broker's record of the certificate: none here, so it is described
      'iot:DescribeCertificate',
      'iot:DescribeCACertificate',
      'registry:GetItem', // names no certificate of the ECU: a first enrolment, the thing is not listed
      'iot:CreateThing',
      'iot:AttachThingPrincipal',
      'iot:AttachPolicy', // the stack's policy: attached, no GetPolicy, no CreatePolicy
      'registry:UpdateItem',
      'iot:UpdateCertificate',
    ]);
    expect(responder.requests()).toBeGreaterThan(0);
    expect(certificates.get(certificateId)?.status).toBe('ACTIVE');
    expect(iot.things.get(`${VIN}_ECU-GW-0001`)).toEqual({ vin: VIN, ecuId: 'ECU-GW-0001', role: 'gateway' });
    expect(iot.policies).toEqual(policiesBefore); // no policy written
    expect([...(iot.policyTargets.get(`${PREFIX}-ecu-gateway`) ?? [])]).toEqual([
      certificateArn(certificateId),
    ]);
    expect(iot.principalThings.get(certificateArn(certificateId))).toEqual([
      { thing: `${VIN}_ECU-GW-0001`, type: 'EXCLUSIVE_THING' },
    ]);
    expect(registry.table.get('ECU-GW-0001')).toMatchObject({
      certificateId,
      status: 'ACTIVE',
      thingName: `${VIN}_ECU-GW-0001`,
    });
  });

  it('a role policy the stack did not create fails the invocation: no policy created, certificate PENDING_ACTIVATION, registry untouched', async () => {
    const handler = await coldHandler();
    iot.policies.delete(`${PREFIX}-ecu-telematics`);
    const { event, certificateId } = register('ECU-TCU-0002');

    await expect(handler(event, context)).rejects.toThrow(/does not exist/);
    await expect(handler(event, context)).rejects.toThrow(/does not exist/); // and on every retry

    expect(iotCalls().filter((c) => /Policy$/.test(c))).toEqual(['AttachPolicy', 'AttachPolicy']);
    expect(iot.policies.has(`${PREFIX}-ecu-telematics`)).toBe(false);
    expect(activations()).toEqual([]);
    expect(certificates.get(certificateId)?.status).toBe('PENDING_ACTIVATION');
    expect(row('ECU-TCU-0002').certificateId).toBeUndefined();
  });

  it('converges on the repeated event with no error and no duplicate resources', async () => {
    const handler = await coldHandler();
    const { event, certificateId } = register('ECU-GW-0001');
    await handler(event, context);
    journal.entries.length = 0;

    const again = await handler(event, context);
    const third = await handler({ ...event, timestamp: Date.now() }, context);

    expect(again).toMatchObject({ outcome: 'already-active', completedSteps: [] });
    expect(third).toMatchObject({ outcome: 'already-active', completedSteps: [] });
    expect(mutations()).toEqual([]);
    expect(iot.things.size).toBe(1);
    expect(iot.principalThings.get(certificateArn(certificateId))).toHaveLength(1);
    expect(iot.policyTargets.get(`${PREFIX}-ecu-gateway`)?.size).toBe(1);
    expect(certificates.get(certificateId)?.status).toBe('ACTIVE');
  });

  it('counts IoT control-plane calls on first enrolment: warm 5, cold 6 (DescribeCACertificate), for every role', async () => {
    const cold = await coldHandler();
    await cold(register('ECU-GW-0001').event, context);
    const coldCalls = iotCalls();
    journal.entries.length = 0;

    await cold(register('ECU-GW-0003').event, context);
    const warm = iotCalls();
    journal.entries.length = 0;

    await cold(register('ECU-TCU-0002').event, context); // another role, same container
    const warmOtherRole = iotCalls();

    expect(coldCalls).toEqual([
      'DescribeCertificate',
      'DescribeCACertificate',
      'CreateThing',
      'AttachThingPrincipal',
      'AttachPolicy',
      'UpdateCertificate',
    ]);
    const five = [
      'DescribeCertificate',
      'CreateThing',
      'AttachThingPrincipal',
      'AttachPolicy',
      'UpdateCertificate',
    ];
    expect(warm).toEqual(five);
    expect(warmOtherRole).toEqual(five);
  });

  it('with the operational CA PEM configured: 5 IoT calls cold, no DescribeCACertificate', async () => {
    process.env.OPERATIONAL_CA_CERTIFICATE_PEM = pki.caPem;
    try {
      const cold = await coldHandler();
      const { event, certificateId } = register('ECU-GW-0001');

      await expect(cold(event, context)).resolves.toMatchObject({ outcome: 'activated' });

      expect(iotCalls()).toEqual([
        'DescribeCertificate',
        'CreateThing',
        'AttachThingPrincipal',
        'AttachPolicy',
        'UpdateCertificate',
      ]);
      expect(responder.requests()).toBeGreaterThan(0); // OCSP still checked, against the configured issuer
      expect(certificates.get(certificateId)?.status).toBe('ACTIVE');
    } finally {
      delete process.env.OPERATIONAL_CA_CERTIFICATE_PEM;
    }
  });

  it('a configured CA PEM that is not the issuer fails closed: OCSP cannot be verified, nothing written', async () => {
    const other = new OperationalPki();
    process.env.OPERATIONAL_CA_CERTIFICATE_PEM = other.caPem;
    try {
      const cold = await coldHandler();
      const { event, certificateId } = register('ECU-GW-0001');

      await expect(cold(event, context)).rejects.toThrow();

      expect(mutations()).toEqual([]);
      expect(iotCalls()).not.toContain('DescribeCACertificate');
      expect(certificates.get(certificateId)?.status).toBe('PENDING_ACTIVATION');
      expect(row('ECU-GW-0001').certificateId).toBeUndefined();
    } finally {
      delete process.env.OPERATIONAL_CA_CERTIFICATE_PEM;
      other.cleanup();
    }
  });

  it('a first enrolment that finds another certificate recorded meanwhile lists the thing after activation and retires it', async () => {
    const handler = await coldHandler();
    // Another certificate of the ECU, ACTIVE on the thing, recorded in the registry after this
    // invocation read the row (a concurrent registration).
    const other = register('ECU-GW-0001');
    await handler(other.event, context);
    const recorded = row('ECU-GW-0001').certificateId;
    delete row('ECU-GW-0001').certificateId;
    registry.mock
      .on(GetCommand as never)
      .callsFake(async (input: { TableName: string; Key: { ecuId: string } }) => {
        if (input.TableName === ISSUED_TABLE) return { Item: undefined };
        journal.entries.push({ service: 'registry', command: 'GetItem', input });
        const snapshot = { ...row(input.Key.ecuId) };
        row(input.Key.ecuId).certificateId = recorded; // written right after this read
        return { Item: snapshot };
      });
    const next = register('ECU-GW-0001');
    row('ECU-GW-0001').certificateSerial = next.serialNumber;
    journal.entries.length = 0;

    const outcome = await handler(next.event, context);

    expect(outcome).toMatchObject({ outcome: 'activated', retiredCertificateIds: [other.certificateId] });
    expect(iotCalls().indexOf('ListThingPrincipals')).toBeGreaterThan(
      iotCalls().indexOf('UpdateCertificate'),
    );
    expect(certificates.get(other.certificateId)?.status).toBe('INACTIVE');
    expect(iot.principalThings.get(certificateArn(other.certificateId))).toBeUndefined();
    expect(certificates.get(next.certificateId)?.status).toBe('ACTIVE');
  });

  it('the sample event runs through the handler', async () => {
    const handler = await coldHandler();
    const { certificateId } = register('ECU-GW-0001');
    const event = { ...sampleEvent, certificateId };

    await expect(handler(event, context)).resolves.toMatchObject({ outcome: 'activated' });
  });
});

describe('revocation is checked first, fail closed', () => {
  it('revoked -> REVOKED, no thing, no policy attachment, registry untouched', async () => {
    const handler = await coldHandler();
    const { event, certificateId } = register('ECU-GW-0001', { state: 'revoked' });

    const outcome = await handler(event, context);

    expect(outcome).toMatchObject({ outcome: 'revoked' });
    expect(certificates.get(certificateId)?.status).toBe('REVOKED');
    expect(mutations()).toEqual(['UpdateCertificate']);
    expect(activations()).toHaveLength(0);
    expect(iot.things.size).toBe(0);
    expect(allCalls()).not.toContain('registry:UpdateItem');
  });

  it('a certificate revoked after activation is set REVOKED when its event comes again', async () => {
    const handler = await coldHandler();
    const cert = pki.issue({
      cn: `${VIN}_ECU-GW-0001`,
      sanUri: `urn:cv:vin:${VIN}:ecu:ECU-GW-0001`,
      ocspUrl: responder.url,
    });
    const certificateId = createHash('sha256').update(new X509Certificate(cert.pem).raw).digest('hex');
    certificates.set(certificateId, {
      pem: cert.pem,
      status: 'PENDING_ACTIVATION',
      caCertificateId: OPERATIONAL_CA_ID,
    });
    const event = { ...sampleEvent, certificateId };
    await expect(handler(event, context)).resolves.toMatchObject({ outcome: 'activated' });

    pki.revoke(cert.serial);
    journal.entries.length = 0;
    const again = await handler(event, context);

    expect(again).toMatchObject({ outcome: 'revoked' });
    expect(certificates.get(certificateId)?.status).toBe('REVOKED');
    expect(mutations()).toEqual(['UpdateCertificate']);
  });

  const failClosed: [string, () => Promise<{ event: Record<string, unknown>; certificateId: string }>][] = [
    [
      'responder down',
      async () => register('ECU-GW-0001', { ocspUrl: `http://127.0.0.1:${await deadPort()}/` }),
    ],
    ['responder says unknown', async () => register('ECU-GW-0001', { state: 'unknown' })],
    [
      'forged response (signer not certified by the CA)',
      async () => register('ECU-GW-0001', { ocspUrl: rogueResponder.url }),
    ],
  ];

  it.each(failClosed)('%s -> throws, stays PENDING_ACTIVATION, nothing created', async (_name, make) => {
    const handler = await coldHandler();
    const { event, certificateId } = await make();

    await expect(handler(event, context)).rejects.toThrow();

    expect(certificates.get(certificateId)?.status).toBe('PENDING_ACTIVATION');
    expect(mutations()).toEqual([]);
    expect(activations()).toHaveLength(0);
  });

  it('responder host outside OCSP_ALLOWED_HOSTS is refused before any request', async () => {
    const handler = await coldHandler();
    const counting = await startCountingServer();
    try {
      const { event, certificateId } = register('ECU-GW-0001', {
        ocspUrl: `http://localhost:${counting.port}/`,
      });

      await expect(handler(event, context)).rejects.toThrow(/not allowed|allow/i);

      expect(counting.connections()).toBe(0);
      expect(certificates.get(certificateId)?.status).toBe('PENDING_ACTIVATION');
      expect(mutations()).toEqual([]);
    } finally {
      await counting.close();
    }
  });
});

describe('certificates that must not be activated are left alone', () => {
  it('a CA other than the operational CA: no IoT call at all', async () => {
    const handler = await coldHandler();
    const { event } = register('ECU-GW-0001', { ca: OTHER_CA_ID });

    await expect(handler(event, context)).resolves.toMatchObject({ outcome: 'skipped', reason: 'other-ca' });
    expect(iotCalls()).toEqual([]);
  });

  it('a certificate an operator already REVOKED is never re-activated', async () => {
    const handler = await coldHandler();
    const { event, certificateId } = register('ECU-GW-0001', { status: 'REVOKED' });

    await expect(handler(event, context)).resolves.toMatchObject({ outcome: 'skipped', reason: 'status' });
    expect(certificates.get(certificateId)?.status).toBe('REVOKED');
    expect(mutations()).toEqual([]);
  });

  const refused: [string, () => { event: Record<string, unknown>; certificateId: string }, string][] = [
    ['ECU BLOCKED in the registry', () => register('ECU-BLK-0004'), 'ecu-not-active'],
    ['ECU unknown to the registry', () => register('ECU-NEW-0009'), 'ecu-unknown'],
    [
      'CN that is not <VIN>_<ecuId>',
      () => register('ECU-GW-0001', { cn: 'ECU-GW-0001' }),
      'malformed-identity',
    ],
    [
      'CN names another vehicle than the registry',
      () => register('ECU-GW-0001', { cn: `WVWZZZ1JZXW999999_ECU-GW-0001` }),
      'identity-mismatch',
    ],
  ];

  it.each(refused)('%s -> skipped, not activated', async (_name, make, reason) => {
    const handler = await coldHandler();
    const { event, certificateId } = make();

    await expect(handler(event, context)).resolves.toMatchObject({ outcome: 'skipped', reason });
    expect(certificates.get(certificateId)?.status).toBe('PENDING_ACTIVATION');
    expect(mutations()).toEqual([]);
  });

  it('a serial other than the one the broker last issued -> skipped', async () => {
    const handler = await coldHandler();
    row('ECU-GW-0001').certificateSerial = '0badc0ffee';
    const { event, certificateId } = register('ECU-GW-0001');

    await expect(handler(event, context)).resolves.toMatchObject({
      outcome: 'skipped',
      reason: 'serial-mismatch',
    });
    expect(certificates.get(certificateId)?.status).toBe('PENDING_ACTIVATION');
    expect(mutations()).toEqual([]);
  });

  it('a thing of that name with other attributes -> throws, not activated', async () => {
    const handler = await coldHandler();
    iot.things.set(`${VIN}_ECU-GW-0001`, { vin: VIN, ecuId: 'ECU-GW-0001', role: 'infotainment' });
    const { event, certificateId } = register('ECU-GW-0001');

    await expect(handler(event, context)).rejects.toThrow(/different attributes/);
    expect(certificates.get(certificateId)?.status).toBe('PENDING_ACTIVATION');
    expect(activations()).toHaveLength(0);
  });
});

describe('convergence details', () => {
  it('a thing that already exists with the same attributes (CreateThing says so) is accepted', async () => {
    const handler = await coldHandler();
    const { event } = register('ECU-GW-0001');
    const { CreateThingCommand, ResourceAlreadyExistsException } = await import('@aws-sdk/client-iot');
    iot.things.set(`${VIN}_ECU-GW-0001`, { vin: VIN, ecuId: 'ECU-GW-0001', role: 'gateway' });
    iot.mock.on(CreateThingCommand as never).callsFake(async (input: Record<string, unknown>) => {
      journal.entries.push({ service: 'iot', command: 'CreateThing', input });
      throw new ResourceAlreadyExistsException({ message: 'exists', resourceId: 'x', $metadata: {} });
    });

    await expect(handler(event, context)).resolves.toMatchObject({ outcome: 'activated' });
    expect(iotCalls()).toContain('DescribeThing');
  });

  it('an ECU blocked between the registry check and the registry update is not activated', async () => {
    const handler = await coldHandler();
    const { event, certificateId } = register('ECU-GW-0001');
    const { UpdateCommand } = await import('@aws-sdk/lib-dynamodb');
    const { ConditionalCheckFailedException } = await import('@aws-sdk/client-dynamodb');
    registry.mock.on(UpdateCommand as never).callsFake(async (input: Record<string, unknown>) => {
      journal.entries.push({ service: 'registry', command: 'UpdateItem', input });
      throw new ConditionalCheckFailedException({ message: 'The conditional request failed', $metadata: {} });
    });

    await expect(handler(event, context)).resolves.toMatchObject({
      outcome: 'skipped',
      reason: 'ecu-not-active',
    });
    expect(certificates.get(certificateId)?.status).toBe('PENDING_ACTIVATION');
    expect(activations()).toHaveLength(0);
  });

  it('a certificate without AIA is checked at OCSP_RESPONDER_URL', async () => {
    process.env.OCSP_RESPONDER_URL = responder.url;
    try {
      const handler = await coldHandler();
      const before = responder.requests();
      const cert = pki.issue({ cn: `${VIN}_ECU-GW-0001`, sanUri: `urn:cv:vin:${VIN}:ecu:ECU-GW-0001` });
      const certificateId = createHash('sha256').update(new X509Certificate(cert.pem).raw).digest('hex');
      certificates.set(certificateId, {
        pem: cert.pem,
        status: 'PENDING_ACTIVATION',
        caCertificateId: OPERATIONAL_CA_ID,
      });

      await expect(handler({ ...sampleEvent, certificateId }, context)).resolves.toMatchObject({
        outcome: 'activated',
      });
      expect(responder.requests()).toBe(before + 1);
    } finally {
      delete process.env.OCSP_RESPONDER_URL;
    }
  });

  it('a certificate without AIA and no OCSP_RESPONDER_URL fails closed', async () => {
    const handler = await coldHandler();
    const cert = pki.issue({ cn: `${VIN}_ECU-GW-0001`, sanUri: `urn:cv:vin:${VIN}:ecu:ECU-GW-0001` });
    const certificateId = createHash('sha256').update(new X509Certificate(cert.pem).raw).digest('hex');
    certificates.set(certificateId, {
      pem: cert.pem,
      status: 'PENDING_ACTIVATION',
      caCertificateId: OPERATIONAL_CA_ID,
    });

    await expect(handler({ ...sampleEvent, certificateId }, context)).rejects.toThrow();
    expect(mutations()).toEqual([]);
  });
});

describe('re-enrolment retires the previous certificate of the thing', () => {
  const THING = `${VIN}_ECU-GW-0001`;
  const POLICY = `${PREFIX}-ecu-gateway`;
  const denied = () =>
    Object.assign(new Error('not allowed right now'), {
      name: 'InvalidRequestException',
      $metadata: { httpStatusCode: 400 },
    });

  /** Enrols ECU-GW-0001 with a fresh certificate (the broker records its serial) and registers it. */
  async function enrol(handler: Handler, opts: Parameters<typeof register>[1] = {}) {
    const cert = register('ECU-GW-0001', opts);
    row('ECU-GW-0001').certificateSerial = cert.serialNumber;
    const outcome = await handler(cert.event, context);
    return { ...cert, arn: certificateArn(cert.certificateId), outcome };
  }

  const attached = (arn: string) => iot.principalThings.get(arn) ?? [];
  const policyTargets = () => [...(iot.policyTargets.get(POLICY) ?? [])];
  const statusUpdates = () =>
    journal.entries
      .filter((e) => e.command === 'UpdateCertificate')
      .map((e) => `${String(e.input.certificateId).slice(0, 8)}:${String(e.input.newStatus)}`);

  /** A certificate attached to the thing out of band (an earlier registration), with the role policy. */
  function stale(status: string) {
    const { certificateId } = register('ECU-GW-0001', { status });
    const arn = certificateArn(certificateId);
    iot.principalThings.set(arn, [{ thing: THING, type: 'EXCLUSIVE_THING' }]);
    iot.policyTargets.get(POLICY)?.add(arn);
    return { certificateId, arn };
  }

  it('sets the old certificate INACTIVE, detaches its policy and the thing, only after the new one is ACTIVE', async () => {
    const handler = await coldHandler();
    const old = await enrol(handler);
    journal.entries.length = 0;

    const next = await enrol(handler);

    expect(next.outcome).toEqual({
      outcome: 'activated',
      thingName: THING,
      policyName: POLICY,
      retiredCertificateIds: [old.certificateId],
    });
    expect(allCalls()).toEqual([
      'issued:GetItem',
      'iot:DescribeCertificate',
      'registry:GetItem',
      'iot:ListThingPrincipals', // the thing exists and holds the old certificate (the to-do list)
      'iot:DescribeThing', // a read: the existing thing's attributes must agree
      'iot:AttachThingPrincipal',
      'iot:AttachPolicy',
      'registry:UpdateItem',
      'iot:UpdateCertificate', // the new certificate ACTIVE ...
      'iot:DescribeCertificate', // ... then the thing's other certificates are retired
      'iot:UpdateCertificate',
      'iot:DetachPolicy',
      'iot:DetachThingPrincipal',
    ]);
    expect(statusUpdates()).toEqual([
      `${next.certificateId.slice(0, 8)}:ACTIVE`,
      `${old.certificateId.slice(0, 8)}:INACTIVE`,
    ]);
    const detached = journal.entries.filter((e) => e.command.startsWith('Detach'));
    expect(detached.map((e) => e.input)).toEqual([
      { policyName: POLICY, target: old.arn },
      { thingName: THING, principal: old.arn },
    ]);
    expect(certificates.get(old.certificateId)?.status).toBe('INACTIVE');
    expect(certificates.get(next.certificateId)?.status).toBe('ACTIVE');
    expect(attached(old.arn)).toEqual([]);
    expect(attached(next.arn)).toEqual([{ thing: THING, type: 'EXCLUSIVE_THING' }]);
    expect(policyTargets()).toEqual([next.arn]);
    expect(row('ECU-GW-0001')).toMatchObject({ certificateId: next.certificateId });
  });

  it('counts IoT calls on re-enrolment: warm 10, cold 11 (10 when the old certificate is already INACTIVE)', async () => {
    const first = await coldHandler();
    await enrol(first);
    journal.entries.length = 0;
    await enrol(first);
    const warm = iotCalls().length;

    const cold = await coldHandler();
    journal.entries.length = 0;
    await enrol(cold);
    const coldCalls = iotCalls();

    const cold2 = await coldHandler();
    const current = [...certificates.entries()].find(([, c]) => c.status === 'ACTIVE');
    if (current) current[1].status = 'INACTIVE'; // e.g. remediation's deactivateCertificate ran first
    journal.entries.length = 0;
    await enrol(cold2);
    const coldInactive = iotCalls().length;

    expect(warm).toBe(10);
    expect(coldCalls).toEqual([
      'DescribeCertificate',
      'DescribeCACertificate',
      'ListThingPrincipals',
      'DescribeThing',
      'AttachThingPrincipal',
      'AttachPolicy', // the policy exists: no GetPolicy
      'UpdateCertificate',
      'DescribeCertificate',
      'UpdateCertificate',
      'DetachPolicy',
      'DetachThingPrincipal',
    ]);
    expect(coldInactive).toBe(10);
  });

  it('a repeated event converges: no further state-changing call, nothing retired again', async () => {
    const handler = await coldHandler();
    const old = await enrol(handler);
    const next = await enrol(handler);
    journal.entries.length = 0;

    const again = await handler(next.event, context);
    const third = await handler({ ...next.event, timestamp: Date.now() }, context);
    const oldAgain = await handler(old.event, context);

    expect(again).toMatchObject({ outcome: 'already-active', completedSteps: [], retiredCertificateIds: [] });
    expect(third).toMatchObject({ outcome: 'already-active', completedSteps: [], retiredCertificateIds: [] });
    expect(oldAgain).toMatchObject({ outcome: 'skipped', reason: 'status' });
    expect(mutations()).toEqual([]);
    expect(statusUpdates()).toEqual([]);
    expect(certificates.get(old.certificateId)?.status).toBe('INACTIVE');
    expect(certificates.get(next.certificateId)?.status).toBe('ACTIVE');
    expect(attached(old.arn)).toEqual([]);
    expect(attached(next.arn)).toHaveLength(1);
    expect(policyTargets()).toEqual([next.arn]);
  });

  it('a first enrolment (the registry names no certificate): no ListThingPrincipals, nothing retired', async () => {
    const handler = await coldHandler();
    const only = await enrol(handler);

    expect(only.outcome).toMatchObject({ outcome: 'activated', retiredCertificateIds: [] });
    expect(iotCalls().filter((c) => c === 'ListThingPrincipals')).toHaveLength(0);
    expect(iotCalls().at(-1)).toBe('UpdateCertificate');
    expect(iotCalls().filter((c) => c.startsWith('Detach'))).toEqual([]);
    expect(statusUpdates()).toEqual([`${only.certificateId.slice(0, 8)}:ACTIVE`]);
    expect(attached(only.arn)).toHaveLength(1);
  });

  it.each(['INACTIVE', 'REVOKED'])('an old certificate already %s is only detached', async (status) => {
    const handler = await coldHandler();
    const old = await enrol(handler);
    const oldCert = certificates.get(old.certificateId);
    if (oldCert) oldCert.status = status;
    journal.entries.length = 0;

    const next = await enrol(handler);

    expect(next.outcome).toMatchObject({ outcome: 'activated', retiredCertificateIds: [old.certificateId] });
    expect(statusUpdates()).toEqual([`${next.certificateId.slice(0, 8)}:ACTIVE`]);
    expect(iotCalls().slice(-4)).toEqual([
      'UpdateCertificate',
      'DescribeCertificate',
      'DetachPolicy',
      'DetachThingPrincipal',
    ]);
    expect(iotCalls()).toHaveLength(9); // warm re-enrolment, old certificate already unusable
    expect(certificates.get(old.certificateId)?.status).toBe(status);
    expect(attached(old.arn)).toEqual([]);
    expect(policyTargets()).toEqual([next.arn]);
  });

  it('pages through the principals: every stale certificate is retired, a non-certificate principal is left alone', async () => {
    iot = fakeIot({
      certificates,
      caCertificates: new Map([[OPERATIONAL_CA_ID, pki.caPem]]),
      journal,
      principalPageSize: 2,
    });
    seedStackPolicies(iot.policies, PREFIX);
    const handler = await coldHandler();
    const old = await enrol(handler); // creates the thing
    const leftover = stale('PENDING_ACTIVATION'); // an abandoned earlier registration
    const disabled = stale('INACTIVE');
    const cognito = 'eu-west-1:0b7e6c1a-2f3d-4e5f-8a9b-0c1d2e3f4a5b';
    iot.principalThings.set(cognito, [{ thing: THING, type: 'NON_EXCLUSIVE_THING' }]);
    journal.entries.length = 0;

    const next = await enrol(handler);

    // Listed once, before the new certificate is attached: 4 principals, pages of 2.
    expect(iotCalls().filter((c) => c === 'ListThingPrincipals')).toHaveLength(2);
    expect(next.outcome).toMatchObject({ outcome: 'activated' });
    const retired = next.outcome.outcome === 'activated' ? next.outcome.retiredCertificateIds : [];
    expect([...retired].sort()).toEqual(
      [old.certificateId, leftover.certificateId, disabled.certificateId].sort(),
    );
    expect(certificates.get(old.certificateId)?.status).toBe('INACTIVE');
    expect(certificates.get(leftover.certificateId)?.status).toBe('INACTIVE');
    expect(certificates.get(disabled.certificateId)?.status).toBe('INACTIVE');
    expect(statusUpdates()).toHaveLength(3); // new ACTIVE, old and leftover INACTIVE
    for (const arn of [old.arn, leftover.arn, disabled.arn]) expect(attached(arn)).toEqual([]);
    expect(attached(cognito)).toHaveLength(1);
    expect(attached(next.arn)).toHaveLength(1);
    expect(policyTargets()).toEqual([next.arn]);
  });

  it('ListThingPrincipals fails: throws before any write, the new certificate stays PENDING_ACTIVATION', async () => {
    const handler = await coldHandler();
    const old = await enrol(handler);
    const cert = register('ECU-GW-0001');
    row('ECU-GW-0001').certificateSerial = cert.serialNumber;
    iot.failOnce('ListThingPrincipals', denied());
    journal.entries.length = 0;

    await expect(handler(cert.event, context)).rejects.toThrow(/not allowed right now/);

    expect(mutations()).toEqual([]);
    expect(allCalls()).not.toContain('registry:UpdateItem');
    expect(certificates.get(cert.certificateId)?.status).toBe('PENDING_ACTIVATION');
    expect(certificates.get(old.certificateId)?.status).toBe('ACTIVE');
  });

  const failures: [string, string, (input: Record<string, unknown>) => boolean][] = [
    ['DescribeCertificate of the old certificate', 'DescribeCertificate', () => true],
    ['UpdateCertificate INACTIVE', 'UpdateCertificate', (input) => input.newStatus === 'INACTIVE'],
    ['DetachPolicy', 'DetachPolicy', () => true],
    ['DetachThingPrincipal', 'DetachThingPrincipal', () => true],
  ];

  it.each(failures)(
    '%s fails: the invocation throws with the new certificate ACTIVE, the retry completes',
    async (_name, command, when) => {
      const handler = await coldHandler();
      const old = await enrol(handler);
      const cert = register('ECU-GW-0001');
      row('ECU-GW-0001').certificateSerial = cert.serialNumber;
      const next = { ...cert, arn: certificateArn(cert.certificateId) };
      // DescribeCertificate fails only for the old certificate, not the one being registered.
      iot.failOnce(command, denied(), (input) =>
        command === 'DescribeCertificate'
          ? input.certificateId === old.certificateId && when(input)
          : when(input),
      );

      const failed = handler(next.event, context);

      await expect(failed).rejects.toThrow(/is ACTIVE but/);
      await expect(failed).rejects.toMatchObject({ name: 'CertificateRetirementError' });
      expect(certificates.get(next.certificateId)?.status).toBe('ACTIVE');
      expect(attached(next.arn)).toHaveLength(1);
      expect(attached(old.arn)).toHaveLength(1); // detached last: still on the to-do list
      journal.entries.length = 0;

      const retried = await handler(next.event, context);

      expect(retried).toMatchObject({
        outcome: 'already-active',
        completedSteps: [],
        retiredCertificateIds: [old.certificateId],
      });
      expect(certificates.get(old.certificateId)?.status).toBe('INACTIVE');
      expect(certificates.get(next.certificateId)?.status).toBe('ACTIVE');
      expect(attached(old.arn)).toEqual([]);
      expect(policyTargets()).toEqual([next.arn]);
      // The retry sets INACTIVE only if the failed invocation had not got that far.
      expect(statusUpdates().filter((u) => u.endsWith(':INACTIVE')).length).toBe(
        command === 'DetachPolicy' || command === 'DetachThingPrincipal' ? 0 : 1,
      );
    },
  );

  const notRegistered: [string, () => void, Parameters<typeof register>[1], string][] = [
    ['OCSP says revoked', () => undefined, { state: 'revoked' }, 'revoked'],
    ['serial is not the one last issued', () => undefined, {}, 'skipped'],
    [
      'ECU blocked',
      () => {
        row('ECU-GW-0001').status = 'BLOCKED';
      },
      {},
      'skipped',
    ],
  ];

  it.each(notRegistered)('%s: nothing is retired', async (name, arrange, opts, outcome) => {
    const handler = await coldHandler();
    const old = await enrol(handler);
    arrange();
    journal.entries.length = 0;

    const cert = register('ECU-GW-0001', opts);
    if (name !== 'serial is not the one last issued')
      row('ECU-GW-0001').certificateSerial = cert.serialNumber;
    const result = await handler(cert.event, context);

    expect(result).toMatchObject({ outcome });
    expect(iotCalls()).not.toContain('ListThingPrincipals');
    expect(iotCalls().filter((c) => c.startsWith('Detach'))).toEqual([]);
    expect(certificates.get(old.certificateId)?.status).toBe('ACTIVE');
    expect(attached(old.arn)).toHaveLength(1);
  });
});

describe('IoT throttling', () => {
  const throttle = () =>
    Object.assign(new Error('Rate exceeded'), {
      name: 'ThrottlingException',
      $metadata: { httpStatusCode: 429 },
    });

  it('is retried with backoff and the registration completes', async () => {
    const handler = await coldHandler();
    const { event, certificateId } = register('ECU-GW-0001');
    const { AttachPolicyCommand } = await import('@aws-sdk/client-iot');
    let throttled = 0;
    iot.mock.on(AttachPolicyCommand as never).callsFake(async (input: Record<string, unknown>) => {
      journal.entries.push({ service: 'iot', command: 'AttachPolicy', input });
      if (throttled < 2) {
        throttled += 1;
        throw throttle();
      }
      return {};
    });

    await expect(handler(event, context)).resolves.toMatchObject({ outcome: 'activated' });
    expect(throttled).toBe(2);
    expect(iotCalls().filter((c) => c === 'AttachPolicy')).toHaveLength(3);
    expect(certificates.get(certificateId)?.status).toBe('ACTIVE');
  });

  it('that persists fails the invocation and never leaves the certificate ACTIVE without its thing attachment', async () => {
    const handler = await coldHandler();
    const { event, certificateId } = register('ECU-GW-0001');
    const { AttachThingPrincipalCommand } = await import('@aws-sdk/client-iot');
    iot.mock.on(AttachThingPrincipalCommand as never).rejects(throttle());

    await expect(handler(event, context)).rejects.toThrow(/Rate exceeded/);
    expect(certificates.get(certificateId)?.status).toBe('PENDING_ACTIVATION');
    expect(activations()).toHaveLength(0);
    expect(allCalls()).not.toContain('registry:UpdateItem');
  });
});

describe('malformed events', () => {
  it.each([
    ['missing certificateId', { ...sampleEvent, certificateId: undefined }],
    ['certificateId not hex', { ...sampleEvent, certificateId: 'x'.repeat(64) }],
    ['not an object', 'certificateId'],
  ])('%s -> throws before any AWS call', async (_name, event) => {
    const handler = await coldHandler();

    await expect(handler(event as never, context)).rejects.toThrow();
    expect(journal.entries).toEqual([]);
  });
});

describe('policy name', () => {
  it('is the policy library name of the role', () => {
    expect(iotPolicyName('gateway', { prefix: PREFIX })).toBe(`${PREFIX}-ecu-gateway`);
  });
});

import { createHash, X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { iotPolicyName, renderIotPolicy } from '@cv/policy';
import type { Context } from 'aws-lambda';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  ACCOUNT,
  certificateArn,
  type FakeCertificate,
  fakeIot,
  fakeRegistry,
  type Journal,
  OPERATIONAL_CA_ID,
  OTHER_CA_ID,
  REGION,
  type RegistryRow,
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
const ROLE_ALIAS = 'cv-security-dev-ecu';
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
  'CreatePolicy',
  'AttachPolicy',
  'AttachThingPrincipal',
  'UpdateCertificate',
];
const mutations = () => iotCalls().filter((c) => MUTATIONS.includes(c));

beforeAll(async () => {
  pki = new OperationalPki();
  responder = await startOpensslResponder(pki, 'delegated');
  rogueResponder = await startOpensslResponder(pki, 'rogue');
  Object.assign(process.env, {
    ECU_REGISTRY_TABLE: 'cv-security-dev-ecu-registry',
    OPERATIONAL_CA_CERTIFICATE_ID: OPERATIONAL_CA_ID,
    OCSP_ALLOWED_HOSTS: '127.0.0.1',
    OCSP_TIMEOUT_MS: '3000',
    IOT_POLICY_PREFIX: PREFIX,
    IOT_ROLE_ALIAS: ROLE_ALIAS,
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
  it('runs the steps in order and activates last (cold container: 8 IoT calls, policy created once)', async () => {
    const handler = await coldHandler();
    const { event, certificateId, serialNumber } = register('ECU-GW-0001');
    row('ECU-GW-0001').certificateSerial = serialNumber;

    const outcome = await handler(event, context);

    expect(outcome).toEqual({
      outcome: 'activated',
      thingName: `${VIN}_ECU-GW-0001`,
      policyName: `${PREFIX}-ecu-gateway`,
    });
    expect(allCalls()).toEqual([
      'iot:DescribeCertificate',
      'iot:DescribeCACertificate',
      'registry:GetItem',
      'iot:CreateThing',
      'iot:GetPolicy',
      'iot:CreatePolicy',
      'iot:AttachPolicy',
      'iot:AttachThingPrincipal',
      'registry:UpdateItem',
      'iot:UpdateCertificate',
    ]);
    expect(responder.requests()).toBeGreaterThan(0);
    expect(certificates.get(certificateId)?.status).toBe('ACTIVE');
    expect(iot.things.get(`${VIN}_ECU-GW-0001`)).toEqual({ vin: VIN, ecuId: 'ECU-GW-0001', role: 'gateway' });
    expect(JSON.parse(iot.policies.get(`${PREFIX}-ecu-gateway`) ?? '{}')).toEqual(
      renderIotPolicy('gateway', { region: REGION, accountId: ACCOUNT, roleAlias: ROLE_ALIAS }),
    );
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

  it('converges on the repeated event with no error and no duplicate resources', async () => {
    const handler = await coldHandler();
    const { event, certificateId } = register('ECU-GW-0001');
    await handler(event, context);
    journal.entries.length = 0;

    const again = await handler(event, context);
    const third = await handler({ ...event, timestamp: Date.now() }, context);

    expect(again).toMatchObject({ outcome: 'activated' });
    expect(third).toMatchObject({ outcome: 'activated' });
    expect(iot.things.size).toBe(1);
    expect(iot.policies.size).toBe(1);
    expect(iotCalls().filter((c) => c === 'CreatePolicy' || c === 'GetPolicy')).toEqual([]);
    expect(iot.principalThings.get(certificateArn(certificateId))).toHaveLength(1);
    expect(iot.policyTargets.get(`${PREFIX}-ecu-gateway`)?.size).toBe(1);
    expect(certificates.get(certificateId)?.status).toBe('ACTIVE');
  });

  it('counts IoT control-plane calls: cold 8 (7 once the policy exists), warm 5', async () => {
    const cold = await coldHandler();
    await cold(register('ECU-GW-0001').event, context);
    const coldFirstInAccount = iotCalls().length;
    journal.entries.length = 0;

    await cold(register('ECU-GW-0003').event, context);
    const warm = iotCalls();
    journal.entries.length = 0;

    const cold2 = await coldHandler();
    await cold2(register('ECU-TCU-0002').event, context);
    const coldNewRole = iotCalls().length;
    journal.entries.length = 0;
    await cold2(register('ECU-GW-0001').event, context);
    const coldContainerExistingPolicy = iotCalls();

    expect(coldFirstInAccount).toBe(8);
    expect(warm).toEqual([
      'DescribeCertificate',
      'CreateThing',
      'AttachPolicy',
      'AttachThingPrincipal',
      'UpdateCertificate',
    ]);
    expect(coldNewRole).toBe(8); // telematics policy did not exist yet in the account
    // Same container, CA cached, gateway policy exists in the account but not yet known to this container.
    expect(coldContainerExistingPolicy).toEqual([
      'DescribeCertificate',
      'CreateThing',
      'GetPolicy',
      'AttachPolicy',
      'AttachThingPrincipal',
      'UpdateCertificate',
    ]);
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

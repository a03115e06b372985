/**
 * Request-rate quotas of the local cloud: token buckets per quota (clock injected), the
 * service's own throttling error on the wire for the real SDK clients, nothing served when
 * throttled, the SDK's retries getting through, and quotas off by default.
 */
import { webcrypto } from 'node:crypto';
import { ACMPCAClient, IssueCertificateCommand } from '@aws-sdk/client-acm-pca';
import { CreateThingCommand, DescribeThingCommand, IoTClient } from '@aws-sdk/client-iot';
import { IoTDataPlaneClient, PublishCommand } from '@aws-sdk/client-iot-data-plane';
import { KMSClient, SignCommand } from '@aws-sdk/client-kms';
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import {
  AWS_DEFAULT_QUOTAS,
  LocalCloud,
  QuotaEnforcer,
  type QuotaSpec,
  restOperation,
  throttlingError,
  x509,
} from '../src/index.js';

const SIGN_KEY = '11111111-2222-4333-8444-555555555555';
let cloud: LocalCloud | undefined;
afterEach(async () => {
  await cloud?.stop();
  cloud = undefined;
});

const spec = (perSecond: number): QuotaSpec => ({
  name: 'svc:Op',
  service: 'svc',
  operations: ['Op', 'Other'],
  perSecond,
  source: 'test',
});

/** A clock the test moves by hand (milliseconds). */
function manualClock(): { now: () => number; advance: (ms: number) => void } {
  let t = 1_000;
  return { now: () => t, advance: (ms) => (t += ms) };
}

describe('QuotaEnforcer (token bucket per quota)', () => {
  it('admits one quota second of calls at once, refuses the next, and refills at rate x timeScale', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 400 }), fc.constantFrom(1, 2, 5, 10), (perSecond, timeScale) => {
        const clock = manualClock();
        const q = new QuotaEnforcer({ quotas: [spec(perSecond)], timeScale, now: clock.now });
        const burst = Math.max(1, Math.floor(perSecond * timeScale));
        for (let i = 0; i < burst; i++) expect(q.admit('svc', i % 2 ? 'Op' : 'Other')).toBe(true);
        expect(q.admit('svc', 'Op')).toBe(false);
        // One real second later: exactly another quota second (x timeScale) of calls, no more.
        clock.advance(1000);
        let admitted = 0;
        while (q.admit('svc', 'Op')) admitted += 1;
        expect(admitted).toBe(burst);
        const [stats] = q.stats();
        expect(stats?.allowed).toBe(2 * burst);
        expect(stats?.throttled).toBe(2);
      }),
      // 203 x 5: the refill once computed 1000 ms x 1.015 = 1014.999..., one call short.
      { examples: [[203, 5]] },
    );
  });

  it('below one call per real second (rate x timeScale < 1), one call then one more per 1 / (rate x timeScale) seconds', () => {
    const clock = manualClock();
    const q = new QuotaEnforcer({ quotas: [spec(1)], timeScale: 0.5, now: clock.now });
    expect(q.admit('svc', 'Op')).toBe(true);
    expect(q.admit('svc', 'Op')).toBe(false);
    clock.advance(1999);
    expect(q.admit('svc', 'Op')).toBe(false);
    clock.advance(1);
    expect(q.admit('svc', 'Op')).toBe(true);
    expect(q.admit('svc', 'Op')).toBe(false);
  });

  it('never admits more than capacity + rate x elapsed, whatever the arrival pattern', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 100 }),
        fc.array(fc.integer({ min: 0, max: 300 }), { minLength: 1, maxLength: 200 }),
        (perSecond, gaps) => {
          const clock = manualClock();
          const q = new QuotaEnforcer({ quotas: [spec(perSecond)], now: clock.now });
          let admitted = 0;
          let elapsed = 0;
          for (const gap of gaps) {
            clock.advance(gap);
            elapsed += gap;
            if (q.admit('svc', 'Op')) admitted += 1;
          }
          expect(admitted).toBeLessThanOrEqual(perSecond + Math.floor((perSecond * elapsed) / 1000) + 1);
        },
      ),
    );
  });

  it('leaves unlisted operations alone, applies overrides, and scales latency down by timeScale', () => {
    const clock = manualClock();
    const q = new QuotaEnforcer({
      quotas: [spec(1)],
      overrides: { 'svc:Op': 3 },
      timeScale: 4,
      latencyMs: { svc: 100, 'svc:Op': 40 },
      now: clock.now,
    });
    for (let i = 0; i < 1000; i++) expect(q.admit('svc', 'Unlisted')).toBe(true);
    let n = 0;
    while (q.admit('svc', 'Op')) n += 1;
    expect(n).toBe(12);
    expect(q.delayMs('svc', 'Op')).toBe(10);
    expect(q.delayMs('svc', 'Other')).toBe(25);
    expect(() => new QuotaEnforcer({ timeScale: 0 })).toThrow(RangeError);
  });

  it('refuses a quota list that puts one operation in two buckets (the second would silently replace the first)', () => {
    const a: QuotaSpec = { ...spec(5), name: 'svc:A', operations: ['Op'] };
    const b: QuotaSpec = { ...spec(7), name: 'svc:B', operations: ['Other', 'Op'] };
    expect(() => new QuotaEnforcer({ quotas: [a, b] })).toThrow(/svc:Op is in two quotas \(svc:A, svc:B\)/);
    // The same operation name under another service is another call.
    expect(() => new QuotaEnforcer({ quotas: [a, { ...b, service: 'other' }] })).not.toThrow();
    // The defaults: every service:operation in exactly one quota.
    const keys = AWS_DEFAULT_QUOTAS.flatMap((q) => q.operations.map((op) => `${q.service}:${op}`));
    expect(new Set(keys).size).toBe(keys.length);
    expect(() => new QuotaEnforcer()).not.toThrow();
  });

  it('refuses an override of a quota that does not exist, and a rate that is not a positive number', () => {
    // A misspelt name would leave the default in force without a word.
    expect(() => new QuotaEnforcer({ overrides: { 'iot:UpdateCertificat': 50 } })).toThrow(/unknown quota/);
    expect(
      () => new QuotaEnforcer({ quotas: [spec(1)], overrides: { 'iot:UpdateCertificate': 50 } }),
    ).toThrow(/unknown quota: iot:UpdateCertificate/);
    for (const bad of [0, -1, Number.NaN, Number.POSITIVE_INFINITY]) {
      expect(() => new QuotaEnforcer({ overrides: { 'kms:ecc': bad } }), String(bad)).toThrow(RangeError);
      expect(() => new QuotaEnforcer({ quotas: [spec(bad)] }), String(bad)).toThrow(RangeError);
    }
    const q = new QuotaEnforcer({ overrides: { 'iot:UpdateCertificate': 50 } });
    expect(q.quotaOf('iot', 'UpdateCertificate')?.perSecond).toBe(50);
  });

  it('records for every default quota its AWS page and where the number was seen, and maps every quota-d IoT route to its operation', () => {
    for (const q of AWS_DEFAULT_QUOTAS) {
      expect(q.source, q.name).toMatch(/^https:\/\/docs\.aws\.amazon\.com\//);
      expect(q.perSecond, q.name).toBeGreaterThan(0);
      expect(q.evidence?.length ?? 0, q.name).toBeGreaterThan(10);
      if (q.quotaCode !== undefined) expect(q.quotaCode, q.name).toMatch(/^L-[0-9A-F]{8}$/);
    }
    expect(restOperation('iot', 'PUT', '/things/VIN_ECU/principals')).toBe('AttachThingPrincipal');
    expect(restOperation('iot', 'GET', '/things/VIN_ECU/principals')).toBe('ListThingPrincipals');
    expect(restOperation('iot', 'PUT', '/certificates/abc')).toBe('UpdateCertificate');
    expect(restOperation('iot', 'POST', '/certificate/register')).toBe('RegisterCertificate');
    expect(restOperation('iot', 'POST', '/certificate/register-no-ca')).toBe('RegisterCertificateWithoutCA');
    expect(restOperation('iotdata', 'POST', '/topics/ecus%2Fx%2Fcommands')).toBe('Publish');
    expect(restOperation('iot', 'GET', '/nothing')).toBeUndefined();
    const iotOps = AWS_DEFAULT_QUOTAS.filter((q) => q.service === 'iot').flatMap((q) => q.operations);
    const routed = new Set(
      iotOps.filter((op) =>
        [
          ['POST', '/things/t'],
          ['GET', '/things/t'],
          ['PUT', '/things/t/principals'],
          ['DELETE', '/things/t/principals'],
          ['GET', '/things/t/principals'],
          ['GET', '/principals/things'],
          ['GET', '/things/t/thing-groups'],
          ['GET', '/certificates/c'],
          ['PUT', '/certificates/c'],
          ['POST', '/certificate/register'],
          ['POST', '/certificate/register-no-ca'],
          ['GET', '/cacertificate/c'],
          ['POST', '/policies/p'],
          ['GET', '/policies/p'],
          ['POST', '/policies/p/version'],
          ['GET', '/policies/p/version'],
          ['DELETE', '/policies/p/version/2'],
          ['PUT', '/target-policies/p'],
          ['POST', '/target-policies/p'],
          ['POST', '/policy-targets/p'],
          ['POST', '/effective-policies'],
          ['PUT', '/thing-groups/addThingToThingGroup'],
          ['PUT', '/thing-groups/removeThingFromThingGroup'],
          ['PUT', '/jobs/j'],
        ].some(([m, p]) => restOperation('iot', m ?? '', p ?? '') === op),
      ),
    );
    expect([...routed].sort()).toEqual([...iotOps].sort());
  });

  it('answers each service with its own throttling error: HTTP 429 only for the IoT data plane', () => {
    expect(throttlingError('iotdata')).toMatchObject({ code: 'ThrottlingException', statusCode: 429 });
    for (const service of ['kms', 'acm-pca', 'iot', 'ssm']) {
      expect(throttlingError(service)).toMatchObject({ code: 'ThrottlingException', statusCode: 400 });
    }
  });
});

async function csrPem(): Promise<string> {
  const alg = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' };
  const keys = (await webcrypto.subtle.generateKey(alg, true, ['sign', 'verify'])) as webcrypto.CryptoKeyPair;
  const csr = await x509.Pkcs10CertificateRequestGenerator.create({
    name: 'CN=quota',
    keys,
    signingAlgorithm: alg,
  } as never);
  return csr.toString('pem');
}

/** A frozen clock: buckets never refill, so the (N+1)th call within the test is throttled. */
const frozen = (overrides: Record<string, number>) => new QuotaEnforcer({ overrides, now: () => 0 });

describe('quotas over the wire (real SDK v3 clients, one attempt)', () => {
  it('Private CA IssueCertificate: ThrottlingException (400) past the quota, and nothing issued', async () => {
    cloud = await LocalCloud.start({ quotas: frozen({ 'acm-pca:IssueCertificate': 2 }) });
    const pca = new ACMPCAClient({ ...cloud.clientConfig(), maxAttempts: 1 });
    const issue = async () =>
      pca.send(
        new IssueCertificateCommand({
          CertificateAuthorityArn: cloud?.pca.caArn,
          Csr: Buffer.from(await csrPem()),
          SigningAlgorithm: 'SHA256WITHECDSA',
          Validity: { Type: 'DAYS', Value: 30 },
        }),
      );
    await issue();
    await issue();
    const issued = cloud.pca.issued.size;
    const error = await issue().catch((e: unknown) => e);
    expect(error).toMatchObject({ name: 'ThrottlingException', $metadata: { httpStatusCode: 400 } });
    expect(cloud.pca.issued.size).toBe(issued);
    expect(cloud.quotas?.stats().find((s) => s.spec.name === 'acm-pca:IssueCertificate')).toMatchObject({
      allowed: 2,
      throttled: 1,
    });
  });

  it('KMS Sign (ECC quota): ThrottlingException (400), no signature; IoT CreateThing (400), no thing; data-plane Publish (429), nothing published', async () => {
    cloud = await LocalCloud.start({
      kmsKeys: [{ keyId: SIGN_KEY, spec: 'ECC_NIST_P256' }],
      quotas: frozen({ 'kms:ecc': 1, 'iot:CreateThing': 1, 'iotdata:Publish': 1 }),
    });
    const config = { ...cloud.clientConfig(), maxAttempts: 1 };
    const kms = new KMSClient(config);
    const sign = () =>
      kms.send(
        new SignCommand({
          KeyId: SIGN_KEY,
          Message: Buffer.from('m'),
          MessageType: 'RAW',
          SigningAlgorithm: 'ECDSA_SHA_256',
        }),
      );
    await sign();
    const signs = cloud.kms.calls.get('Sign');
    await expect(sign()).rejects.toMatchObject({
      name: 'ThrottlingException',
      $metadata: { httpStatusCode: 400 },
    });
    expect(cloud.kms.calls.get('Sign')).toBe(signs);

    const iot = new IoTClient(config);
    await iot.send(new CreateThingCommand({ thingName: 'first' }));
    await expect(iot.send(new CreateThingCommand({ thingName: 'second' }))).rejects.toMatchObject({
      name: 'ThrottlingException',
      $metadata: { httpStatusCode: 400 },
    });
    expect(cloud.iot.things.has('second')).toBe(false);
    // Another operation has its own bucket.
    await expect(iot.send(new DescribeThingCommand({ thingName: 'first' }))).resolves.toBeDefined();

    const data = new IoTDataPlaneClient(config);
    await data.send(new PublishCommand({ topic: 'a/b', qos: 1, payload: Buffer.from('1') }));
    await expect(
      data.send(new PublishCommand({ topic: 'a/b', qos: 1, payload: Buffer.from('2') })),
    ).rejects.toMatchObject({ name: 'ThrottlingException', $metadata: { httpStatusCode: 429 } });
    expect(cloud.published.map((p) => p.payload.toString())).toEqual(['1']);
  });

  it('the SDK retries throttled calls (adaptive mode) until every call is served once', async () => {
    cloud = await LocalCloud.start({ quotas: { overrides: { 'iot:CreateThing': 5 } } });
    const iot = new IoTClient({ ...cloud.clientConfig(), retryMode: 'adaptive', maxAttempts: 10 });
    const names = Array.from({ length: 12 }, (_, i) => `retry-${i}`);
    const out = await Promise.all(names.map((thingName) => iot.send(new CreateThingCommand({ thingName }))));
    const stats = cloud.quotas?.stats().find((s) => s.spec.name === 'iot:CreateThing');
    expect(stats?.throttled).toBeGreaterThan(0);
    expect(stats?.allowed).toBe(names.length);
    expect(out.some((o) => (o.$metadata.attempts ?? 1) > 1)).toBe(true);
    for (const n of names) expect(cloud.iot.things.has(n)).toBe(true);
    expect(cloud.iot.calls.get('CreateThing')).toBe(names.length);
  }, 60_000);

  it('is off by default: a burst far over every quota is served', async () => {
    cloud = await LocalCloud.start();
    expect(cloud.quotas).toBeUndefined();
    const iot = new IoTClient({ ...cloud.clientConfig(), maxAttempts: 1 });
    const names = Array.from({ length: 40 }, (_, i) => `free-${i}`);
    await Promise.all(names.map((thingName) => iot.send(new CreateThingCommand({ thingName }))));
    expect(cloud.iot.calls.get('CreateThing')).toBe(40);
  });
});

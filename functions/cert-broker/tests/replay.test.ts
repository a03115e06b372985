/**
 * Issue 12 item 6: a proof of possession is used for one issuance only, whatever the clocks.
 * Private CA remembers idempotency tokens for five minutes (the fake CA too, on the fake clock)
 * while a signed proof is acceptable for ten (signedAt may be five minutes ahead): a replay in
 * between must get the certificate already issued, never a second one, and never move the
 * registry's serial. Also: equivalent encodings of the same proof, mutual TLS, concurrency,
 * and partial failures that a retry of the same proof completes.
 */
import { IssueCertificateCommand } from '@aws-sdk/client-acm-pca';
import { afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { fakePca, fakeRegistry } from './helpers/aws.js';
import {
  type Handler,
  int1Attestation,
  isoAt,
  postTo,
  signedBodyFor,
  startBroker,
} from './helpers/broker.js';
import { buildWorld, ECU_ID, freshCsr, type World } from './helpers/world.js';

const MINUTE = 60_000;
/** Order of the P-256 group: (r, s) and (r, n - s) are both valid ECDSA signatures. */
const P256_N = BigInt('0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551');

let world: World;
let handler: Handler;
let pca: ReturnType<typeof fakePca>;
let registry: ReturnType<typeof fakeRegistry>;

beforeAll(async () => {
  world = await buildWorld();
  handler = await startBroker(world.trustBundlePem);
});

beforeEach(() => {
  vi.useFakeTimers({ toFake: ['Date'] });
  vi.setSystemTime(new Date('2026-12-03T10:00:00Z'));
  pca = fakePca(world.opIssuing, world.opChainPem);
  registry = fakeRegistry([world.activeEcu]);
});

afterEach(() => {
  vi.useRealTimers();
});

const advance = (ms: number) => vi.setSystemTime(new Date(Date.now() + ms));
const issueCalls = () => pca.mock.commandCalls(IssueCertificateCommand as never).length;

/** The same ECDSA signature in its other valid form, (r, n - s), DER-encoded. */
function malleate(signatureB64: string): string {
  const der = Buffer.from(signatureB64, 'base64');
  const rLen = der[3] ?? 0;
  const r = der.subarray(4, 4 + rLen);
  const s = BigInt(`0x${der.subarray(6 + rLen).toString('hex')}`);
  const integer = (bytes: Buffer) => {
    const body = (bytes[0] ?? 0) & 0x80 ? Buffer.concat([Buffer.from([0]), bytes]) : bytes;
    return Buffer.concat([Buffer.from([0x02, body.length]), body]);
  };
  const twin = P256_N - s;
  const hex = twin
    .toString(16)
    .padStart(64, '0')
    .replace(/^(00)+(?=[0-7])/, '');
  const content = Buffer.concat([integer(r), integer(Buffer.from(hex, 'hex'))]);
  return Buffer.concat([Buffer.from([0x30, content.length]), content]).toString('base64');
}

describe('replay ledger: one issuance per proof of possession', () => {
  it('a replay after the PCA idempotency window (signedAt 4 min ahead, replayed 8 min later) returns the same certificate, issues nothing, moves nothing', async () => {
    const body = signedBodyFor((await freshCsr()).pem, int1Attestation(world), isoAt(4 * MINUTE));
    const first = await postTo(handler, body);
    expect(first.status).toBe(201);
    const rowAfterFirst = structuredClone(registry.table.get(ECU_ID));

    advance(8 * MINUTE); // past PCA's 5-minute token memory, still within signedAt + 5 minutes
    const replay = await postTo(handler, body);

    expect(replay.status).toBe(201);
    expect(replay.body).toEqual(first.body);
    expect(issueCalls()).toBe(1);
    expect(pca.issuedCount()).toBe(1);
    expect(registry.updates).toHaveLength(1);
    expect(registry.table.get(ECU_ID)).toEqual(rowAfterFirst);
    expect(registry.table.get(ECU_ID)?.certificateSerial).toBe(first.body.serialNumber);
  });

  it('the same proof in another encoding (malleated ECDSA signature, CRLF PEM, re-wrapped base64) is the same proof', async () => {
    const csr = (await freshCsr()).pem;
    const body = signedBodyFor(csr, int1Attestation(world), isoAt(4 * MINUTE));
    const first = await postTo(handler, body);
    expect(first.status).toBe(201);
    advance(6 * MINUTE); // past PCA's token memory, within the proof's acceptance
    const b64 = csr.replace(/-----[^-]+-----|\s/g, '');
    const variants = [
      { ...body, attestation: { ...body.attestation, signature: malleate(body.attestation.signature) } },
      { ...body, csr: csr.replace(/\n/g, '\r\n') },
      {
        ...body,
        csr: `-----BEGIN CERTIFICATE REQUEST-----\n${b64.match(/.{1,76}/g)?.join('\n')}\n-----END CERTIFICATE REQUEST-----\n`,
      },
    ];
    expect(variants[0]?.attestation.signature).not.toBe(body.attestation.signature);

    for (const variant of variants) {
      const replay = await postTo(handler, variant);
      expect(replay.status).toBe(201);
      expect(replay.body.serialNumber).toBe(first.body.serialNumber);
    }
    expect(issueCalls()).toBe(1);
    expect(pca.issuedCount()).toBe(1);
    expect(registry.updates).toHaveLength(1);
  });

  it('mutual TLS: the same CSR from the same attestation key after the PCA window is answered with the certificate already issued', async () => {
    const csr = (await freshCsr()).pem;
    const first = await postTo(handler, { csr }, world.attestation.pem);
    advance(60 * MINUTE);

    const again = await postTo(handler, { csr }, world.attestation.pem);

    expect([first.status, again.status]).toEqual([201, 201]);
    expect(again.body.serialNumber).toBe(first.body.serialNumber);
    expect(pca.issuedCount()).toBe(1);
    expect(registry.updates).toHaveLength(1);
  });

  it('a new proof (new signedAt) is a new enrolment; the ledger keeps each proof for at least the acceptance window', async () => {
    const csr = (await freshCsr()).pem;
    const signedAt = isoAt(5 * MINUTE);
    const first = await postTo(handler, signedBodyFor(csr, int1Attestation(world), signedAt));
    advance(6 * MINUTE);
    const second = await postTo(handler, signedBodyFor(csr, int1Attestation(world), isoAt()));

    expect([first.status, second.status]).toEqual([201, 201]);
    expect(second.body.serialNumber).not.toBe(first.body.serialNumber);
    const ttls = [...registry.ledger.values()].map((row) => Number(row.ttl));
    expect(ttls).toHaveLength(2);
    // Far beyond signedAt + 5 minutes (the last moment a proof is acceptable), on any row.
    expect(Math.min(...ttls)).toBeGreaterThan(Date.parse(signedAt) / 1000 + 3600);
  });

  it('two identical requests at once: one certificate; each caller gets it or a 409 with Retry-After, and a retry gets it', async () => {
    const body = signedBodyFor((await freshCsr()).pem, int1Attestation(world));

    const both = await Promise.all([postTo(handler, body), postTo(handler, body)]);

    expect(pca.issuedCount()).toBe(1);
    expect(issueCalls()).toBe(1);
    const winner = both.find((r) => r.status === 201);
    expect(winner).toBeDefined();
    for (const res of both) {
      if (res.status === 201) {
        expect(res.body.serialNumber).toBe(winner?.body.serialNumber);
      } else {
        expect(res.status).toBe(409);
        expect(res.body.error).toBe('enrolment_in_progress');
        expect(Number(res.headers['Retry-After'])).toBeGreaterThan(0);
      }
    }
    const retry = await postTo(handler, body);
    expect(retry.body.serialNumber).toBe(winner?.body.serialNumber);
    expect(registry.table.get(ECU_ID)?.certificateSerial).toBe(winner?.body.serialNumber);
  });

  it('PCA throttles after the proof was claimed: 429, and a retry of the same proof completes (not locked out)', async () => {
    const body = signedBodyFor((await freshCsr()).pem, int1Attestation(world));
    pca.failIssue.push(
      Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException', $metadata: {} }),
    );

    const throttled = await postTo(handler, body);
    const retry = await postTo(handler, body);

    expect(throttled.status).toBe(429);
    expect(retry.status).toBe(201);
    expect(pca.issuedCount()).toBe(1);
    expect(registry.table.get(ECU_ID)?.certificateSerial).toBe(retry.body.serialNumber);
  });

  it('issued at PCA but the registry write failed: a retry after the token window completes with that certificate, never a second one', async () => {
    const body = signedBodyFor((await freshCsr()).pem, int1Attestation(world), isoAt(4 * MINUTE));
    registry.failUpdates.push(
      Object.assign(new Error('slow down'), {
        name: 'ProvisionedThroughputExceededException',
        $metadata: {},
      }),
    );

    const failed = await postTo(handler, body);
    expect(failed.status).toBe(429);
    expect(registry.table.get(ECU_ID)?.certificateSerial).toBeUndefined();
    expect([...registry.ledger.values()]).toEqual([
      expect.objectContaining({ state: 'ISSUED', certificateArn: expect.any(String), leaseUntil: 0 }),
    ]);
    advance(8 * MINUTE);
    const retry = await postTo(handler, body);

    expect(retry.status).toBe(201);
    expect(issueCalls()).toBe(1);
    expect(pca.issuedCount()).toBe(1);
    expect(registry.table.get(ECU_ID)?.certificateSerial).toBe(retry.body.serialNumber);
    // The issued-certificate record is written once the registry has the certificate, not before.
    expect(registry.issuedWrites).toHaveLength(1);
    expect([...registry.issued.values()]).toEqual([
      expect.objectContaining({ ecuId: ECU_ID, serialNumber: retry.body.serialNumber }),
    ]);
  });

  // What a DynamoDB call can end in once the SDK has spent its own retries under load: none of them may be a
  // final 500 after the CA issued, since the ECU does not retry an internal error and the certificate is lost.
  const spentRetries: [string, () => Error][] = [
    [
      'a request timeout (TimeoutError)',
      () => Object.assign(new Error('timed out'), { name: 'TimeoutError' }),
    ],
    [
      'a reset connection (ECONNRESET)',
      () => Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' }),
    ],
    ['a broken pipe (EPIPE)', () => Object.assign(new Error('write EPIPE'), { code: 'EPIPE' })],
    [
      'a refused connection (ECONNREFUSED)',
      () => Object.assign(new Error('connect'), { code: 'ECONNREFUSED' }),
    ],
    ['a DNS failure (EAI_AGAIN)', () => Object.assign(new Error('getaddrinfo'), { code: 'EAI_AGAIN' })],
    [
      'a wrapper whose cause is a reset',
      () =>
        Object.assign(new Error('request failed'), {
          cause: Object.assign(new Error('x'), { code: 'ECONNRESET' }),
        }),
    ],
    [
      'RequestTimeoutException',
      () => Object.assign(new Error('slow'), { name: 'RequestTimeoutException', $metadata: {} }),
    ],
  ];
  for (const [what, failure] of spentRetries) {
    it(`issued at PCA, then the registry write ends in ${what}: 503 with Retry-After, and the retry completes with that certificate`, async () => {
      const body = signedBodyFor((await freshCsr()).pem, int1Attestation(world), isoAt(4 * MINUTE));
      registry.failUpdates.push(failure());

      const failed = await postTo(handler, body);
      advance(8 * MINUTE);
      const retry = await postTo(handler, body);

      expect(failed.status).toBe(503);
      expect(Number(failed.headers['Retry-After'])).toBeGreaterThan(0);
      expect(retry.status).toBe(201);
      expect(issueCalls()).toBe(1);
      expect(pca.issuedCount()).toBe(1);
      expect(registry.table.get(ECU_ID)?.certificateSerial).toBe(retry.body.serialNumber);
    });
  }

  it('the issued-certificate record write fails: 201 with the certificate, one issuance; a replay answers the same certificate and issues nothing', async () => {
    const body = signedBodyFor((await freshCsr()).pem, int1Attestation(world), isoAt(4 * MINUTE));
    registry.failIssuedPuts.push(
      Object.assign(new Error('slow down'), {
        name: 'ProvisionedThroughputExceededException',
        $metadata: {},
      }),
    );

    const first = await postTo(handler, body);
    advance(8 * MINUTE);
    const replay = await postTo(handler, body);

    expect(first.status).toBe(201);
    expect(registry.issued.size).toBe(0); // jitr-handler falls back to DescribeCertificate
    expect(registry.table.get(ECU_ID)?.certificateSerial).toBe(first.body.serialNumber);
    expect(replay.status).toBe(201);
    expect(replay.body.serialNumber).toBe(first.body.serialNumber);
    expect(issueCalls()).toBe(1);
    expect(pca.issuedCount()).toBe(1);
  });

  it('an invocation that died holding the proof: 409 until its lease lapses, then a retry completes it', async () => {
    const body = signedBodyFor((await freshCsr()).pem, int1Attestation(world));
    pca.failIssue.push(Object.assign(new Error('boom'), { name: 'InternalFailure', $metadata: {} }));
    await postTo(handler, body);
    const [proofId, row] = [...registry.ledger.entries()][0] ?? [];
    // As if that invocation had crashed before releasing: its lease still runs for 30 s.
    registry.ledger.set(String(proofId), {
      ...row,
      leaseOwner: 'dead-invocation',
      leaseUntil: Date.now() + 30_000,
    });

    const blocked = await postTo(handler, body);
    advance(31_000);
    const retry = await postTo(handler, body);

    expect(blocked.status).toBe(409);
    expect(Number(blocked.headers['Retry-After'])).toBe(30);
    expect(retry.status).toBe(201);
    expect(pca.issuedCount()).toBe(1);
  });

  it('a replay for an ECU blocked since gets 403 and not the certificate', async () => {
    const body = signedBodyFor((await freshCsr()).pem, int1Attestation(world));
    expect((await postTo(handler, body)).status).toBe(201);
    const row = registry.table.get(ECU_ID);
    if (row) row.status = 'BLOCKED';

    const replay = await postTo(handler, body);

    expect(replay.status).toBe(403);
    expect(replay.body).not.toHaveProperty('certificatePem');
    expect(pca.issuedCount()).toBe(1);
  });

  it('a replay after the registry moved the ECU to another vehicle gets 403, not the old certificate', async () => {
    const body = signedBodyFor((await freshCsr()).pem, int1Attestation(world));
    expect((await postTo(handler, body)).status).toBe(201);
    const row = registry.table.get(ECU_ID);
    if (row) row.vin = 'WVWZZZ1JZXW000002';

    const replay = await postTo(handler, body);

    expect(replay.status).toBe(403);
    expect(replay.body).not.toHaveProperty('certificatePem');
    expect(pca.issuedCount()).toBe(1);
  });
});

import { createCommandDecoder, InMemoryReplayCache } from '@cv/crypto/command';
import { HttpError } from '@cv/runtime';
import { compactVerify } from 'jose';
import { describe, expect, it } from 'vitest';
import { getCommand, sendCommand } from '../src/send-command.js';
import { fakeDeps, principal } from './fakes.js';
import { ENCRYPTION_KEY_ARN, OTHER_VIN, SIGNING_KEY_ARN, SUB, VIN } from './helpers.js';

const T0 = Date.UTC(2026, 10, 25, 9, 0, 0);

async function rejected(p: Promise<unknown>): Promise<HttpError> {
  const error = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(error instanceof HttpError)) throw new Error(`expected HttpError, got ${String(error)}`);
  return error;
}

describe('sendCommand', () => {
  it('signs, encrypts, publishes to the gateway and then records PENDING; the ECU decoder and jose accept it', async () => {
    const f = fakeDeps();

    const { response } = await sendCommand(
      {
        principal: principal(),
        vin: VIN,
        body: { command: 'engine.start', args: { durationMin: 10 } },
        idempotencyKey: undefined,
      },
      f.deps,
    );

    expect(response).toEqual({
      commandId: '00000000-0000-4000-8000-000000000001',
      status: 'PENDING',
      expiresAt: new Date(T0 + 120_000).toISOString(),
    });
    const thing = `${VIN}_gw-0001`;
    expect(f.calls.publish).toHaveLength(1);
    const msg = f.calls.publish[0];
    expect(msg).toMatchObject({
      topic: `ecus/${thing}/commands`,
      responseTopic: `ecus/${thing}/command-results`,
      correlationData: Buffer.from(response.commandId).toString('base64'),
      messageExpirySeconds: 120,
    });
    expect(f.calls.contexts).toEqual([{ aud: thing, jti: response.commandId }]);
    const decode = createCommandDecoder({
      thingName: thing,
      keys: [{ keyId: SIGNING_KEY_ARN, publicKey: f.key.spki }],
      decrypt: async (c, ctx, keyId) => {
        expect(keyId).toBe(ENCRYPTION_KEY_ARN);
        return f.kms.decrypt(c, ctx);
      },
      replayCache: new InMemoryReplayCache({ now: () => T0 }),
      issuer: 'cv-security:dev',
      now: () => T0,
    });
    const { claims } = await decode(msg?.payload ?? '');
    expect(claims).toMatchObject({
      aud: thing,
      sub: SUB,
      jti: response.commandId,
      vin: VIN,
      cmd: 'engine.start',
      args: { durationMin: 10 },
    });
    const envelope = JSON.parse(msg?.payload ?? '{}') as {
      ciphertext: string;
      context: Record<string, string>;
    };
    const jws = new TextDecoder().decode(
      f.kms.decrypt(Buffer.from(envelope.ciphertext, 'base64'), envelope.context),
    );
    await expect(compactVerify(jws, f.key.publicKey, { algorithms: ['ES256'] })).resolves.toBeDefined();
    expect(f.store.rows.get(response.commandId)).toMatchObject({
      status: 'PENDING',
      vin: VIN,
      thingName: thing,
      command: 'engine.start',
      requestedBy: SUB,
      ttl: Math.floor(T0 / 1000) + 120 + 30 * 24 * 3600,
    });
  });

  it('targets an explicit ACTIVE ecuId of the vehicle', async () => {
    const f = fakeDeps();
    await sendCommand(
      {
        principal: principal(),
        vin: VIN,
        body: { command: 'door.lock', ecuId: 'body-0002' },
        idempotencyKey: undefined,
      },
      f.deps,
    );
    expect(f.calls.publish[0]?.topic).toBe(`ecus/${VIN}_body-0002/commands`);
  });

  it('a retry with the same Idempotency-Key publishes once and returns the same response', async () => {
    const f = fakeDeps();
    const input = { principal: principal(), vin: VIN, body: { command: 'door.lock' }, idempotencyKey: 'k-1' };
    const first = await sendCommand(input, f.deps);
    const second = await sendCommand(input, f.deps);
    expect(second).toEqual({ response: first.response, replayed: true });
    expect(f.calls.publish).toHaveLength(1);
    expect(f.calls.sign).toBe(1);
    expect(f.store.rows.size).toBe(1);
  });

  it('counts each published command once for behaviour-detector: a replay is not counted again, a refusal not at all', async () => {
    const counted: Array<[string, number]> = [];
    const f = fakeDeps({ counter: { received: async (thing, at) => void counted.push([thing, at]) } });
    const input = { principal: principal(), vin: VIN, body: { command: 'door.lock' }, idempotencyKey: 'k-1' };
    await sendCommand(input, f.deps);
    await sendCommand(input, f.deps);
    await rejected(
      sendCommand(
        { ...input, idempotencyKey: 'k-1', body: { command: 'engine.start', args: { durationMin: 2 } } },
        f.deps,
      ),
    );
    await rejected(
      sendCommand({ ...input, idempotencyKey: undefined, body: { command: 'no.such.command' } }, f.deps),
    );
    expect(counted).toEqual([[f.calls.publish[0]?.topic.split('/')[1], Date.UTC(2026, 10, 25, 9, 0, 0)]]);
  });

  it('the same Idempotency-Key from another user is a different request', async () => {
    const f = fakeDeps();
    const body = { command: 'door.lock' };
    await sendCommand({ principal: principal(), vin: VIN, body, idempotencyKey: 'k-1' }, f.deps);
    const other = { sub: 'other-user', vehicles: principal().vehicles };
    await sendCommand({ principal: other, vin: VIN, body, idempotencyKey: 'k-1' }, f.deps);
    expect(f.calls.publish).toHaveLength(2);
  });

  it('rejects an Idempotency-Key reused for a different request with 409 and publishes nothing more', async () => {
    const f = fakeDeps();
    await sendCommand(
      { principal: principal(), vin: VIN, body: { command: 'door.lock' }, idempotencyKey: 'k-1' },
      f.deps,
    );
    const e = await rejected(
      sendCommand(
        {
          principal: principal(),
          vin: VIN,
          body: { command: 'engine.start', args: { durationMin: 2 } },
          idempotencyKey: 'k-1',
        },
        f.deps,
      ),
    );
    expect(e.statusCode).toBe(409);
    expect(e.code).toBe('idempotency_key_reused');
    // Retrying cannot help: no Retry-After, unlike request_in_progress.
    expect(e.headers).toBeUndefined();
    expect(f.calls.publish).toHaveLength(1);
  });

  it('after a publish failure, a retry with the same key re-uses the command id (the ECU dedupes by jti)', async () => {
    const f = fakeDeps();
    let fail = true;
    const publish = f.deps.publisher.publish;
    f.deps.publisher = {
      publish: async (m) => {
        if (fail) throw new Error('iot down');
        await publish(m);
      },
    };
    const input = { principal: principal(), vin: VIN, body: { command: 'door.lock' }, idempotencyKey: 'k-2' };
    await expect(sendCommand(input, f.deps)).rejects.toThrow('iot down');
    expect(f.store.rows.size).toBe(0);
    fail = false;
    const retry = await sendCommand(input, f.deps);
    expect(retry.response.commandId).toBe('00000000-0000-4000-8000-000000000001');
    expect(f.store.rows.size).toBe(1);
  });

  it('answers a retry while an earlier attempt holds the key 409 request_in_progress with Retry-After at the lease end, publishing nothing; after the lease a retry completes the same command', async () => {
    const f = fakeDeps();
    const t0 = Date.UTC(2026, 10, 25, 9, 0, 0);
    let now = t0;
    f.deps.now = () => now;
    // The first attempt fails and cannot even mark its record FAILED (both calls time out).
    const publish = f.deps.publisher.publish;
    let fail = true;
    f.deps.publisher = {
      publish: async (m) => {
        if (fail) throw Object.assign(new Error('timed out'), { name: 'TimeoutError' });
        await publish(m);
      },
    };
    const release = f.store.release.bind(f.store);
    f.store.release = async (key) => {
      if (fail) throw Object.assign(new Error('timed out'), { name: 'TimeoutError' });
      await release(key);
    };
    const input = { principal: principal(), vin: VIN, body: { command: 'door.lock' }, idempotencyKey: 'k-3' };
    await expect(sendCommand(input, f.deps)).rejects.toThrow('timed out');
    fail = false;
    now = t0 + 20_000;
    const e = await rejected(sendCommand(input, f.deps));
    expect(e.statusCode).toBe(409);
    expect(e.code).toBe('request_in_progress');
    // The 60 s lease taken at t0 ends 40 s later.
    expect(e.headers).toEqual({ 'Retry-After': '41' });
    expect(f.calls.publish).toHaveLength(0);
    expect(f.store.rows.size).toBe(0);
    now = t0 + 61_000;
    const retry = await sendCommand(input, f.deps);
    expect(retry.response.commandId).toBe('00000000-0000-4000-8000-000000000001');
    expect(f.calls.publish).toHaveLength(1);
    expect(f.store.rows.size).toBe(1);
  });

  const cases: Array<[string, Record<string, unknown>, string | undefined, number, string]> = [
    ['unknown command', { command: 'trunk.open' }, VIN, 400, 'unknown_command'],
    ['prototype key as command', { command: 'constructor' }, VIN, 400, 'unknown_command'],
    ['engine.start without args', { command: 'engine.start' }, VIN, 400, 'invalid_args'],
    [
      'engine.start 16 minutes',
      { command: 'engine.start', args: { durationMin: 16 } },
      VIN,
      400,
      'invalid_args',
    ],
    [
      'engine.start 0 minutes',
      { command: 'engine.start', args: { durationMin: 0 } },
      VIN,
      400,
      'invalid_args',
    ],
    [
      'engine.start fractional',
      { command: 'engine.start', args: { durationMin: 1.5 } },
      VIN,
      400,
      'invalid_args',
    ],
    [
      'climate.start 31 C',
      { command: 'climate.start', args: { temperatureC: 31 } },
      VIN,
      400,
      'invalid_args',
    ],
    ['extra arg', { command: 'door.lock', args: { force: true } }, VIN, 400, 'invalid_args'],
    ['extra member', { command: 'door.lock', priority: 'high' }, VIN, 400, 'invalid_request'],
    ['malformed ecuId', { command: 'door.lock', ecuId: '../x' }, VIN, 400, 'invalid_request'],
    ['malformed VIN', { command: 'door.lock' }, 'IOQ12345678901234', 400, 'invalid_vin'],
    ['missing VIN', { command: 'door.lock' }, undefined, 400, 'invalid_vin'],
    ['a VIN the user may not command', { command: 'door.lock' }, OTHER_VIN, 403, 'command_not_allowed'],
    ['a command the user lacks', { command: 'door.unlock' }, VIN, 403, 'command_not_allowed'],
    ['an ecuId of another vehicle', { command: 'door.lock', ecuId: 'gw-9999' }, VIN, 403, 'ecu_not_allowed'],
    [
      'an ecuId that is not ACTIVE',
      { command: 'door.lock', ecuId: 'adas-0003' },
      VIN,
      403,
      'ecu_not_allowed',
    ],
    ['an unknown ecuId', { command: 'door.lock', ecuId: 'nope-1' }, VIN, 403, 'ecu_not_allowed'],
  ];
  it.each(cases)(
    '%s -> 4xx with nothing signed, encrypted, published or stored',
    async (_n, body, vin, status, code) => {
      const f = fakeDeps();
      const e = await rejected(
        sendCommand({ principal: principal(), vin, body, idempotencyKey: 'k-3' }, f.deps),
      );
      expect([e.statusCode, e.code]).toEqual([status, code]);
      expect(f.calls).toMatchObject({ sign: 0, encrypt: 0, publish: [] });
      expect(f.store.rows.size).toBe(0);
      expect(f.store.idem.size).toBe(0);
    },
  );

  it('a vehicle without an active gateway -> 404, nothing sent', async () => {
    const f = fakeDeps({ registry: { ecusOfVehicle: async () => [] } });
    const e = await rejected(
      sendCommand(
        { principal: principal(), vin: VIN, body: { command: 'door.lock' }, idempotencyKey: undefined },
        f.deps,
      ),
    );
    expect(e.statusCode).toBe(404);
    expect(f.calls.publish).toHaveLength(0);
  });

  it('a registry row whose thingName does not match VIN_ecuId is refused', async () => {
    const f = fakeDeps({
      registry: {
        ecusOfVehicle: async () => [
          {
            ecuId: 'gw-0001',
            vin: VIN,
            role: 'gateway',
            status: 'ACTIVE',
            thingName: `${OTHER_VIN}_gw-9999`,
          },
        ],
      },
    });
    const e = await rejected(
      sendCommand(
        { principal: principal(), vin: VIN, body: { command: 'door.lock' }, idempotencyKey: undefined },
        f.deps,
      ),
    );
    expect(e.statusCode).toBe(403);
    expect(f.calls.publish).toHaveLength(0);
  });

  it('a wildcard grant allows any catalog command', async () => {
    const f = fakeDeps();
    await sendCommand(
      {
        principal: principal({ [VIN]: ['*'] }),
        vin: VIN,
        body: { command: 'horn.flash' },
        idempotencyKey: undefined,
      },
      f.deps,
    );
    expect(f.calls.publish).toHaveLength(1);
  });

  it.each([
    ['signer', { signer: async () => Promise.reject(new Error('kms GetPublicKey down')) }],
    ['encrypt', { encrypt: async () => Promise.reject(new Error('kms Encrypt down')) }],
    ['publish', { publisher: { publish: async () => Promise.reject(new Error('iot down')) } }],
  ])('a %s failure propagates and leaves no PENDING row', async (_n, over) => {
    const f = fakeDeps(over);
    await expect(
      sendCommand(
        { principal: principal(), vin: VIN, body: { command: 'door.lock' }, idempotencyKey: 'k-4' },
        f.deps,
      ),
    ).rejects.toThrow(/down|failed/);
    expect(f.store.rows.size).toBe(0);
    expect([...f.store.idem.values()].map((r) => r.status)).toEqual(['FAILED']);
  });
});

describe('getCommand', () => {
  it('returns the row for a permitted vehicle, EXPIRED once a PENDING command is past expiry', async () => {
    const f = fakeDeps();
    const { response } = await sendCommand(
      { principal: principal(), vin: VIN, body: { command: 'door.lock' }, idempotencyKey: undefined },
      f.deps,
    );
    const view = await getCommand(
      { principal: principal(), vin: VIN, commandId: response.commandId },
      f.deps,
    );
    expect(view).toMatchObject({ commandId: response.commandId, status: 'PENDING', command: 'door.lock' });
    const later = await getCommand(
      { principal: principal(), vin: VIN, commandId: response.commandId },
      { ...f.deps, now: () => T0 + 121_000 },
    );
    expect(later.status).toBe('EXPIRED');
  });

  it('404 for a command of another vehicle, 403 for a vehicle the caller may not command, 400 for a bad id', async () => {
    const f = fakeDeps();
    const { response } = await sendCommand(
      { principal: principal(), vin: VIN, body: { command: 'door.lock' }, idempotencyKey: undefined },
      f.deps,
    );
    const both = principal({ [VIN]: ['door.lock'], [OTHER_VIN]: ['locate'] });
    expect(
      (await rejected(getCommand({ principal: both, vin: OTHER_VIN, commandId: response.commandId }, f.deps)))
        .statusCode,
    ).toBe(404);
    expect(
      (
        await rejected(
          getCommand(
            { principal: principal({ [OTHER_VIN]: ['*'] }), vin: VIN, commandId: response.commandId },
            f.deps,
          ),
        )
      ).statusCode,
    ).toBe(403);
    expect(
      (await rejected(getCommand({ principal: principal(), vin: VIN, commandId: 'idempotency#abc' }, f.deps)))
        .statusCode,
    ).toBe(400);
  });
});

import { createHash, randomUUID } from 'node:crypto';
import { SignJWT } from 'jose';
import { describe, expect, it, vi } from 'vitest';
import {
  buildCommandMessage,
  CommandClaimError,
  type CommandClaims,
  CommandDecryptionError,
  CommandEnvelopeError,
  CommandReplayError,
  CryptoError,
  commandClaims,
  createCommandDecoder,
  InMemoryReplayCache,
  JwsSignatureError,
  parseCommandEnvelope,
  type ReplayCache,
  UnknownKeyError,
} from '../src/command/index.js';
import { ENCRYPTION_KEY_ARN, localKey, localKms, SIGNING_KEY_ARN, THING, VIN } from './command-helpers.js';

const T0 = Date.UTC(2026, 10, 25, 9, 0, 0);

function setup(opts: { now?: number; skew?: number } = {}) {
  const key = localKey('ES256');
  const kms = localKms();
  const signer = {
    alg: 'ES256' as const,
    keyId: SIGNING_KEY_ARN,
    sign: async (d: Uint8Array) => key.signDigest(d),
  };
  const cache = new InMemoryReplayCache({ now: () => opts.now ?? T0 });
  const replayCache: ReplayCache = { has: vi.fn((j) => cache.has(j)), add: vi.fn((j, e) => cache.add(j, e)) };
  const decrypt = vi.fn(kms.decrypt);
  const decode = createCommandDecoder({
    thingName: THING,
    keys: [{ keyId: SIGNING_KEY_ARN, publicKey: key.spki }],
    decrypt,
    replayCache,
    issuer: 'cv-security:test',
    clockSkewSeconds: opts.skew ?? 30,
    now: () => opts.now ?? T0,
  });
  const claims = (over: Partial<Parameters<typeof commandClaims>[0]> = {}) =>
    commandClaims({
      stage: 'test',
      thingName: THING,
      vin: VIN,
      sub: 'user-1',
      cmd: 'door.lock',
      args: {},
      ttlSeconds: 120,
      now: T0,
      ...over,
    });
  const build = (c: CommandClaims) =>
    buildCommandMessage({ claims: c, signer, encrypt: kms.encrypt, encryptionKeyId: ENCRYPTION_KEY_ARN });
  return { key, kms, signer, decode, decrypt, replayCache, claims, build };
}

describe('buildCommandMessage + createCommandDecoder', () => {
  it('round-trips: the ECU decrypts with the context and accepts the command once', async () => {
    const s = setup();
    const claims = s.claims({ cmd: 'climate.start', args: { temperatureC: 21 } });

    const message = await s.build(claims);
    const verified = await s.decode(message.payload);

    expect(verified.claims).toEqual(claims);
    expect(verified.keyId).toBe(SIGNING_KEY_ARN);
    expect(message.envelope).toMatchObject({
      v: 1,
      kind: 'command',
      commandId: claims.jti,
      keyId: ENCRYPTION_KEY_ARN,
      context: { aud: THING, jti: claims.jti },
    });
    expect(s.decrypt).toHaveBeenCalledWith(
      expect.any(Uint8Array),
      { aud: THING, jti: claims.jti },
      ENCRYPTION_KEY_ARN,
    );
    expect(message.payload).not.toContain(message.jws.split('.')[1]);
    expect(s.replayCache.add).toHaveBeenCalledWith(claims.jti, claims.exp + 30);
  });

  it('puts the key ARN the encrypter reports into the envelope (configured alias otherwise)', async () => {
    const s = setup();
    const message = await buildCommandMessage({
      claims: s.claims(),
      signer: s.signer,
      encrypt: async (p, c) => ({ ciphertext: await s.kms.encrypt(p, c), keyId: ENCRYPTION_KEY_ARN }),
      encryptionKeyId: 'alias/cv-security-dev-command-encryption',
    });
    expect(message.envelope.keyId).toBe(ENCRYPTION_KEY_ARN);
    await expect(s.decode(message.payload)).resolves.toBeDefined();
  });

  it.each(['ES384', 'PS256'] as const)('round-trips with a pinned %s key', async (alg) => {
    const key = localKey(alg);
    const kms = localKms();
    const claims = setup().claims();
    const message = await buildCommandMessage({
      claims,
      signer: { alg, keyId: SIGNING_KEY_ARN, sign: async (d) => key.signDigest(d) },
      encrypt: kms.encrypt,
      encryptionKeyId: ENCRYPTION_KEY_ARN,
    });
    const decode = createCommandDecoder({
      thingName: THING,
      keys: [{ keyId: SIGNING_KEY_ARN, publicKey: key.spki }],
      decrypt: kms.decrypt,
      replayCache: new InMemoryReplayCache({ now: () => T0 }),
      now: () => T0,
    });
    expect((await decode(message.payload)).claims).toEqual(claims);
  });

  it('rejects a JWS carrying the unconverted DER signature', async () => {
    const s = setup();
    const c = s.claims();
    const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');
    const input = `${b64({ alg: 'ES256', kid: SIGNING_KEY_ARN, typ: 'cv-command+jws' })}.${b64(c)}`;
    const der = s.key.signDigest(createHash('sha256').update(input).digest());
    const jws = `${input}.${Buffer.from(der).toString('base64url')}`;
    await expect(s.decode(await wrapJws(s, jws, c.jti))).rejects.toThrow(JwsSignatureError);
    expect(s.replayCache.add).not.toHaveBeenCalled();
  });

  it('accepts a second pinned key (signing-key rotation) and rejects a key id that is not pinned', async () => {
    const s = setup();
    const next = localKey('ES256');
    const nextArn = `${SIGNING_KEY_ARN}-next`;
    const decode = createCommandDecoder({
      thingName: THING,
      keys: [
        { keyId: SIGNING_KEY_ARN, publicKey: s.key.spki },
        { keyId: nextArn, publicKey: next.spki },
      ],
      decrypt: s.kms.decrypt,
      replayCache: new InMemoryReplayCache({ now: () => T0 }),
      now: () => T0,
    });
    const signed = (keyId: string, k: typeof next) =>
      buildCommandMessage({
        claims: s.claims(),
        signer: { alg: 'ES256', keyId, sign: async (d) => k.signDigest(d) },
        encrypt: s.kms.encrypt,
        encryptionKeyId: ENCRYPTION_KEY_ARN,
      });
    await expect(decode((await signed(nextArn, next)).payload)).resolves.toBeDefined();
    await expect(decode((await signed(`${SIGNING_KEY_ARN}-other`, next)).payload)).rejects.toThrow(
      UnknownKeyError,
    );
  });

  it('rejects a replay of an accepted command', async () => {
    const s = setup();
    const message = await s.build(s.claims());
    await s.decode(message.payload);
    await expect(s.decode(message.payload)).rejects.toThrow(CommandReplayError);
  });

  it('accepts bytes as well as strings', async () => {
    const s = setup();
    const message = await s.build(s.claims());
    await expect(s.decode(new TextEncoder().encode(message.payload))).resolves.toBeDefined();
  });

  it('accepts within clock skew and rejects beyond it (exp and iat)', async () => {
    const c = setup().claims();
    const late = setup({ now: (c.exp + 29) * 1000 });
    await expect(late.decode((await late.build(late.claims())).payload)).resolves.toBeDefined();
    const expired = setup({ now: (c.exp + 30) * 1000 });
    await expect(expired.decode((await expired.build(expired.claims())).payload)).rejects.toThrow(
      CommandClaimError,
    );
    const early = setup({ now: (c.iat - 30) * 1000 });
    await expect(early.decode((await early.build(early.claims())).payload)).resolves.toBeDefined();
    const future = setup({ now: (c.iat - 31) * 1000 });
    await expect(future.decode((await future.build(future.claims())).payload)).rejects.toThrow(/future/);
  });

  it('rejects a lifetime longer than maxTtlSeconds', async () => {
    const s = setup();
    const message = await s.build(s.claims({ ttlSeconds: 3600 }));
    await expect(s.decode(message.payload)).rejects.toThrow(CommandClaimError);
  });

  it('rejects an envelope for another thing without decrypting', async () => {
    const s = setup();
    const other = `${VIN}_body-7`;
    const message = await s.build(s.claims({ thingName: other }));
    await expect(s.decode(message.payload)).rejects.toThrow(CommandClaimError);
    expect(s.decrypt).not.toHaveBeenCalled();
    expect(s.replayCache.add).not.toHaveBeenCalled();
  });

  it('rejects a JWS for another thing re-wrapped in an envelope for this one', async () => {
    const s = setup();
    const foreign = await s.build(s.claims({ thingName: `${VIN}_body-7` }));
    const jti = foreign.envelope.commandId;
    const ciphertext = await s.kms.encrypt(new TextEncoder().encode(foreign.jws), { aud: THING, jti });
    const envelope = {
      ...foreign.envelope,
      context: { aud: THING, jti },
      ciphertext: Buffer.from(ciphertext).toString('base64'),
    };
    await expect(s.decode(JSON.stringify(envelope))).rejects.toThrow(/another thing/);
    expect(s.replayCache.add).not.toHaveBeenCalled();
  });

  it('rejects a ciphertext moved to another command id (encryption context mismatch)', async () => {
    const s = setup();
    const a = await s.build(s.claims());
    const b = await s.build(s.claims());
    const swapped = { ...b.envelope, ciphertext: a.envelope.ciphertext };
    await expect(s.decode(JSON.stringify(swapped))).rejects.toThrow(CommandDecryptionError);
  });

  it('rejects a tampered ciphertext', async () => {
    const s = setup();
    const m = await s.build(s.claims());
    const bytes = Buffer.from(m.envelope.ciphertext, 'base64');
    bytes[bytes.length - 1] = (bytes[bytes.length - 1] ?? 0) ^ 1;
    const envelope = { ...m.envelope, ciphertext: bytes.toString('base64') };
    await expect(s.decode(JSON.stringify(envelope))).rejects.toThrow(CommandDecryptionError);
  });

  it('rejects a JWS signed by a key that is not pinned', async () => {
    const s = setup();
    const attacker = localKey('ES256');
    const message = await buildCommandMessage({
      claims: s.claims(),
      signer: { alg: 'ES256', keyId: SIGNING_KEY_ARN, sign: async (d) => attacker.signDigest(d) },
      encrypt: s.kms.encrypt,
      encryptionKeyId: ENCRYPTION_KEY_ARN,
    });
    await expect(s.decode(message.payload)).rejects.toThrow(JwsSignatureError);
  });

  async function wrapJws(s: ReturnType<typeof setup>, jws: string, jti: string): Promise<string> {
    const ciphertext = await s.kms.encrypt(new TextEncoder().encode(jws), { aud: THING, jti });
    return JSON.stringify({
      v: 1,
      kind: 'command',
      commandId: jti,
      keyId: ENCRYPTION_KEY_ARN,
      context: { aud: THING, jti },
      ciphertext: Buffer.from(ciphertext).toString('base64'),
    });
  }

  it.each([
    ['typ JWT', { typ: 'JWT' }, {}],
    ['wrong issuer', {}, { iss: 'cv-security:prod' }],
    ['extra claim', {}, { admin: true }],
    ['vin of another vehicle', {}, { vin: '2HGCM82633A004352' }],
    ['exp before iat', {}, { exp: Math.floor(T0 / 1000) - 1 }],
  ])('rejects %s with a CommandClaimError', async (_n, header, over) => {
    const s = setup();
    const c = s.claims();
    const jws = await new SignJWT({ ...c, ...over })
      .setProtectedHeader({ alg: 'ES256', kid: SIGNING_KEY_ARN, typ: 'cv-command+jws', ...header })
      .sign(s.key.privateKey);
    await expect(s.decode(await wrapJws(s, jws, c.jti))).rejects.toThrow(CommandClaimError);
    expect(s.replayCache.add).not.toHaveBeenCalled();
  });

  it('rejects a JWS whose jti differs from the envelope', async () => {
    const s = setup();
    const c = s.claims();
    const jws = await new SignJWT({ ...c })
      .setProtectedHeader({ alg: 'ES256', kid: SIGNING_KEY_ARN, typ: 'cv-command+jws' })
      .sign(s.key.privateKey);
    await expect(s.decode(await wrapJws(s, jws, randomUUID()))).rejects.toThrow(CommandClaimError);
  });

  it('every rejection is a CryptoError', async () => {
    const s = setup();
    for (const input of ['', '{}', 'null', '[]', '{"v":1}', '\u0000']) {
      await expect(s.decode(input)).rejects.toBeInstanceOf(CryptoError);
    }
  });
});

describe('parseCommandEnvelope', () => {
  const valid = {
    v: 1,
    kind: 'command',
    commandId: '3b241101-e2bb-4255-8caf-4136c566a962',
    keyId: ENCRYPTION_KEY_ARN,
    context: { aud: THING, jti: '3b241101-e2bb-4255-8caf-4136c566a962' },
    ciphertext: 'AQID',
  };
  it('parses the docs/architecture.md §6 shape', () => {
    expect(parseCommandEnvelope(JSON.stringify(valid))).toEqual(valid);
  });
  it.each([
    ['unknown member', { ...valid, extra: 1 }],
    ['unknown context member', { ...valid, context: { ...valid.context, role: 'x' } }],
    ['version 2', { ...valid, v: 2 }],
    ['context jti differs from commandId', { ...valid, context: { ...valid.context, jti: randomUUID() } }],
    ['non-base64 ciphertext', { ...valid, ciphertext: 'AQI$' }],
    ['bad thing name', { ...valid, context: { ...valid.context, aud: 'not a thing' } }],
  ])('rejects %s', (_n, value) => {
    expect(() => parseCommandEnvelope(JSON.stringify(value))).toThrow(CommandEnvelopeError);
  });
  it('rejects oversized and non-UTF-8 input', () => {
    expect(() => parseCommandEnvelope('x'.repeat(70_000))).toThrow(CommandEnvelopeError);
    expect(() => parseCommandEnvelope(Uint8Array.from([0xff, 0xfe]))).toThrow(CommandEnvelopeError);
  });
});

describe('commandClaims', () => {
  it('builds docs/architecture.md §6 claims', () => {
    const c = commandClaims({
      stage: 'prod',
      thingName: THING,
      vin: VIN,
      sub: 's',
      cmd: 'locate',
      args: {},
      ttlSeconds: 120,
      now: T0 + 999,
    });
    expect(c).toMatchObject({
      iss: 'cv-security:prod',
      aud: THING,
      sub: 's',
      iat: T0 / 1000,
      exp: T0 / 1000 + 120,
    });
    expect(c.jti).toMatch(/^[0-9a-f-]{36}$/);
  });
  it('refuses a thing of another VIN', () => {
    expect(() =>
      commandClaims({
        stage: 'p',
        thingName: `2HGCM82633A004352_gw`,
        vin: VIN,
        sub: 's',
        cmd: 'locate',
        args: {},
        ttlSeconds: 1,
      }),
    ).toThrow(CommandClaimError);
  });
});

describe('InMemoryReplayCache', () => {
  it('forgets entries after expiry and fails closed when full of live entries', () => {
    let now = 1_000_000;
    const cache = new InMemoryReplayCache({ maxEntries: 2, now: () => now });
    cache.add('a', 1010);
    cache.add('b', 2000);
    expect(cache.has('a')).toBe(true);
    expect(() => cache.add('c', 2000)).toThrow(CryptoError);
    now = 1_010_000;
    expect(cache.has('a')).toBe(false);
    cache.add('c', 2000);
    expect(cache.has('c')).toBe(true);
  });
});

import { createHash, createSecretKey, generateKeyPairSync } from 'node:crypto';
import { compactVerify, decodeProtectedHeader, jwtVerify, SignJWT } from 'jose';
import { describe, expect, it } from 'vitest';
import {
  type CommandAlgorithm,
  CommandSigningError,
  commandClaims,
  importPinnedKey,
  JwsSignatureError,
  parseJws,
  signCommandJws,
  UnknownKeyError,
  UnsupportedAlgorithmError,
  verifyJwsSignature,
} from '../src/command/index.js';
import { localKey, SIGNING_KEY_ARN, THING, VIN } from './command-helpers.js';

const b64u = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');
const claims = commandClaims({
  stage: 'test',
  thingName: THING,
  vin: VIN,
  sub: 'user-sub-1',
  cmd: 'engine.start',
  args: { durationMin: 10 },
  ttlSeconds: 120,
  commandId: '3b241101-e2bb-4255-8caf-4136c566a962',
});

describe('signCommandJws', () => {
  it.each<CommandAlgorithm>(['ES256', 'ES384', 'PS256'])(
    'produces a %s JWS that jose verifies with the public key',
    async (alg) => {
      const key = localKey(alg);
      const digests: Uint8Array[] = [];

      const jws = await signCommandJws(claims, {
        alg,
        keyId: SIGNING_KEY_ARN,
        sign: async (digest) => {
          digests.push(digest);
          return key.signDigest(digest);
        },
      });

      expect(decodeProtectedHeader(jws)).toEqual({ alg, kid: SIGNING_KEY_ARN, typ: 'cv-command+jws' });
      expect(digests).toHaveLength(1);
      expect(digests[0]?.length).toBe(alg === 'ES384' ? 48 : 32);
      const verified = await compactVerify(jws, key.publicKey, { algorithms: [alg] });
      expect(JSON.parse(new TextDecoder().decode(verified.payload))).toEqual(claims);
      const jwt = await jwtVerify(jws, key.publicKey, {
        algorithms: [alg],
        typ: 'cv-command+jws',
        audience: THING,
        issuer: 'cv-security:test',
        currentDate: new Date(claims.iat * 1000),
      });
      expect(jwt.payload.jti).toBe(claims.jti);
      // and our own verifier agrees
      expect(
        verifyJwsSignature(parseJws(jws), [importPinnedKey({ keyId: SIGNING_KEY_ARN, publicKey: key.spki })]),
      ).toEqual(claims);
    },
  );

  it('signs the SHA-256 digest of the signing input (what KMS MessageType DIGEST expects)', async () => {
    const key = localKey('ES256');
    let seen: Uint8Array | undefined;
    const jws = await signCommandJws(claims, {
      alg: 'ES256',
      keyId: SIGNING_KEY_ARN,
      sign: async (d) => {
        seen = d;
        return key.signDigest(d);
      },
    });
    const [h, p] = jws.split('.');
    expect(Buffer.from(seen ?? [])).toEqual(createHash('sha256').update(`${h}.${p}`).digest());
  });

  it('a JWS carrying the unconverted DER signature is rejected by jose and by our verifier', async () => {
    const key = localKey('ES256');
    const header = { alg: 'ES256', kid: SIGNING_KEY_ARN, typ: 'cv-command+jws' };
    const input = `${b64u(header)}.${b64u(claims)}`;
    const der = key.signDigest(createHash('sha256').update(input).digest());
    const jws = `${input}.${Buffer.from(der).toString('base64url')}`;

    await expect(compactVerify(jws, key.publicKey, { algorithms: ['ES256'] })).rejects.toThrow();
    const vk = importPinnedKey({ keyId: SIGNING_KEY_ARN, publicKey: key.spki });
    expect(() => verifyJwsSignature(parseJws(jws), [vk])).toThrow(JwsSignatureError);
  });

  it('rejects a signer that fails or returns a malformed signature', async () => {
    const failing = {
      alg: 'ES256' as const,
      keyId: SIGNING_KEY_ARN,
      sign: async () => Promise.reject(new Error('kms down')),
    };
    await expect(signCommandJws(claims, failing)).rejects.toThrow(CommandSigningError);
    const garbage = { alg: 'ES256' as const, keyId: SIGNING_KEY_ARN, sign: async () => new Uint8Array(64) };
    await expect(signCommandJws(claims, garbage)).rejects.toThrow(CommandSigningError);
    const shortRsa = { alg: 'PS256' as const, keyId: SIGNING_KEY_ARN, sign: async () => new Uint8Array(128) };
    await expect(signCommandJws(claims, shortRsa)).rejects.toThrow(CommandSigningError);
  });

  it('refuses to sign with an algorithm outside the allowlist', async () => {
    const signer = {
      alg: 'HS256' as CommandAlgorithm,
      keyId: SIGNING_KEY_ARN,
      sign: async () => new Uint8Array(32),
    };
    await expect(signCommandJws(claims, signer)).rejects.toThrow(UnsupportedAlgorithmError);
  });
});

describe('verifyJwsSignature', () => {
  const ec = localKey('ES256');
  const vk = importPinnedKey({ keyId: SIGNING_KEY_ARN, publicKey: ec.spki });

  it('accepts a JWS signed independently by jose with the same key', async () => {
    const jws = await new SignJWT({ ...claims })
      .setProtectedHeader({ alg: 'ES256', kid: SIGNING_KEY_ARN, typ: 'cv-command+jws' })
      .sign(ec.privateKey);
    expect(verifyJwsSignature(parseJws(jws), [vk])).toEqual(claims);
  });

  it('rejects alg none', () => {
    const jws = `${b64u({ alg: 'none', kid: SIGNING_KEY_ARN, typ: 'cv-command+jws' })}.${b64u(claims)}.AA`;
    expect(() => verifyJwsSignature(parseJws(jws), [vk])).toThrow(UnsupportedAlgorithmError);
  });

  it('rejects HS256 keyed with the public key bytes (algorithm confusion)', async () => {
    const jws = await new SignJWT({ ...claims })
      .setProtectedHeader({ alg: 'HS256', kid: SIGNING_KEY_ARN, typ: 'cv-command+jws' })
      .sign(createSecretKey(Buffer.from(ec.spki)));
    expect(() => verifyJwsSignature(parseJws(jws), [vk])).toThrow(UnsupportedAlgorithmError);
  });

  it('rejects an allowed algorithm that does not match the pinned key', async () => {
    const p384 = localKey('ES384');
    const jws = await new SignJWT({ ...claims })
      .setProtectedHeader({ alg: 'ES384', kid: SIGNING_KEY_ARN, typ: 'cv-command+jws' })
      .sign(p384.privateKey);
    expect(() => verifyJwsSignature(parseJws(jws), [vk])).toThrow(UnsupportedAlgorithmError);
  });

  it('rejects a key id that is not pinned, and a signature by another key', async () => {
    const other = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const unknown = await new SignJWT({ ...claims })
      .setProtectedHeader({
        alg: 'ES256',
        kid: 'arn:aws:kms:eu-west-1:111122223333:key/other',
        typ: 'cv-command+jws',
      })
      .sign(ec.privateKey);
    expect(() => verifyJwsSignature(parseJws(unknown), [vk])).toThrow(UnknownKeyError);
    const forged = await new SignJWT({ ...claims })
      .setProtectedHeader({ alg: 'ES256', kid: SIGNING_KEY_ARN, typ: 'cv-command+jws' })
      .sign(other.privateKey);
    expect(() => verifyJwsSignature(parseJws(forged), [vk])).toThrow(JwsSignatureError);
  });

  it('rejects a tampered payload', async () => {
    const jws = await signCommandJws(claims, {
      alg: 'ES256',
      keyId: SIGNING_KEY_ARN,
      sign: async (d) => ec.signDigest(d),
    });
    const [h, , s] = jws.split('.');
    const tampered = `${h}.${b64u({ ...claims, cmd: 'door.unlock' })}.${s}`;
    expect(() => verifyJwsSignature(parseJws(tampered), [vk])).toThrow(JwsSignatureError);
  });

  it('refuses to pin keys outside the allowlist (P-521, RSA 1024, Ed25519)', () => {
    const spki = (k: { publicKey: import('node:crypto').KeyObject }) =>
      new Uint8Array(k.publicKey.export({ format: 'der', type: 'spki' }));
    for (const pair of [
      generateKeyPairSync('ec', { namedCurve: 'P-521' }),
      generateKeyPairSync('rsa', { modulusLength: 1024 }),
      generateKeyPairSync('ed25519'),
    ]) {
      expect(() => importPinnedKey({ keyId: 'k', publicKey: spki(pair) })).toThrow(UnsupportedAlgorithmError);
    }
  });
});

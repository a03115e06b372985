/**
 * Test-only local stand-ins for AWS KMS, shared by @cv/crypto's and command-sender's tests:
 * `localKey` signs a precomputed digest the way KMS `Sign` with `MessageType: DIGEST` does
 * (node:crypto only signs messages), built on node:crypto primitives (ECDH for the scalar
 * multiplication k*G, the RSA private operation without padding); `localSymmetricKms` is
 * AES-256-GCM with the encryption context as additional data, so another context fails to
 * decrypt. Both are checked against node:crypto verify and jose in those tests, so a
 * mistake here fails them.
 */
import {
  constants,
  createCipheriv,
  createDecipheriv,
  createECDH,
  createHash,
  generateKeyPairSync,
  type KeyObject,
  privateEncrypt,
  randomBytes,
} from 'node:crypto';

/** The JWS algorithms of a KMS command-signing key (the same strings as @cv/crypto's CommandAlgorithm). */
export type DigestAlgorithm = 'ES256' | 'ES384' | 'PS256';

const CURVES = {
  ES256: {
    curve: 'prime256v1',
    jwk: 'P-256',
    size: 32,
    n: 0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551n,
  },
  ES384: {
    curve: 'secp384r1',
    jwk: 'P-384',
    size: 48,
    n: 0xffffffffffffffffffffffffffffffffffffffffffffffffc7634d81f4372ddf581a0db248b0a77aecec196accc52973n,
  },
} as const;

function big(bytes: Uint8Array): bigint {
  return bytes.length === 0 ? 0n : BigInt(`0x${Buffer.from(bytes).toString('hex')}`);
}
function bytesOf(n: bigint, size: number): Uint8Array {
  return new Uint8Array(Buffer.from(n.toString(16).padStart(size * 2, '0'), 'hex'));
}
function mod(a: bigint, n: bigint): bigint {
  return ((a % n) + n) % n;
}
function inverse(a: bigint, n: bigint): bigint {
  let [r0, r1, s0, s1] = [mod(a, n), n, 1n, 0n];
  while (r1 !== 0n) {
    const q = r0 / r1;
    [r0, r1] = [r1, r0 - q * r1];
    [s0, s1] = [s1, s0 - q * s1];
  }
  return mod(s0, n);
}
function derInteger(v: Uint8Array): number[] {
  let i = 0;
  while (i < v.length - 1 && v[i] === 0) i++;
  const t = [...v.subarray(i)];
  if ((t[0] ?? 0) & 0x80) t.unshift(0);
  return [0x02, t.length, ...t];
}
/** DER SEQUENCE { r, s } from big-endian R and S. */
export function derSignature(r: Uint8Array, s: Uint8Array): Uint8Array {
  const body = [...derInteger(r), ...derInteger(s)];
  return new Uint8Array([0x30, body.length, ...body]);
}

export interface LocalKey {
  alg: DigestAlgorithm;
  privateKey: KeyObject;
  publicKey: KeyObject;
  /** SPKI DER, as KMS GetPublicKey returns it. */
  spki: Uint8Array;
  /** Sign a digest the way KMS does: DER ECDSA, or raw RSASSA-PSS with salt 32. */
  signDigest(digest: Uint8Array): Uint8Array;
}

function ecdsaSignDigest(alg: 'ES256' | 'ES384', d: bigint, digest: Uint8Array): Uint8Array {
  const { curve, size, n } = CURVES[alg];
  const z = big(digest.subarray(0, size));
  for (;;) {
    const k = mod(big(randomBytes(size + 8)), n - 1n) + 1n;
    const ecdh = createECDH(curve);
    ecdh.setPrivateKey(Buffer.from(bytesOf(k, size)));
    const point = ecdh.getPublicKey(); // 04 || X || Y = k*G
    const r = mod(big(point.subarray(1, 1 + size)), n);
    if (r === 0n) continue;
    const s = mod(inverse(k, n) * (z + r * d), n);
    if (s === 0n) continue;
    return derSignature(bytesOf(r, size), bytesOf(s, size));
  }
}

function mgf1(seed: Uint8Array, length: number): Uint8Array {
  const out = Buffer.alloc(length);
  for (let counter = 0, off = 0; off < length; counter++) {
    const c = Buffer.alloc(4);
    c.writeUInt32BE(counter);
    const h = createHash('sha256').update(seed).update(c).digest();
    h.copy(out, off);
    off += h.length;
  }
  return out;
}

function pssSignDigest(privateKey: KeyObject, digest: Uint8Array): Uint8Array {
  // EMSA-PSS-ENCODE (RFC 8017 §9.1.1) with SHA-256, MGF1-SHA-256, salt 32, then RSASP1.
  const modBits = privateKey.asymmetricKeyDetails?.modulusLength ?? 2048;
  const emBits = modBits - 1;
  const emLen = Math.ceil(emBits / 8);
  const salt = randomBytes(32);
  const h = createHash('sha256').update(Buffer.alloc(8)).update(digest).update(salt).digest();
  const db = Buffer.concat([Buffer.alloc(emLen - 32 - 32 - 2), Buffer.from([1]), salt]);
  const mask = mgf1(h, db.length);
  for (let i = 0; i < db.length; i++) db[i] = (db[i] ?? 0) ^ (mask[i] ?? 0);
  db[0] = (db[0] ?? 0) & (0xff >> (8 * emLen - emBits));
  const em = Buffer.concat([db, h, Buffer.from([0xbc])]);
  const k = Math.ceil(modBits / 8);
  const padded = Buffer.concat([Buffer.alloc(k - em.length), em]);
  return new Uint8Array(privateEncrypt({ key: privateKey, padding: constants.RSA_NO_PADDING }, padded));
}

/**
 * A fresh key pair with a KMS-like digest signer.
 * @example const key = localKey('ES256'); const der = key.signDigest(sha256(input));
 */
export function localKey(alg: DigestAlgorithm): LocalKey {
  const pair =
    alg === 'PS256'
      ? generateKeyPairSync('rsa', { modulusLength: 2048 })
      : generateKeyPairSync('ec', { namedCurve: CURVES[alg].jwk });
  const spki = new Uint8Array(pair.publicKey.export({ format: 'der', type: 'spki' }));
  const d =
    alg === 'PS256' ? 0n : big(Buffer.from(pair.privateKey.export({ format: 'jwk' }).d ?? '', 'base64url'));
  return {
    alg,
    ...pair,
    spki,
    signDigest: (digest) =>
      alg === 'PS256' ? pssSignDigest(pair.privateKey, digest) : ecdsaSignDigest(alg, d, digest),
  };
}

/**
 * Symmetric "KMS" with the encryption context as AAD: Decrypt fails under any other context.
 * @example const kms = localSymmetricKms(); kms.decrypt(kms.encrypt(data, ctx), ctx);
 */
export function localSymmetricKms(): {
  encrypt(plaintext: Uint8Array, context: Record<string, string>): Uint8Array;
  decrypt(ciphertext: Uint8Array, context: Record<string, string>): Uint8Array;
} {
  const key = randomBytes(32);
  const aad = (context: Record<string, string>) =>
    Buffer.from(JSON.stringify(Object.entries(context).sort(([a], [b]) => (a < b ? -1 : 1))));
  return {
    encrypt(plaintext, context) {
      const iv = randomBytes(12);
      const cipher = createCipheriv('aes-256-gcm', key, iv);
      cipher.setAAD(aad(context));
      const body = Buffer.concat([cipher.update(plaintext), cipher.final()]);
      return new Uint8Array(Buffer.concat([iv, cipher.getAuthTag(), body]));
    },
    decrypt(ciphertext, context) {
      const buf = Buffer.from(ciphertext);
      const decipher = createDecipheriv('aes-256-gcm', key, buf.subarray(0, 12));
      decipher.setAAD(aad(context));
      decipher.setAuthTag(buf.subarray(12, 28));
      return new Uint8Array(Buffer.concat([decipher.update(buf.subarray(28)), decipher.final()]));
    },
  };
}

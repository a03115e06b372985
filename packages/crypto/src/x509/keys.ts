/** @internal Key information and policy. */
import { createPublicKey, type KeyObject } from 'node:crypto';
import { DerError, readBitStringBytes, readIntegerBytes, readOid, readRoot, seq, TAG } from './der.js';
import { CertificateParseError, KeyPolicyError } from './errors.js';
import { OIDS } from './oids.js';
import type { KeyInfo, KeyPolicy } from './types.js';

const CURVES: Readonly<
  Record<string, { name: 'P-256' | 'P-384' | 'P-521' | 'P-192' | 'P-224'; bits: number }>
> = {
  [OIDS.p192]: { name: 'P-192', bits: 192 },
  [OIDS.p224]: { name: 'P-224', bits: 224 },
  [OIDS.p256]: { name: 'P-256', bits: 256 },
  [OIDS.p384]: { name: 'P-384', bits: 384 },
  [OIDS.p521]: { name: 'P-521', bits: 521 },
};

function bitLength(unsigned: Buffer): number {
  let i = 0;
  while (i < unsigned.length && unsigned[i] === 0) i++;
  if (i === unsigned.length) return 0;
  return (unsigned.length - i - 1) * 8 + Math.floor(Math.log2(unsigned[i] as number)) + 1;
}

/** Key info from SubjectPublicKeyInfo DER (our own reading; no KeyObject needed). */
export function keyInfoFromSpki(spki: Buffer): KeyInfo {
  try {
    const [alg, keyBits, ...rest] = seq(readRoot(spki), 'SubjectPublicKeyInfo');
    if (rest.length > 0) throw new DerError('extra fields in SubjectPublicKeyInfo');
    const [algOidNode, params] = seq(alg, 'AlgorithmIdentifier');
    const algOid = readOid(algOidNode, 'key algorithm');
    const key = readBitStringBytes(keyBits, 'subjectPublicKey');
    switch (algOid) {
      case OIDS.ecPublicKey: {
        if (params === undefined || params.tag !== TAG.OID) {
          return { type: 'ec', curve: 'other', curveOid: '', bits: 0 };
        }
        const curveOid = readOid(params, 'named curve');
        const curve = CURVES[curveOid];
        return curve === undefined
          ? { type: 'ec', curve: 'other', curveOid, bits: 0 }
          : { type: 'ec', curve: curve.name, curveOid, bits: curve.bits };
      }
      case OIDS.rsaEncryption:
      case OIDS.rsassaPss: {
        const [modulus] = seq(readRoot(key), 'RSAPublicKey');
        const n = readIntegerBytes(modulus, 'modulus');
        return { type: algOid === OIDS.rsaEncryption ? 'rsa' : 'rsa-pss', bits: bitLength(n) };
      }
      case OIDS.ed25519:
        return { type: 'ed25519', bits: 256 };
      case OIDS.ed448:
        return { type: 'ed448', bits: 456 };
      default:
        return { type: 'other', algorithmOid: algOid, bits: key.length * 8 };
    }
  } catch (error) {
    if (error instanceof DerError)
      throw new CertificateParseError('spki', `malformed SubjectPublicKeyInfo: ${error.message}`, {
        cause: error,
      });
    throw error;
  }
}

export function keyInfoFromKeyObject(key: KeyObject): KeyInfo {
  if (key.type === 'secret') throw new CertificateParseError('spki', 'keyInfo expects an asymmetric key');
  const pub = key.type === 'private' ? createPublicKey(key) : key;
  return keyInfoFromSpki(pub.export({ format: 'der', type: 'spki' }));
}

/** Why the key is outside the policy, or undefined when it is allowed. */
export function keyPolicyViolation(info: KeyInfo, policy?: KeyPolicy): string | undefined {
  const curves = policy?.ecCurves ?? ['P-256', 'P-384'];
  const min = policy?.rsaMinBits ?? 2048;
  const max = policy?.rsaMaxBits ?? 4096;
  if (info.type === 'ec') {
    if (info.curve !== 'other' && curves.includes(info.curve)) return undefined;
    return `EC curve ${info.curve === 'other' ? info.curveOid || 'unnamed (explicit parameters)' : info.curve} is not allowed`;
  }
  if (info.type === 'rsa') {
    // A modulus that is not a whole number of bytes is a malformed or hand-made key (CA/B Forum 6.1.5).
    if (info.bits >= min && info.bits <= max && info.bits % 8 === 0) return undefined;
    return `RSA ${info.bits}-bit keys are not allowed (${min} to ${max}, whole bytes)`;
  }
  return `${info.type} keys are not allowed`;
}

export function assertAllowedKeyImpl(info: KeyInfo, policy?: KeyPolicy): void {
  const message = keyPolicyViolation(info, policy);
  if (message === undefined) return;
  throw new KeyPolicyError(message, {
    keyType: info.type,
    bits: info.bits,
    ...(info.type === 'ec' ? { curve: info.curve } : {}),
  });
}

/** @internal Signature verification of X.509-style signed data with node:crypto. */
import { constants, type KeyObject, verify } from 'node:crypto';
import { DerError, type DerNode, expect, readOid, readSmallInt, seq, TAG } from './der.js';
import { OIDS } from './oids.js';

export type VerifyOutcome = 'ok' | 'bad' | 'unsupported';

type Hash = 'sha256' | 'sha384' | 'sha512';

interface Scheme {
  readonly kind: 'ecdsa' | 'rsa-pkcs1' | 'rsa-pss' | 'ed25519';
  readonly hash: Hash | null;
  readonly saltLength?: number;
}

const HASH_BY_OID: Readonly<Record<string, Hash>> = {
  [OIDS.sha256]: 'sha256',
  [OIDS.sha384]: 'sha384',
  [OIDS.sha512]: 'sha512',
};

const SIMPLE: Readonly<Record<string, Scheme>> = {
  [OIDS.ecdsaSha256]: { kind: 'ecdsa', hash: 'sha256' },
  [OIDS.ecdsaSha384]: { kind: 'ecdsa', hash: 'sha384' },
  [OIDS.ecdsaSha512]: { kind: 'ecdsa', hash: 'sha512' },
  [OIDS.rsaSha256]: { kind: 'rsa-pkcs1', hash: 'sha256' },
  [OIDS.rsaSha384]: { kind: 'rsa-pkcs1', hash: 'sha384' },
  [OIDS.rsaSha512]: { kind: 'rsa-pkcs1', hash: 'sha512' },
  [OIDS.ed25519]: { kind: 'ed25519', hash: null },
};

function hashOfAlgId(node: DerNode | undefined): Hash | undefined {
  const [oid, params] = seq(node, 'hash AlgorithmIdentifier');
  if (params !== undefined && params.tag !== TAG.NULL) return undefined;
  return HASH_BY_OID[readOid(oid)];
}

/** RSASSA-PSS-params; SHA-1 (the default) is not accepted; MGF1 must use the same hash. */
function pssScheme(params: DerNode | undefined): Scheme | undefined {
  if (params === undefined) return undefined;
  let hash: Hash | undefined;
  let mgfHash: Hash | undefined;
  let salt = 20;
  for (const field of seq(params, 'RSASSA-PSS-params')) {
    const [inner, extra] = seq(field, 'PSS field', field.tag);
    if (extra !== undefined) throw new DerError('bad RSASSA-PSS-params');
    if (field.tag === 0xa0) hash = hashOfAlgId(inner);
    else if (field.tag === 0xa1) {
      const [mgfOid, mgfParams] = seq(inner, 'MaskGenAlgorithm');
      if (readOid(mgfOid) !== OIDS.mgf1) return undefined;
      mgfHash = hashOfAlgId(mgfParams);
    } else if (field.tag === 0xa2) salt = readSmallInt(inner, 'saltLength');
    else if (field.tag === 0xa3) {
      if (readSmallInt(inner, 'trailerField') !== 1) return undefined;
    } else throw new DerError('unknown RSASSA-PSS-params field');
  }
  if (hash === undefined || mgfHash !== hash) return undefined;
  return { kind: 'rsa-pss', hash, saltLength: salt };
}

/** The scheme of an AlgorithmIdentifier, or undefined when we do not accept it (SHA-1, MD5, unknown). */
export function schemeOf(algId: DerNode): Scheme | undefined {
  const [oidNode, params, extra] = seq(
    expect(algId, TAG.SEQUENCE, 'signatureAlgorithm'),
    'signatureAlgorithm',
  );
  if (extra !== undefined) throw new DerError('extra fields in AlgorithmIdentifier');
  const oid = readOid(oidNode, 'signature algorithm');
  if (oid === OIDS.rsassaPss) return pssScheme(params);
  const scheme = SIMPLE[oid];
  if (scheme === undefined) return undefined;
  if (scheme.kind === 'rsa-pkcs1') {
    if (params !== undefined && (params.tag !== TAG.NULL || params.end !== params.contentStart))
      return undefined;
  } else if (params !== undefined) {
    return undefined;
  }
  return scheme;
}

const KEY_TYPES: Readonly<Record<Scheme['kind'], readonly string[]>> = {
  ecdsa: ['ec'],
  'rsa-pkcs1': ['rsa'],
  'rsa-pss': ['rsa', 'rsa-pss'],
  ed25519: ['ed25519'],
};

/**
 * Verifies `signature` over `data` under the algorithm `algId` with `key`. The key type must fit the
 * algorithm (no RSA key for an ECDSA OID and so on).
 */
export function verifySigned(algId: DerNode, data: Buffer, signature: Buffer, key: KeyObject): VerifyOutcome {
  let scheme: Scheme | undefined;
  try {
    scheme = schemeOf(algId);
  } catch {
    scheme = undefined;
  }
  if (scheme === undefined) return 'unsupported';
  if (!KEY_TYPES[scheme.kind].includes(key.asymmetricKeyType ?? '')) return 'bad';
  try {
    let ok: boolean;
    switch (scheme.kind) {
      case 'ecdsa':
        ok = verify(scheme.hash, data, { key, dsaEncoding: 'der' }, signature);
        break;
      case 'rsa-pkcs1':
        ok = verify(scheme.hash, data, { key, padding: constants.RSA_PKCS1_PADDING }, signature);
        break;
      case 'rsa-pss':
        ok = verify(
          scheme.hash,
          data,
          { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: scheme.saltLength ?? 20 },
          signature,
        );
        break;
      case 'ed25519':
        ok = verify(null, data, key, signature);
        break;
    }
    return ok ? 'ok' : 'bad';
  } catch {
    return 'bad';
  }
}

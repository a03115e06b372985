import { constants, createHash, createPublicKey, type KeyObject, verify } from 'node:crypto';
import {
  type AlgorithmProfile,
  algorithmProfile,
  type CommandAlgorithm,
  PSS_SALT_LENGTH,
} from './algorithms.js';
import { derToJose } from './der.js';
import { b64u, fromB64u, utf8 } from './encoding.js';
import {
  CommandSigningError,
  JwsFormatError,
  JwsSignatureError,
  UnknownKeyError,
  UnsupportedAlgorithmError,
} from './errors.js';
import { type CommandClaims, commandClaimsSchema, type JwsHeader, jwsHeaderSchema } from './schemas.js';

/** `typ` of every command JWS (RFC 8725 §3.11 explicit typing). */
export const COMMAND_JWS_TYPE = 'cv-command+jws';
/** Upper bound on a command JWS; anything longer is rejected before parsing. */
export const MAX_JWS_LENGTH = 16 * 1024;

/**
 * A KMS-style signer: gets the digest of the JWS signing input (SHA-256 for ES256/PS256,
 * SHA-384 for ES384) and returns a DER ECDSA signature or a raw RSASSA-PSS signature
 * (salt length 32), exactly what KMS `Sign` with `MessageType: DIGEST` returns.
 */
export interface CommandSigner {
  readonly alg: CommandAlgorithm;
  /** The signing key ARN; goes into the JWS header `kid`. */
  readonly keyId: string;
  sign(digest: Uint8Array): Promise<Uint8Array>;
}

/**
 * Sign claims as a JWS compact serialization with header `{ alg, kid, typ: "cv-command+jws" }`.
 * DER ECDSA signatures are converted to JOSE `R || S`.
 *
 * @throws CommandSigningError if the signer fails or returns an unusable signature
 * @example
 * const jws = await signCommandJws(claims, { alg: 'ES256', keyId: keyArn, sign: (d) => kmsSign(d) });
 */
export async function signCommandJws(claims: CommandClaims, signer: CommandSigner): Promise<string> {
  const profile = algorithmProfile(signer.alg);
  const header: JwsHeader = { alg: profile.alg, kid: signer.keyId, typ: COMMAND_JWS_TYPE };
  const signingInput = `${b64u(JSON.stringify(header))}.${b64u(JSON.stringify(claims))}`;
  const digest = createHash(profile.hash).update(signingInput).digest();
  let signature: Uint8Array;
  try {
    signature = await signer.sign(new Uint8Array(digest));
  } catch (cause) {
    throw new CommandSigningError('Signer failed', { cause });
  }
  return `${signingInput}.${b64u(toJoseSignature(profile, signature))}`;
}

function toJoseSignature(profile: AlgorithmProfile, signature: Uint8Array): Uint8Array {
  if (profile.coordinateSize !== undefined) {
    try {
      return derToJose(signature, profile.coordinateSize);
    } catch (cause) {
      throw new CommandSigningError('Signer returned a malformed DER ECDSA signature', { cause });
    }
  }
  if (signature.length < 256 || signature.length > 512) {
    throw new CommandSigningError('Signer returned an RSA signature of unexpected length');
  }
  return signature;
}

/** A JWS split and decoded, signature not yet verified. */
export interface ParsedJws {
  readonly header: JwsHeader;
  /** Decoded payload JSON (unvalidated). */
  readonly payload: unknown;
  readonly signingInput: string;
  readonly signature: Uint8Array;
}

function decodeJson(part: 'header' | 'payload', text: string): unknown {
  const bytes = fromB64u(text);
  if (bytes === undefined) throw new JwsFormatError(part, `JWS ${part} is not base64url`);
  const json = utf8(bytes);
  if (json === undefined) throw new JwsFormatError(part, `JWS ${part} is not UTF-8`);
  try {
    return JSON.parse(json);
  } catch (cause) {
    throw new JwsFormatError(part, `JWS ${part} is not JSON`, { cause });
  }
}

/**
 * Split and decode a JWS compact serialization without verifying it. Any input either
 * yields a value or throws {@link JwsFormatError}.
 * @example const { header } = parseJws(token); header.kid;
 */
export function parseJws(jws: string): ParsedJws {
  if (typeof jws !== 'string' || jws.length > MAX_JWS_LENGTH) throw new JwsFormatError('jws', 'JWS too long');
  const parts = jws.split('.');
  if (parts.length !== 3) throw new JwsFormatError('jws', 'JWS must have three segments');
  const [h = '', p = '', s = ''] = parts;
  const headerJson = decodeJson('header', h);
  const header = jwsHeaderSchema.safeParse(headerJson);
  if (!header.success) throw new JwsFormatError('header', 'JWS header has an unexpected shape');
  const payload = decodeJson('payload', p);
  const signature = fromB64u(s);
  if (signature === undefined || signature.length === 0) {
    throw new JwsFormatError('signature', 'JWS signature is not base64url');
  }
  return { header: header.data, payload, signingInput: `${h}.${p}`, signature };
}

/** A public key pinned on the ECU, as KMS `GetPublicKey` returns it (SPKI DER), with its key ARN. */
export interface PinnedKey {
  readonly keyId: string;
  readonly publicKey: Uint8Array;
}

/** A pinned key imported once, with the only algorithm it may be used with. */
export interface VerificationKey {
  readonly keyId: string;
  readonly alg: CommandAlgorithm;
  readonly key: KeyObject;
}

/**
 * Import a pinned SPKI DER public key and derive its algorithm from the key itself
 * (P-256 -> ES256, P-384 -> ES384, RSA >= 2048 bits -> PS256). The header's `alg` must
 * then equal it: a key is never used with an algorithm chosen by the message.
 * @example const vk = importPinnedKey({ keyId: arn, publicKey: spkiDer });
 */
export function importPinnedKey(pinned: PinnedKey): VerificationKey {
  const key = createPublicKey({ key: Buffer.from(pinned.publicKey), format: 'der', type: 'spki' });
  const details = key.asymmetricKeyDetails ?? {};
  if (key.asymmetricKeyType === 'ec') {
    if (details.namedCurve === 'prime256v1') return { keyId: pinned.keyId, alg: 'ES256', key };
    if (details.namedCurve === 'secp384r1') return { keyId: pinned.keyId, alg: 'ES384', key };
    throw new UnsupportedAlgorithmError(String(details.namedCurve), 'is not an allowed curve');
  }
  if (key.asymmetricKeyType === 'rsa' || key.asymmetricKeyType === 'rsa-pss') {
    if ((details.modulusLength ?? 0) < 2048)
      throw new UnsupportedAlgorithmError('RSA', 'key is shorter than 2048 bits');
    return { keyId: pinned.keyId, alg: 'PS256', key };
  }
  throw new UnsupportedAlgorithmError(String(key.asymmetricKeyType), 'is not an allowed key type');
}

/**
 * Verify a parsed JWS against the pinned keys: `kid` must be pinned, `alg` must be the
 * key's algorithm (so `none`, `HS256`, or ES256 on an RSA key are rejected) and the
 * signature must verify. Returns the payload (still unvalidated).
 * @example const payload = verifyJwsSignature(parseJws(token), [vk]);
 */
export function verifyJwsSignature(jws: ParsedJws, keys: readonly VerificationKey[]): unknown {
  const { alg, kid } = jws.header;
  if (alg !== 'ES256' && alg !== 'ES384' && alg !== 'PS256') throw new UnsupportedAlgorithmError(alg);
  const vk = keys.find((k) => k.keyId === kid);
  if (vk === undefined) throw new UnknownKeyError(kid);
  if (vk.alg !== alg) throw new UnsupportedAlgorithmError(alg, `does not match the pinned key (${vk.alg})`);
  const profile = algorithmProfile(alg);
  const data = Buffer.from(jws.signingInput, 'ascii');
  let ok = false;
  try {
    if (profile.coordinateSize !== undefined) {
      ok =
        jws.signature.length === profile.coordinateSize * 2 &&
        verify(profile.hash, data, { key: vk.key, dsaEncoding: 'ieee-p1363' }, jws.signature);
    } else {
      ok = verify(
        profile.hash,
        data,
        { key: vk.key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: PSS_SALT_LENGTH },
        jws.signature,
      );
    }
  } catch {
    ok = false;
  }
  if (!ok) throw new JwsSignatureError(kid);
  return jws.payload;
}

/** Validate decoded claims against the docs/architecture.md §6 schema; `undefined` if they do not match. */
export function parseClaims(payload: unknown): CommandClaims | undefined {
  const parsed = commandClaimsSchema.safeParse(payload);
  return parsed.success ? parsed.data : undefined;
}

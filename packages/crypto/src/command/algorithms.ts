import { UnsupportedAlgorithmError } from './errors.js';

/** JWS algorithms a command may be signed with. Nothing else (`none`, `HS*`, `RS*`, ...) is accepted. */
export type CommandAlgorithm = 'ES256' | 'ES384' | 'PS256';

/** What each allowed algorithm means for KMS and for verification. */
export interface AlgorithmProfile {
  readonly alg: CommandAlgorithm;
  /** KMS `SigningAlgorithm` to pass to `Sign` with `MessageType: DIGEST`. */
  readonly kmsSigningAlgorithm: 'ECDSA_SHA_256' | 'ECDSA_SHA_384' | 'RSASSA_PSS_SHA_256';
  /** KMS `KeySpec` prefix of the key that produces it. */
  readonly kmsKeySpec: 'ECC_NIST_P256' | 'ECC_NIST_P384' | 'RSA';
  /** node:crypto digest name. */
  readonly hash: 'sha256' | 'sha384';
  /** For ECDSA: the byte width of R and of S in the JOSE signature. */
  readonly coordinateSize?: number;
  /** For ECDSA: node:crypto named curve of the key. */
  readonly namedCurve?: 'prime256v1' | 'secp384r1';
}

export const ALGORITHMS: Readonly<Record<CommandAlgorithm, AlgorithmProfile>> = Object.freeze({
  ES256: {
    alg: 'ES256',
    kmsSigningAlgorithm: 'ECDSA_SHA_256',
    kmsKeySpec: 'ECC_NIST_P256',
    hash: 'sha256',
    coordinateSize: 32,
    namedCurve: 'prime256v1',
  },
  ES384: {
    alg: 'ES384',
    kmsSigningAlgorithm: 'ECDSA_SHA_384',
    kmsKeySpec: 'ECC_NIST_P384',
    hash: 'sha384',
    coordinateSize: 48,
    namedCurve: 'secp384r1',
  },
  PS256: { alg: 'PS256', kmsSigningAlgorithm: 'RSASSA_PSS_SHA_256', kmsKeySpec: 'RSA', hash: 'sha256' },
});

/** RSASSA-PSS salt length KMS uses for RSASSA_PSS_SHA_256 (and JWS PS256): the hash length. */
export const PSS_SALT_LENGTH = 32;

/**
 * Look up an allowed algorithm by its JWS name; anything else throws.
 * @example algorithmProfile('ES256').kmsSigningAlgorithm; // 'ECDSA_SHA_256'
 */
export function algorithmProfile(alg: string): AlgorithmProfile {
  if (alg === 'ES256' || alg === 'ES384' || alg === 'PS256') return ALGORITHMS[alg];
  throw new UnsupportedAlgorithmError(alg);
}

/**
 * The JWS algorithm for a KMS key, from `GetPublicKey`'s `KeySpec` and its `SigningAlgorithms`.
 * ECC keys map to ES256/ES384; RSA keys to PS256 only if the key offers RSASSA_PSS_SHA_256.
 * @example algorithmForKmsKey('ECC_NIST_P256', ['ECDSA_SHA_256']); // 'ES256'
 */
export function algorithmForKmsKey(
  keySpec: string,
  signingAlgorithms: readonly string[] = [],
): CommandAlgorithm {
  if (keySpec === 'ECC_NIST_P256') return 'ES256';
  if (keySpec === 'ECC_NIST_P384') return 'ES384';
  if (/^RSA_(2048|3072|4096)$/.test(keySpec)) {
    if (signingAlgorithms.length === 0 || signingAlgorithms.includes('RSASSA_PSS_SHA_256')) return 'PS256';
    throw new UnsupportedAlgorithmError(keySpec, 'does not offer RSASSA_PSS_SHA_256');
  }
  throw new UnsupportedAlgorithmError(keySpec, 'is not a supported KMS key spec');
}

/**
 * AWS KMS (awsJson1_1, target prefix `TrentService`): symmetric keys with the encryption
 * context bound as AES-GCM additional data (a Decrypt with another context fails with
 * InvalidCiphertextException, as the real service does), asymmetric ECC/RSA signing keys with
 * `MessageType` RAW and DIGEST returning DER ECDSA signatures, GetPublicKey as SPKI DER.
 */
import {
  constants,
  createCipheriv,
  createDecipheriv,
  createHash,
  generateKeyPairSync,
  type KeyObject,
  privateEncrypt,
  publicDecrypt,
  randomBytes,
  randomUUID,
} from 'node:crypto';
import { p256, p384, p521 } from '@noble/curves/nist.js';
import { AwsApiError } from '../errors.js';
import { jsonRouter, type ServiceHandler, str } from '../wire.js';

type KeySpec =
  | 'SYMMETRIC_DEFAULT'
  | 'ECC_NIST_P256'
  | 'ECC_NIST_P384'
  | 'ECC_NIST_P521'
  | 'RSA_2048'
  | 'RSA_3072'
  | 'RSA_4096';

interface Key {
  readonly keyId: string;
  readonly arn: string;
  readonly spec: KeySpec;
  readonly usage: 'ENCRYPT_DECRYPT' | 'SIGN_VERIFY';
  readonly description: string;
  readonly created: Date;
  readonly secret?: Buffer;
  readonly privateKey?: KeyObject;
  readonly publicKey?: KeyObject;
}

const SIGNING: Record<string, readonly string[]> = {
  ECC_NIST_P256: ['ECDSA_SHA_256'],
  ECC_NIST_P384: ['ECDSA_SHA_384'],
  ECC_NIST_P521: ['ECDSA_SHA_512'],
  RSA_2048: RSA_ALGS(),
  RSA_3072: RSA_ALGS(),
  RSA_4096: RSA_ALGS(),
};
function RSA_ALGS(): readonly string[] {
  return [
    'RSASSA_PSS_SHA_256',
    'RSASSA_PSS_SHA_384',
    'RSASSA_PSS_SHA_512',
    'RSASSA_PKCS1_V1_5_SHA_256',
    'RSASSA_PKCS1_V1_5_SHA_384',
    'RSASSA_PKCS1_V1_5_SHA_512',
  ];
}
const HASH_OF: Record<string, 'sha256' | 'sha384' | 'sha512'> = {
  ECDSA_SHA_256: 'sha256',
  ECDSA_SHA_384: 'sha384',
  ECDSA_SHA_512: 'sha512',
  RSASSA_PSS_SHA_256: 'sha256',
  RSASSA_PSS_SHA_384: 'sha384',
  RSASSA_PSS_SHA_512: 'sha512',
  RSASSA_PKCS1_V1_5_SHA_256: 'sha256',
  RSASSA_PKCS1_V1_5_SHA_384: 'sha384',
  RSASSA_PKCS1_V1_5_SHA_512: 'sha512',
};
const DIGEST_INFO: Record<string, string> = {
  sha256: '3031300d060960864801650304020105000420',
  sha384: '3041300d060960864801650304020205000430',
  sha512: '3051300d060960864801650304020305000440',
};
const HASH_LEN = { sha256: 32, sha384: 48, sha512: 64 } as const;

const BLOB_MAGIC = 0x4c; // 'L'

/** Canonical bytes of an encryption context (bound as additional authenticated data). */
function contextAad(context: unknown): Buffer {
  if (context === undefined || context === null) return Buffer.alloc(0);
  if (typeof context !== 'object' || Array.isArray(context)) {
    throw new AwsApiError('ValidationException', 'EncryptionContext must be a map of strings');
  }
  const entries = Object.entries(context as Record<string, unknown>).sort(([a], [b]) =>
    a < b ? -1 : a > b ? 1 : 0,
  );
  for (const [, v] of entries) {
    if (typeof v !== 'string')
      throw new AwsApiError('ValidationException', 'EncryptionContext values are strings');
  }
  return Buffer.from(JSON.stringify(entries), 'utf8');
}

function b64(input: Record<string, unknown>, key: string): Buffer {
  const v = input[key];
  if (typeof v !== 'string') throw new AwsApiError('ValidationException', `${key} is required`);
  return Buffer.from(v, 'base64');
}

export interface KmsKeySeed {
  readonly keyId?: string;
  readonly spec: KeySpec;
  readonly aliases?: readonly string[];
  readonly description?: string;
}

export class KmsService {
  readonly keys = new Map<string, Key>();
  readonly aliases = new Map<string, string>();
  /** Operation counters (a measured figure the tests and the demo use). */
  readonly calls = new Map<string, number>();

  constructor(
    private readonly region: string,
    private readonly account: string,
  ) {}

  createKey(seed: KmsKeySeed): Key {
    const keyId = seed.keyId ?? randomUUID();
    if (this.keys.has(keyId)) throw new AwsApiError('AlreadyExistsException', `key ${keyId} exists`);
    const arn = `arn:aws:kms:${this.region}:${this.account}:key/${keyId}`;
    const base = {
      keyId,
      arn,
      spec: seed.spec,
      description: seed.description ?? '',
      created: new Date(),
    };
    let key: Key;
    if (seed.spec === 'SYMMETRIC_DEFAULT') {
      key = { ...base, usage: 'ENCRYPT_DECRYPT', secret: randomBytes(32) };
    } else if (seed.spec.startsWith('ECC_NIST_')) {
      const namedCurve = { ECC_NIST_P256: 'P-256', ECC_NIST_P384: 'P-384', ECC_NIST_P521: 'P-521' }[
        seed.spec as 'ECC_NIST_P256'
      ];
      const pair = generateKeyPairSync('ec', { namedCurve });
      key = { ...base, usage: 'SIGN_VERIFY', privateKey: pair.privateKey, publicKey: pair.publicKey };
    } else if (seed.spec.startsWith('RSA_')) {
      const pair = generateKeyPairSync('rsa', { modulusLength: Number(seed.spec.slice(4)) });
      key = { ...base, usage: 'SIGN_VERIFY', privateKey: pair.privateKey, publicKey: pair.publicKey };
    } else {
      throw new AwsApiError('ValidationException', `KeySpec ${String(seed.spec)} is not supported locally`);
    }
    this.keys.set(keyId, key);
    for (const alias of seed.aliases ?? []) this.aliases.set(alias, keyId);
    return key;
  }

  /** Resolves a key id, key ARN, alias name or alias ARN. */
  resolve(ref: string): Key {
    let id = ref;
    const arnMatch = /^arn:aws:kms:[^:]*:[^:]*:(key|alias)\/(.+)$/.exec(ref);
    if (arnMatch) id = arnMatch[1] === 'alias' ? `alias/${arnMatch[2]}` : (arnMatch[2] ?? '');
    if (id.startsWith('alias/')) {
      const target = this.aliases.get(id);
      if (!target) throw new AwsApiError('NotFoundException', `Alias ${ref} is not found.`);
      id = target;
    }
    const key = this.keys.get(id);
    if (!key) throw new AwsApiError('NotFoundException', `Key '${ref}' does not exist`);
    return key;
  }

  private metadata(key: Key) {
    return {
      AWSAccountId: this.account,
      KeyId: key.keyId,
      Arn: key.arn,
      CreationDate: key.created.getTime() / 1000,
      Enabled: true,
      Description: key.description,
      KeyUsage: key.usage,
      KeyState: 'Enabled',
      Origin: 'AWS_KMS',
      KeyManager: 'CUSTOMER',
      CustomerMasterKeySpec: key.spec,
      KeySpec: key.spec,
      MultiRegion: false,
      ...(key.usage === 'SIGN_VERIFY'
        ? { SigningAlgorithms: SIGNING[key.spec] ?? [] }
        : { EncryptionAlgorithms: ['SYMMETRIC_DEFAULT'] }),
    };
  }

  private symmetric(ref: string): Key & { secret: Buffer } {
    const key = this.resolve(ref);
    if (key.usage !== 'ENCRYPT_DECRYPT' || !key.secret) {
      throw new AwsApiError(
        'InvalidKeyUsageException',
        `${key.arn} key usage is ${key.usage} which is not valid for this operation.`,
      );
    }
    return key as Key & { secret: Buffer };
  }

  encryptBytes(ref: string, plaintext: Buffer, context: unknown): { blob: Buffer; key: Key } {
    const key = this.symmetric(ref);
    if (plaintext.length === 0 || plaintext.length > 4096) {
      throw new AwsApiError('ValidationException', 'Plaintext must be 1 to 4096 bytes');
    }
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', key.secret, iv);
    cipher.setAAD(Buffer.concat([Buffer.from(key.keyId), contextAad(context)]));
    const ct = Buffer.concat([cipher.update(plaintext), cipher.final()]);
    const id = Buffer.from(key.keyId, 'utf8');
    const blob = Buffer.concat([Buffer.from([BLOB_MAGIC, id.length]), id, iv, cipher.getAuthTag(), ct]);
    return { blob, key };
  }

  /** The key id a ciphertext blob (base64) names, as AWS reads it for authorisation; undefined if not a blob of ours. */
  keyIdOfCiphertext(base64: string): string | undefined {
    const blob = Buffer.from(base64, 'base64');
    if (blob.length < 2 || blob[0] !== BLOB_MAGIC) return undefined;
    return blob.subarray(2, 2 + (blob[1] ?? 0)).toString('utf8');
  }

  decryptBytes(blob: Buffer, keyRef: string | undefined, context: unknown): { plaintext: Buffer; key: Key } {
    const invalid = () => new AwsApiError('InvalidCiphertextException', '');
    if (blob.length < 2 || blob[0] !== BLOB_MAGIC) throw invalid();
    const idLen = blob[1] ?? 0;
    const keyId = blob.subarray(2, 2 + idLen).toString('utf8');
    const key = this.keys.get(keyId);
    if (!key) throw invalid();
    if (keyRef !== undefined && keyRef !== '' && this.resolve(keyRef).keyId !== keyId) {
      throw new AwsApiError(
        'IncorrectKeyException',
        'The key ID in the request does not identify a CMK that can perform this operation.',
      );
    }
    if (!key.secret) throw invalid();
    const off = 2 + idLen;
    const iv = blob.subarray(off, off + 12);
    const tag = blob.subarray(off + 12, off + 28);
    const ct = blob.subarray(off + 28);
    try {
      const decipher = createDecipheriv('aes-256-gcm', key.secret, iv);
      decipher.setAAD(Buffer.concat([Buffer.from(key.keyId), contextAad(context)]));
      decipher.setAuthTag(tag);
      return { plaintext: Buffer.concat([decipher.update(ct), decipher.final()]), key };
    } catch {
      throw invalid();
    }
  }

  private signature(key: Key, algorithm: string, message: Buffer, messageType: string): Buffer {
    if (key.usage !== 'SIGN_VERIFY' || !key.privateKey) {
      throw new AwsApiError(
        'InvalidKeyUsageException',
        `${key.arn} key usage is ENCRYPT_DECRYPT which is not valid for Sign.`,
      );
    }
    if (!(SIGNING[key.spec] ?? []).includes(algorithm)) {
      throw new AwsApiError(
        'InvalidKeyUsageException',
        `Algorithm ${algorithm} is incompatible with key spec ${key.spec}.`,
      );
    }
    const hash = HASH_OF[algorithm];
    if (!hash) throw new AwsApiError('ValidationException', `SigningAlgorithm ${algorithm}`);
    if (message.length === 0 || message.length > 4096) {
      throw new AwsApiError('ValidationException', 'Message must be 1 to 4096 bytes');
    }
    let digest: Buffer;
    if (messageType === 'DIGEST') {
      if (message.length !== HASH_LEN[hash]) {
        throw new AwsApiError('ValidationException', `Digest is invalid length for algorithm ${algorithm}.`);
      }
      digest = message;
    } else if (messageType === 'RAW' || messageType === '') {
      digest = createHash(hash).update(message).digest();
    } else {
      throw new AwsApiError('ValidationException', `MessageType ${messageType} is not supported locally`);
    }
    return signDigest(key, algorithm, hash, digest);
  }

  handler(): ServiceHandler {
    const count = (op: string) => this.calls.set(op, (this.calls.get(op) ?? 0) + 1);
    const wrap =
      (op: string, fn: (input: Record<string, unknown>) => unknown) => (input: Record<string, unknown>) => {
        count(op);
        return fn(input);
      };
    return jsonRouter({
      CreateKey: wrap('CreateKey', (input) => {
        const spec = (input.KeySpec ?? input.CustomerMasterKeySpec ?? 'SYMMETRIC_DEFAULT') as KeySpec;
        const key = this.createKey({
          spec,
          description: typeof input.Description === 'string' ? input.Description : '',
        });
        return { KeyMetadata: this.metadata(key) };
      }),
      CreateAlias: wrap('CreateAlias', (input) => {
        const alias = str(input, 'AliasName');
        if (!alias.startsWith('alias/'))
          throw new AwsApiError('ValidationException', 'AliasName must begin with alias/');
        if (this.aliases.has(alias))
          throw new AwsApiError('AlreadyExistsException', `An alias with the name ${alias} already exists`);
        this.aliases.set(alias, this.resolve(str(input, 'TargetKeyId')).keyId);
        return {};
      }),
      DescribeKey: wrap('DescribeKey', (input) => ({
        KeyMetadata: this.metadata(this.resolve(str(input, 'KeyId'))),
      })),
      Encrypt: wrap('Encrypt', (input) => {
        const { blob, key } = this.encryptBytes(
          str(input, 'KeyId'),
          b64(input, 'Plaintext'),
          input.EncryptionContext,
        );
        return {
          CiphertextBlob: blob.toString('base64'),
          KeyId: key.arn,
          EncryptionAlgorithm: 'SYMMETRIC_DEFAULT',
        };
      }),
      Decrypt: wrap('Decrypt', (input) => {
        const keyRef = typeof input.KeyId === 'string' ? input.KeyId : undefined;
        const { plaintext, key } = this.decryptBytes(
          b64(input, 'CiphertextBlob'),
          keyRef,
          input.EncryptionContext,
        );
        return {
          Plaintext: plaintext.toString('base64'),
          KeyId: key.arn,
          EncryptionAlgorithm: 'SYMMETRIC_DEFAULT',
        };
      }),
      GenerateDataKey: wrap('GenerateDataKey', (input) => {
        const n = dataKeyLength(input);
        const plaintext = randomBytes(n);
        const { blob, key } = this.encryptBytes(str(input, 'KeyId'), plaintext, input.EncryptionContext);
        return {
          CiphertextBlob: blob.toString('base64'),
          Plaintext: plaintext.toString('base64'),
          KeyId: key.arn,
        };
      }),
      GenerateDataKeyWithoutPlaintext: wrap('GenerateDataKeyWithoutPlaintext', (input) => {
        const { blob, key } = this.encryptBytes(
          str(input, 'KeyId'),
          randomBytes(dataKeyLength(input)),
          input.EncryptionContext,
        );
        return { CiphertextBlob: blob.toString('base64'), KeyId: key.arn };
      }),
      Sign: wrap('Sign', (input) => {
        const key = this.resolve(str(input, 'KeyId'));
        const algorithm = str(input, 'SigningAlgorithm');
        const sig = this.signature(key, algorithm, b64(input, 'Message'), String(input.MessageType ?? 'RAW'));
        return { KeyId: key.arn, Signature: sig.toString('base64'), SigningAlgorithm: algorithm };
      }),
      Verify: wrap('Verify', (input) => {
        const key = this.resolve(str(input, 'KeyId'));
        const algorithm = str(input, 'SigningAlgorithm');
        const hash = HASH_OF[algorithm];
        if (!key.publicKey || !hash) throw new AwsApiError('InvalidKeyUsageException', 'not a signing key');
        const message = b64(input, 'Message');
        const digest = input.MessageType === 'DIGEST' ? message : createHash(hash).update(message).digest();
        if (!verifyDigest(key, algorithm, hash, digest, b64(input, 'Signature'))) {
          throw new AwsApiError('KMSInvalidSignatureException', '');
        }
        return { KeyId: key.arn, SignatureValid: true, SigningAlgorithm: algorithm };
      }),
      GetPublicKey: wrap('GetPublicKey', (input) => {
        const key = this.resolve(str(input, 'KeyId'));
        if (!key.publicKey) {
          throw new AwsApiError(
            'UnsupportedOperationException',
            `${key.arn} key usage is ENCRYPT_DECRYPT which is not valid for GetPublicKey.`,
          );
        }
        return {
          KeyId: key.arn,
          PublicKey: key.publicKey.export({ format: 'der', type: 'spki' }).toString('base64'),
          KeySpec: key.spec,
          CustomerMasterKeySpec: key.spec,
          KeyUsage: key.usage,
          SigningAlgorithms: SIGNING[key.spec] ?? [],
        };
      }),
    });
  }
}

function dataKeyLength(input: Record<string, unknown>): number {
  if (typeof input.NumberOfBytes === 'number') {
    if (input.NumberOfBytes < 1 || input.NumberOfBytes > 1024) {
      throw new AwsApiError('ValidationException', 'NumberOfBytes must be 1 to 1024');
    }
    return input.NumberOfBytes;
  }
  if (input.KeySpec === 'AES_256') return 32;
  if (input.KeySpec === 'AES_128') return 16;
  throw new AwsApiError('ValidationException', 'Please specify either number of bytes or key spec.');
}

function ecdsaCurve(spec: KeySpec) {
  return spec === 'ECC_NIST_P256' ? p256 : spec === 'ECC_NIST_P384' ? p384 : p521;
}

function signDigest(
  key: Key,
  algorithm: string,
  hash: 'sha256' | 'sha384' | 'sha512',
  digest: Buffer,
): Buffer {
  const privateKey = key.privateKey as KeyObject;
  if (algorithm.startsWith('ECDSA_')) {
    // KMS signs the digest itself (no second hash) and returns an ASN.1 DER ECDSA-Sig-Value.
    const jwk = privateKey.export({ format: 'jwk' });
    const d = Buffer.from(String(jwk.d), 'base64url');
    const sig = ecdsaCurve(key.spec).sign(digest, d, { prehash: false, format: 'der', lowS: false });
    return Buffer.from(sig);
  }
  const modulusBytes = Math.ceil((privateKey.asymmetricKeyDetails?.modulusLength ?? 2048) / 8);
  if (algorithm.startsWith('RSASSA_PKCS1_V1_5_')) {
    const info = Buffer.concat([Buffer.from(DIGEST_INFO[hash] ?? '', 'hex'), digest]);
    return privateEncrypt({ key: privateKey, padding: constants.RSA_PKCS1_PADDING }, info);
  }
  // RSASSA-PSS (RFC 8017 9.1.1) with salt length = hash length, MGF1 with the same hash.
  const em = emsaPssEncode(digest, hash, (privateKey.asymmetricKeyDetails?.modulusLength ?? 2048) - 1);
  const padded = Buffer.concat([Buffer.alloc(modulusBytes - em.length), em]);
  return privateEncrypt({ key: privateKey, padding: constants.RSA_NO_PADDING }, padded);
}

function verifyDigest(
  key: Key,
  algorithm: string,
  hash: 'sha256' | 'sha384' | 'sha512',
  digest: Buffer,
  signature: Buffer,
): boolean {
  const publicKey = key.publicKey as KeyObject;
  if (algorithm.startsWith('ECDSA_')) {
    const jwk = publicKey.export({ format: 'jwk' });
    const point = Buffer.concat([
      Buffer.from([4]),
      Buffer.from(String(jwk.x), 'base64url'),
      Buffer.from(String(jwk.y), 'base64url'),
    ]);
    try {
      return ecdsaCurve(key.spec).verify(signature, digest, point, {
        prehash: false,
        format: 'der',
        lowS: false,
      });
    } catch {
      return false;
    }
  }
  // RSA: the public-key operation, then the PKCS#1 v1.5 DigestInfo or the EMSA-PSS check.
  try {
    const pss = algorithm.startsWith('RSASSA_PSS_');
    return nodeVerifyDigest(publicKey, hash, digest, signature, pss);
  } catch {
    return false;
  }
}

function nodeVerifyDigest(
  publicKey: KeyObject,
  hash: 'sha256' | 'sha384' | 'sha512',
  digest: Buffer,
  signature: Buffer,
  pss: boolean,
): boolean {
  if (!pss) {
    const info = publicDecrypt({ key: publicKey, padding: constants.RSA_PKCS1_PADDING }, signature);
    return info.equals(Buffer.concat([Buffer.from(DIGEST_INFO[hash] ?? '', 'hex'), digest]));
  }
  const em = publicDecrypt({ key: publicKey, padding: constants.RSA_NO_PADDING }, signature);
  const emBits = (publicKey.asymmetricKeyDetails?.modulusLength ?? 2048) - 1;
  const emLen = Math.ceil(emBits / 8);
  return emsaPssVerify(digest, em.subarray(em.length - emLen), hash, emBits);
}

function mgf1(seed: Buffer, length: number, hash: string): Buffer {
  const out: Buffer[] = [];
  let counter = 0;
  while (out.reduce((n, b) => n + b.length, 0) < length) {
    const c = Buffer.alloc(4);
    c.writeUInt32BE(counter++);
    out.push(createHash(hash).update(seed).update(c).digest());
  }
  return Buffer.concat(out).subarray(0, length);
}

function emsaPssEncode(mHash: Buffer, hash: string, emBits: number): Buffer {
  const hLen = mHash.length;
  const sLen = hLen;
  const emLen = Math.ceil(emBits / 8);
  const salt = randomBytes(sLen);
  const mPrime = Buffer.concat([Buffer.alloc(8), mHash, salt]);
  const h = createHash(hash).update(mPrime).digest();
  const ps = Buffer.alloc(emLen - sLen - hLen - 2);
  const db = Buffer.concat([ps, Buffer.from([1]), salt]);
  const mask = mgf1(h, emLen - hLen - 1, hash);
  const masked = Buffer.alloc(db.length);
  for (let i = 0; i < db.length; i++) masked[i] = (db[i] ?? 0) ^ (mask[i] ?? 0);
  masked[0] = (masked[0] ?? 0) & (0xff >> (8 * emLen - emBits));
  return Buffer.concat([masked, h, Buffer.from([0xbc])]);
}

function emsaPssVerify(mHash: Buffer, em: Buffer, hash: string, emBits: number): boolean {
  const hLen = mHash.length;
  const emLen = Math.ceil(emBits / 8);
  if (em.length !== emLen || em[em.length - 1] !== 0xbc) return false;
  const masked = em.subarray(0, emLen - hLen - 1);
  const h = em.subarray(emLen - hLen - 1, emLen - 1);
  const mask = mgf1(h, masked.length, hash);
  const db = Buffer.alloc(masked.length);
  for (let i = 0; i < db.length; i++) db[i] = (masked[i] ?? 0) ^ (mask[i] ?? 0);
  db[0] = (db[0] ?? 0) & (0xff >> (8 * emLen - emBits));
  const sep = db.indexOf(1);
  if (sep < 0 || db.subarray(0, sep).some((b) => b !== 0)) return false;
  const salt = db.subarray(sep + 1);
  const hPrime = createHash(hash)
    .update(Buffer.concat([Buffer.alloc(8), mHash, salt]))
    .digest();
  return hPrime.equals(h);
}

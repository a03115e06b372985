import type { KeyObject, X509Certificate } from 'node:crypto';

/** Public-key description: EC curve or RSA modulus size. */
export type KeyInfo =
  | {
      readonly type: 'ec';
      readonly curve: 'P-256' | 'P-384' | 'P-521' | 'P-192' | 'P-224' | 'other';
      readonly curveOid: string;
      readonly bits: number;
    }
  | { readonly type: 'rsa' | 'rsa-pss'; readonly bits: number }
  | { readonly type: 'ed25519' | 'ed448'; readonly bits: number }
  | { readonly type: 'other'; readonly algorithmOid: string; readonly bits: number };

/** Which key types and sizes a caller accepts. */
export interface KeyPolicy {
  /** EC curves accepted. Default `['P-256', 'P-384']`. */
  readonly ecCurves?: readonly string[];
  /** Smallest RSA modulus in bits. Default 2048. */
  readonly rsaMinBits?: number;
  /** Largest RSA modulus in bits. Default 4096. */
  readonly rsaMaxBits?: number;
}

/** keyUsage bits (RFC 5280 4.2.1.3). */
export type KeyUsageFlag =
  | 'digitalSignature'
  | 'nonRepudiation'
  | 'keyEncipherment'
  | 'dataEncipherment'
  | 'keyAgreement'
  | 'keyCertSign'
  | 'cRLSign'
  | 'encipherOnly'
  | 'decipherOnly';

/** One raw extension as found in the certificate or the CSR's extensionRequest. */
export interface Extension {
  readonly oid: string;
  readonly critical: boolean;
  /** The extnValue contents (the DER inside the OCTET STRING). */
  readonly value: Buffer;
}

/** A parsed X.509 certificate. Every accessor is computed once, lazily. */
export interface Certificate {
  /** The DER encoding. */
  readonly der: Buffer;
  /** PEM (`-----BEGIN CERTIFICATE-----`), LF line endings. */
  readonly pem: string;
  /** Node's view of the same certificate (parsed lazily). */
  readonly x509: X509Certificate;
  /** X.509 version number (1, 2 or 3). */
  readonly version: number;
  /** Serial number: lowercase hex, even length, without the DER sign byte (e.g. `"0a1b"`). */
  readonly serialNumber: string;
  /** Serial number as the DER INTEGER content bytes (sign byte kept). */
  readonly serialNumberBytes: Buffer;
  /** Subject as one line (`CN=...,O=...`, RFC 4514 order), for logs and messages. */
  readonly subject: string;
  /** Issuer as one line. */
  readonly issuer: string;
  /** DER of the subject Name (used for name chaining, byte-exact). */
  readonly subjectDer: Buffer;
  /** DER of the issuer Name. */
  readonly issuerDer: Buffer;
  /** The subject's first commonName, or undefined. */
  readonly subjectCN: string | undefined;
  readonly notBefore: Date;
  readonly notAfter: Date;
  /** SubjectPublicKeyInfo DER (compare keys with `equals`). */
  readonly spki: Buffer;
  /** The subjectPublicKey BIT STRING contents (what OCSP's issuerKeyHash hashes). */
  readonly subjectPublicKey: Buffer;
  /** The public key (created lazily from `spki`). */
  readonly publicKey: KeyObject;
  readonly keyInfo: KeyInfo;
  /** Signature algorithm OID of the outer signature. */
  readonly signatureAlgorithmOid: string;
  /** All extensions, in order. */
  readonly extensions: readonly Extension[];
  /** basicConstraints, or undefined when the extension is absent. */
  readonly basicConstraints:
    | { readonly ca: boolean; readonly pathLen: number | undefined; readonly critical: boolean }
    | undefined;
  /** keyUsage flags, or undefined when the extension is absent. */
  readonly keyUsage: ReadonlySet<KeyUsageFlag> | undefined;
  /** extKeyUsage OIDs, or undefined when the extension is absent. */
  readonly extKeyUsage: readonly string[] | undefined;
  /** URIs from subjectAltName. */
  readonly sanUris: readonly string[];
  /** DNS names from subjectAltName. */
  readonly sanDnsNames: readonly string[];
  /** OCSP responder URLs from Authority Information Access. */
  readonly ocspUrls: readonly string[];
  /** subjectKeyIdentifier, if present. */
  readonly subjectKeyId: Buffer | undefined;
  /** authorityKeyIdentifier keyIdentifier, if present. */
  readonly authorityKeyId: Buffer | undefined;
  /** SHA-256 over the DER, lowercase hex without separators. */
  readonly fingerprintSha256: string;
  /** True when subject and issuer names are byte-equal. */
  readonly selfIssued: boolean;
}

/** A parsed PKCS#10 certification request. Parsing does not verify the signature: call `verifyCsrSignature`. */
export interface CertificationRequest {
  readonly der: Buffer;
  readonly pem: string;
  readonly subject: string;
  readonly subjectDer: Buffer;
  readonly subjectCN: string | undefined;
  readonly spki: Buffer;
  readonly publicKey: KeyObject;
  readonly keyInfo: KeyInfo;
  readonly signatureAlgorithmOid: string;
  /** Extensions from the extensionRequest attribute (empty when absent). */
  readonly requestedExtensions: readonly Extension[];
  /** URIs from a requested subjectAltName. */
  readonly sanUris: readonly string[];
}

/**
 * Reasons a chain is rejected; each names the rule that failed (docs/protocol.md lists them):
 * - `expired`, `not-yet-valid`: validity at the validation time (with the allowed skew).
 * - `bad-signature`: a signature does not verify; `signature-algorithm-mismatch`: the inner and
 *   outer AlgorithmIdentifiers differ; `unsupported-algorithm`: SHA-1, MD5, unknown.
 * - `key-policy`: a certificate's key (any certificate of the path, anchor included) is outside the
 *   key policy (EC P-256/P-384 on a named curve, RSA 2048 to 4096 bits in whole bytes by default).
 * - `not-ca`, `key-usage`, `path-length`: an issuer without cA, keyCertSign, or beyond its pathLen;
 *   `key-usage` also for keyCertSign without cA and a leaf missing the required bits.
 * - `certificate-version`: not an X.509 v3 certificate.
 * - `serial-number`: serial zero, negative, or longer than 20 octets.
 * - `extension-criticality`: AKI, SKI or AIA critical; basicConstraints of a CA, nameConstraints or
 *   policyConstraints not critical; subjectAltName not critical under an empty subject.
 * - `authority-key-id`: AKI (with keyIdentifier) missing where required, or not the issuer's SKI.
 * - `subject-key-id`: a CA certificate without SKI.
 * - `empty-name`: an empty issuer, a CA with an empty subject, an empty subject without subjectAltName.
 * - `subject-alt-name`: a malformed dNSName, rfc822Name or iPAddress in subjectAltName.
 * - `name-constraints`: a name outside a CA's permitted or inside its excluded subtrees, a
 *   malformed constraint, nameConstraints in an end entity, or too much work.
 * - `unknown-critical-extension`, `leaf-is-ca`, `ext-key-usage`, `untrusted`, `chain-too-long`.
 */
export type ChainFailureReason =
  | 'expired'
  | 'not-yet-valid'
  | 'bad-signature'
  | 'signature-algorithm-mismatch'
  | 'unsupported-algorithm'
  | 'key-policy'
  | 'not-ca'
  | 'path-length'
  | 'key-usage'
  | 'ext-key-usage'
  | 'certificate-version'
  | 'serial-number'
  | 'extension-criticality'
  | 'authority-key-id'
  | 'subject-key-id'
  | 'empty-name'
  | 'subject-alt-name'
  | 'name-constraints'
  | 'untrusted'
  | 'leaf-is-ca'
  | 'unknown-critical-extension'
  | 'chain-too-long';

/** Parsed trust anchors, indexed by subject and key. Build once (module scope) and reuse. */
export interface TrustStore {
  readonly anchors: readonly Certificate[];
  /** Anchors whose subject Name DER equals `nameDer`. */
  bySubject(nameDer: Buffer): readonly Certificate[];
  /** True when some anchor has exactly this SubjectPublicKeyInfo. */
  hasKey(spki: Buffer): boolean;
}

/** Options of `validateChain`. */
export interface ChainValidationOptions {
  /** The certificate to validate (end entity). */
  readonly leaf: Certificate;
  /** Untrusted intermediates, any order, extras allowed (e.g. the rest of a PEM chain). */
  readonly intermediates?: readonly Certificate[];
  readonly trust: TrustStore;
  /** Validation time. Default: `new Date()`. */
  readonly now?: Date;
  /** Allowance on notBefore/notAfter in seconds. Default 300. */
  readonly clockSkewSeconds?: number;
  /** keyUsage bits the leaf must carry (extension required). Default `['digitalSignature']`. */
  readonly leafKeyUsage?: readonly KeyUsageFlag[];
  /** When set, a leaf with extKeyUsage must list this OID (or anyExtendedKeyUsage). */
  readonly leafExtKeyUsage?: string;
  /** Most certificates in the path, anchor included. Default 8. */
  readonly maxPathLength?: number;
  /**
   * Key policy every certificate of the path must meet, the trust anchor included. Default: that of
   * `assertAllowedKey` (EC P-256 or P-384 on a named curve; RSA 2048 to 4096 bits, whole bytes).
   */
  readonly keyPolicy?: KeyPolicy;
}

/** A validated path. */
export interface ValidatedChain {
  /** Leaf first, then each issuer, ending with the certificate issued by the anchor. */
  readonly path: readonly Certificate[];
  readonly anchor: Certificate;
}

/**
 * Certificates and CSRs: parsing (PEM/DER), key information and policy, CSR self-signature,
 * and RFC 5280 chain validation against a trust store.
 *
 * Signatures are verified with node:crypto; extensions are read by a small DER reader.
 * @module
 */
import type { KeyObject } from 'node:crypto';
import { parseCertificateImpl, parseCertificatesImpl } from './certificate.js';
import { validateChainImpl } from './chain.js';
import { parseCsrImpl, verifyCsrSignatureImpl } from './csr.js';
import { assertAllowedKeyImpl, keyInfoFromKeyObject, keyInfoFromSpki } from './keys.js';
import { createTrustStoreImpl, loadTrustStoreImpl } from './trust.js';
import type {
  Certificate,
  CertificationRequest,
  ChainValidationOptions,
  KeyInfo,
  KeyPolicy,
  TrustStore,
  ValidatedChain,
} from './types.js';

export * from './errors.js';
export type * from './types.js';

/** OIDs callers commonly need. */
export const OID = {
  extKeyUsage: {
    serverAuth: '1.3.6.1.5.5.7.3.1',
    clientAuth: '1.3.6.1.5.5.7.3.2',
    ocspSigning: '1.3.6.1.5.5.7.3.9',
    any: '2.5.29.37.0',
  },
} as const;

/**
 * Parses one certificate from PEM (the first CERTIFICATE block) or DER.
 * Throws `CertificateParseError` for anything else; never another error type.
 *
 * @example
 * const cert = parseCertificate(pem);
 * cert.subjectCN; cert.serialNumber; cert.notAfter; cert.ocspUrls;
 */
export function parseCertificate(input: string | Uint8Array): Certificate {
  return parseCertificateImpl(input);
}

/**
 * Parses every CERTIFICATE block of a PEM bundle (a chain or a trust bundle), in order.
 * Throws `CertificateParseError` when a block is malformed or when there is none.
 *
 * @example
 * const [leaf, ...intermediates] = parseCertificates(chainPem);
 */
export function parseCertificates(pem: string): Certificate[] {
  return parseCertificatesImpl(pem);
}

/**
 * Parses a PKCS#10 CSR from PEM (`CERTIFICATE REQUEST`) or DER. Does NOT verify its signature.
 * Throws `CertificateParseError`.
 *
 * @example
 * const csr = parseCsr(body.csr);
 * verifyCsrSignature(csr);
 * assertAllowedKey(csr.keyInfo);
 */
export function parseCsr(input: string | Uint8Array): CertificationRequest {
  return parseCsrImpl(input);
}

/**
 * Verifies the CSR's self-signature with its own public key (proof of possession of the CSR key).
 * Accepts ECDSA with SHA-256/384/512, RSA PKCS#1 v1.5 and RSASSA-PSS with SHA-256/384/512, Ed25519.
 * Throws `CsrSignatureError` (`bad-signature` or `unsupported-algorithm`, e.g. SHA-1).
 *
 * @example
 * verifyCsrSignature(parseCsr(pem));
 */
export function verifyCsrSignature(csr: CertificationRequest): void {
  verifyCsrSignatureImpl(csr);
}

/**
 * Key type and size of a public key (KeyObject or SubjectPublicKeyInfo DER).
 *
 * @example
 * keyInfo(cert.publicKey); // { type: 'ec', curve: 'P-256', curveOid: '1.2.840.10045.3.1.7', bits: 256 }
 */
export function keyInfo(key: KeyObject | Uint8Array): KeyInfo {
  return key instanceof Uint8Array ? keyInfoFromSpki(Buffer.from(key)) : keyInfoFromKeyObject(key);
}

/**
 * Throws `KeyPolicyError` unless the key is allowed: by default EC P-256 or P-384 on a named curve,
 * or RSA (rsaEncryption) with a 2048 to 4096-bit modulus of whole bytes. `validateChain` applies the
 * same policy to every certificate of the path.
 *
 * @example
 * assertAllowedKey(csr.keyInfo);
 * assertAllowedKey(cert.keyInfo, { ecCurves: ['P-256'] });
 */
export function assertAllowedKey(info: KeyInfo, policy?: KeyPolicy): void {
  assertAllowedKeyImpl(info, policy);
}

/**
 * True when `assertAllowedKey` would pass.
 *
 * @example
 * if (!isAllowedKey(csr.keyInfo)) return badRequest();
 */
export function isAllowedKey(info: KeyInfo, policy?: KeyPolicy): boolean {
  try {
    assertAllowedKeyImpl(info, policy);
    return true;
  } catch {
    return false;
  }
}

/**
 * Builds a trust store from anchors (PEM bundle text, DER, or parsed certificates).
 * Build it once at module scope; lookups are by subject and by key.
 * Throws `CertificateParseError` on a malformed anchor or an empty bundle.
 *
 * @example
 * const trust = createTrustStore(process.env.ATTESTATION_TRUST_BUNDLE); // in the handler, not in a library
 */
export function createTrustStore(
  anchors: string | Uint8Array | readonly (string | Uint8Array | Certificate)[],
): TrustStore {
  return createTrustStoreImpl(anchors);
}

/**
 * Like `createTrustStore(pem)` but memoized by the bundle's SHA-256 (bounded, 16 entries), so a bundle
 * re-read from SSM is parsed only when it changes.
 *
 * @example
 * const trust = loadTrustStore(await getParameter(name));
 */
export function loadTrustStore(pem: string): TrustStore {
  return loadTrustStoreImpl(pem);
}

/**
 * Validates `leaf` up to an anchor of `trust` (RFC 5280 path validation, measured against the
 * x509-limbo suite: tests/limbo/README.md). Path building by name chaining and signatures, the anchor
 * matched by its key; then, on every certificate of the path (anchor included): validity within
 * `clockSkewSeconds` (at whole seconds), the key policy (`keyPolicy`, default that of
 * `assertAllowedKey`), v3, serial rules, no unknown critical extension, criticality (AKI, SKI, AIA
 * non-critical; a CA's basicConstraints, nameConstraints, policyConstraints critical), AKI with
 * keyIdentifier matching the issuer's SKI (a self-issued anchor may omit it), SKI on CAs, non-empty
 * names, keyCertSign only with cA, well-formed SAN entries; issuers with cA, keyCertSign and within
 * pathLenConstraint; the leaf not a CA and carrying `leafKeyUsage`; nameConstraints (DN, DNS, IP,
 * email, URI) over the path. Returns the path, or throws `ChainValidationError` whose `reason`
 * names the rule that failed (see `ChainFailureReason`) with the offending certificate's depth.
 *
 * Choices where RFC 5280 leaves room (stricter than `openssl verify` in places):
 * - Names chain byte-exactly (DER of issuer = DER of subject); AKI/SKI order candidates and must agree.
 * - The anchor's own signature is not checked (it is trusted by configuration), but its validity,
 *   key, profile, basicConstraints cA (so v1 roots are refused), keyCertSign (when it has keyUsage),
 *   pathLen and nameConstraints are.
 * - Intermediates must carry keyUsage with keyCertSign (RFC 5280 says CAs MUST include keyUsage).
 * - A CA certificate is never accepted as the leaf.
 * - No policy processing: certificatePolicies or policyConstraints marked critical are refused.
 * - nameConstraints: constrained forms we do not process (otherName, x400Address, ediPartyName,
 *   registeredID) refuse certificates carrying them; directory names compare case-insensitively with
 *   spaces collapsed; a wildcard dNSName must lie wholly in a permitted subtree.
 * - Signatures: ECDSA, RSA PKCS#1 v1.5 and RSASSA-PSS with SHA-256/384/512; SHA-1 and MD5 are
 *   refused (`unsupported-algorithm`); the key type must match the algorithm. An issuer key outside
 *   the key policy is never used to verify anything.
 * - More than 16 intermediates are refused; at most 32 signature checks and 65,536 name comparisons
 *   are made, bounding hostile input.
 * - Revocation is not checked here (use `@cv/crypto/ocsp`).
 *
 * @example
 * const { path, anchor } = validateChain({ leaf, intermediates, trust, now: new Date() });
 */
export function validateChain(options: ChainValidationOptions): ValidatedChain {
  return validateChainImpl(options);
}

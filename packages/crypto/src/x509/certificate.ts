/** @internal Certificate parsing. */
import { createHash, createPublicKey, type KeyObject, X509Certificate } from 'node:crypto';
import {
  DerError,
  type DerNode,
  expect,
  raw,
  readBitStringBytes,
  readIntegerBytes,
  readOid,
  readRoot,
  readSmallInt,
  readTime,
  seq,
  TAG,
} from './der.js';
import { CertificateParseError } from './errors.js';
import {
  decodeAiaOcsp,
  decodeAuthorityKeyId,
  decodeBasicConstraints,
  decodeExtKeyUsage,
  decodeKeyUsage,
  decodeSubjectAltName,
  decodeSubjectKeyId,
  readExtensions,
} from './extensions.js';
import { type GeneralName, readGeneralNames, readRdns } from './general-names.js';
import { keyInfoFromSpki } from './keys.js';
import { describeName } from './name.js';
import { decodeNameConstraints, type NameConstraints } from './name-constraints.js';
import { OIDS } from './oids.js';
import { derFromInput, pemBlocks, toPem } from './pem.js';
import type { Certificate, Extension, KeyInfo, KeyUsageFlag } from './types.js';

const CERT_LABELS = ['CERTIFICATE'] as const;

/** Cap on one certificate's size: attestation and CA certificates are a few KiB. */
export const MAX_CERTIFICATE_BYTES = 64 * 1024;

export function createKey(spki: Buffer, kind: 'certificate' | 'csr'): KeyObject {
  try {
    return createPublicKey({ key: spki, format: 'der', type: 'spki' });
  } catch (error) {
    throw new CertificateParseError('spki', `unusable public key in ${kind}`, { cause: error });
  }
}

/**
 * Lowercase hex, even length, without the DER sign byte. Negative serials (non-conforming, but they
 * exist) read as `-` and the magnitude, as node:crypto shows them.
 */
function serialText(bytes: Buffer): string {
  if (((bytes[0] ?? 0) & 0x80) !== 0) {
    const magnitude = (1n << BigInt(bytes.length * 8)) - BigInt(`0x${bytes.toString('hex')}`);
    const hex = magnitude.toString(16);
    return `-${hex.length % 2 === 1 ? `0${hex}` : hex}`;
  }
  const hex = bytes.toString('hex');
  return hex.length > 2 && hex.startsWith('00') ? hex.slice(2) : hex;
}

class CertificateImpl implements Certificate {
  readonly der: Buffer;
  readonly version: number;
  readonly serialNumberBytes: Buffer;
  readonly serialNumber: string;
  readonly subject: string;
  readonly issuer: string;
  readonly subjectDer: Buffer;
  readonly issuerDer: Buffer;
  readonly subjectCN: string | undefined;
  readonly notBefore: Date;
  readonly notAfter: Date;
  readonly spki: Buffer;
  readonly subjectPublicKey: Buffer;
  readonly keyInfo: KeyInfo;
  readonly signatureAlgorithmOid: string;
  readonly extensions: readonly Extension[];
  readonly basicConstraints: Certificate['basicConstraints'];
  readonly keyUsage: ReadonlySet<KeyUsageFlag> | undefined;
  readonly extKeyUsage: readonly string[] | undefined;
  readonly sanUris: readonly string[];
  readonly sanDnsNames: readonly string[];
  readonly ocspUrls: readonly string[];
  readonly subjectKeyId: Buffer | undefined;
  readonly authorityKeyId: Buffer | undefined;
  readonly selfIssued: boolean;
  /** @internal DER of tbsCertificate. */
  readonly tbs: Buffer;
  /** @internal the outer signatureAlgorithm node. */
  readonly signatureAlgorithm: DerNode;
  /** @internal whether inner and outer AlgorithmIdentifiers are byte-equal. */
  readonly algorithmsMatch: boolean;
  /** @internal signature bytes. */
  readonly signature: Buffer;
  /** @internal authorityKeyIdentifier: whether it names the issuer or serial besides the key id. */
  readonly akiHasNames: boolean;
  /** @internal the subject Name node, read again only for name constraints. */
  readonly subjectNode: DerNode;
  #names: { subject: GeneralName[]; san: GeneralName[] } | undefined;
  #constraints: NameConstraints | undefined;
  #publicKey: KeyObject | undefined;
  #x509: X509Certificate | undefined;
  #fingerprint: string | undefined;

  constructor(der: Buffer) {
    this.der = der;
    const [tbsNode, sigAlg, sigValue, ...rest] = seq(readRoot(der), 'Certificate');
    if (rest.length > 0) throw new DerError('extra fields in Certificate');
    this.tbs = raw(expect(tbsNode, TAG.SEQUENCE, 'tbsCertificate'));
    this.signatureAlgorithm = expect(sigAlg, TAG.SEQUENCE, 'signatureAlgorithm');
    this.signatureAlgorithmOid = readOid(seq(sigAlg, 'signatureAlgorithm')[0], 'signature algorithm');
    this.signature = readBitStringBytes(sigValue, 'signatureValue');

    const fields = seq(tbsNode, 'tbsCertificate');
    let i = 0;
    let version = 1;
    if (fields[0]?.tag === 0xa0) {
      const [v, extra] = seq(fields[0], 'version', 0xa0);
      if (extra !== undefined) throw new DerError('bad version');
      version = readSmallInt(v, 'version') + 1;
      if (version > 3) throw new DerError('unknown certificate version');
      i++;
    }
    this.version = version;
    this.serialNumberBytes = readIntegerBytes(fields[i++], 'serialNumber');
    this.serialNumber = serialText(this.serialNumberBytes);
    const innerAlg = expect(fields[i++], TAG.SEQUENCE, 'tbsCertificate.signature');
    this.algorithmsMatch = raw(innerAlg).equals(raw(this.signatureAlgorithm));
    const issuerNode = expect(fields[i++], TAG.SEQUENCE, 'issuer');
    const [nb, na, extraValidity] = seq(fields[i++], 'validity');
    if (extraValidity !== undefined) throw new DerError('bad validity');
    this.notBefore = readTime(nb, 'notBefore');
    this.notAfter = readTime(na, 'notAfter');
    const subjectNode = expect(fields[i++], TAG.SEQUENCE, 'subject');
    this.subjectNode = subjectNode;
    const spkiNode = expect(fields[i++], TAG.SEQUENCE, 'subjectPublicKeyInfo');
    this.issuerDer = raw(issuerNode);
    this.subjectDer = raw(subjectNode);
    const issuerInfo = describeName(issuerNode);
    const subjectInfo = describeName(subjectNode);
    this.issuer = issuerInfo.text;
    this.subject = subjectInfo.text;
    this.subjectCN = subjectInfo.commonName;
    this.selfIssued = this.issuerDer.equals(this.subjectDer);
    this.spki = raw(spkiNode);
    this.subjectPublicKey = readBitStringBytes(seq(spkiNode, 'subjectPublicKeyInfo')[1], 'subjectPublicKey');
    this.keyInfo = keyInfoFromSpki(this.spki);

    if (fields[i]?.tag === 0x81) i++; // issuerUniqueID
    if (fields[i]?.tag === 0x82) i++; // subjectUniqueID
    let extensions: Extension[] = [];
    if (fields[i]?.tag === 0xa3) {
      if (version !== 3) throw new DerError('extensions require version 3');
      const [extSeq, extra] = seq(fields[i], 'extensions', 0xa3);
      if (extra !== undefined) throw new DerError('bad extensions wrapper');
      extensions = readExtensions(expect(extSeq, TAG.SEQUENCE, 'Extensions'));
      i++;
    }
    if (i !== fields.length) throw new DerError('unexpected fields in tbsCertificate');
    this.extensions = extensions;

    const find = (oid: string): Extension | undefined => extensions.find((e) => e.oid === oid);
    const bc = find(OIDS.basicConstraints);
    this.basicConstraints =
      bc === undefined ? undefined : { ...decodeBasicConstraints(bc.value), critical: bc.critical };
    const ku = find(OIDS.keyUsage);
    this.keyUsage = ku === undefined ? undefined : decodeKeyUsage(ku.value);
    const eku = find(OIDS.extKeyUsage);
    this.extKeyUsage = eku === undefined ? undefined : decodeExtKeyUsage(eku.value);
    const san = find(OIDS.subjectAltName);
    const names = san === undefined ? { uris: [], dns: [] } : decodeSubjectAltName(san.value);
    this.sanUris = names.uris;
    this.sanDnsNames = names.dns;
    const aia = find(OIDS.authorityInfoAccess);
    this.ocspUrls = aia === undefined ? [] : decodeAiaOcsp(aia.value);
    const ski = find(OIDS.subjectKeyIdentifier);
    this.subjectKeyId = ski === undefined ? undefined : decodeSubjectKeyId(ski.value);
    const aki = find(OIDS.authorityKeyIdentifier);
    const akiValue = aki === undefined ? undefined : decodeAuthorityKeyId(aki.value);
    this.authorityKeyId = akiValue?.keyId;
    this.akiHasNames = akiValue?.names ?? false;
  }

  /**
   * @internal Names for name constraints: the subject (a directory name when not empty, plus its
   * emailAddress attributes as rfc822 names) and every subjectAltName entry. Read on first use.
   */
  get names(): { subject: GeneralName[]; san: GeneralName[] } {
    if (this.#names === undefined) {
      const { rdns, emails } = readRdns(this.subjectNode);
      const subject: GeneralName[] = rdns.length === 0 ? [] : [{ kind: 'dn', rdns }];
      for (const value of emails) subject.push({ kind: 'email', value });
      const san = this.extensions.find((e) => e.oid === OIDS.subjectAltName);
      this.#names = { subject, san: san === undefined ? [] : readGeneralNames(readRoot(san.value)) };
    }
    return this.#names;
  }

  /** @internal nameConstraints, decoded on first use (throws DerError when malformed). */
  get nameConstraints(): NameConstraints | undefined {
    const ext = this.extensions.find((e) => e.oid === OIDS.nameConstraints);
    if (ext === undefined) return undefined;
    this.#constraints ??= decodeNameConstraints(ext.value);
    return this.#constraints;
  }

  get publicKey(): KeyObject {
    this.#publicKey ??= createKey(this.spki, 'certificate');
    return this.#publicKey;
  }

  get x509(): X509Certificate {
    if (this.#x509 === undefined) {
      try {
        this.#x509 = new X509Certificate(this.der);
      } catch (error) {
        throw new CertificateParseError('certificate', 'node:crypto cannot parse this certificate', {
          cause: error,
        });
      }
    }
    return this.#x509;
  }

  get pem(): string {
    return toPem('CERTIFICATE', this.der);
  }

  get fingerprintSha256(): string {
    this.#fingerprint ??= createHash('sha256').update(this.der).digest('hex');
    return this.#fingerprint;
  }
}

/** Internal view with the signed parts, for chain and OCSP verification. */
export type InternalCertificate = CertificateImpl;

export function isInternal(cert: Certificate): cert is CertificateImpl {
  return cert instanceof CertificateImpl;
}

/** The internal view; re-parses certificates that did not come from this module. */
export function internal(cert: Certificate): CertificateImpl {
  return cert instanceof CertificateImpl ? cert : parseDer(Buffer.from(cert.der));
}

function parseDer(der: Buffer): CertificateImpl {
  if (der.length > MAX_CERTIFICATE_BYTES)
    throw new CertificateParseError('certificate', 'certificate too large');
  try {
    return new CertificateImpl(Buffer.from(der));
  } catch (error) {
    if (error instanceof CertificateParseError) throw error;
    if (error instanceof DerError) {
      throw new CertificateParseError('certificate', `malformed certificate: ${error.message}`, {
        cause: error,
      });
    }
    throw new CertificateParseError('certificate', 'malformed certificate', { cause: error });
  }
}

export function parseCertificateImpl(input: string | Uint8Array): Certificate {
  return parseDer(derFromInput(input, CERT_LABELS, 'certificate'));
}

export function parseCertificatesImpl(pem: string): Certificate[] {
  if (typeof pem !== 'string') throw new CertificateParseError('pem', 'PEM bundle must be a string');
  const blocks = pemBlocks(pem, CERT_LABELS);
  if (blocks.length === 0) throw new CertificateParseError('pem', 'no CERTIFICATE PEM block found');
  return blocks.map(parseDer);
}

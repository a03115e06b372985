/** @internal PKCS#10 parsing and self-signature verification. */
import type { KeyObject } from 'node:crypto';
import { createKey } from './certificate.js';
import {
  DerError,
  type DerNode,
  expect,
  raw,
  readBitStringBytes,
  readOid,
  readRoot,
  readSmallInt,
  seq,
  TAG,
} from './der.js';
import { CertificateParseError, CsrSignatureError } from './errors.js';
import { decodeSubjectAltName, readExtensions } from './extensions.js';
import { keyInfoFromSpki } from './keys.js';
import { describeName } from './name.js';
import { OIDS } from './oids.js';
import { derFromInput, toPem } from './pem.js';
import { verifySigned } from './signature.js';
import type { CertificationRequest, Extension, KeyInfo } from './types.js';

/** Cap on a CSR's size (the API body is at most 16 KiB anyway). */
export const MAX_CSR_BYTES = 16 * 1024;

class CsrImpl implements CertificationRequest {
  readonly der: Buffer;
  readonly subject: string;
  readonly subjectDer: Buffer;
  readonly subjectCN: string | undefined;
  readonly spki: Buffer;
  readonly keyInfo: KeyInfo;
  readonly signatureAlgorithmOid: string;
  readonly requestedExtensions: readonly Extension[];
  readonly sanUris: readonly string[];
  readonly info: Buffer;
  readonly signatureAlgorithm: DerNode;
  readonly signature: Buffer;
  #publicKey: KeyObject | undefined;

  constructor(der: Buffer) {
    this.der = der;
    const [infoNode, sigAlg, sigValue, ...rest] = seq(readRoot(der), 'CertificationRequest');
    if (rest.length > 0) throw new DerError('extra fields in CertificationRequest');
    this.info = raw(expect(infoNode, TAG.SEQUENCE, 'certificationRequestInfo'));
    this.signatureAlgorithm = expect(sigAlg, TAG.SEQUENCE, 'signatureAlgorithm');
    this.signatureAlgorithmOid = readOid(seq(sigAlg, 'signatureAlgorithm')[0], 'signature algorithm');
    this.signature = readBitStringBytes(sigValue, 'signature');
    const [version, subject, spki, attributes, ...more] = seq(infoNode, 'certificationRequestInfo');
    if (readSmallInt(version, 'version') !== 0) throw new DerError('unsupported CSR version');
    if (more.length > 0) throw new DerError('extra fields in certificationRequestInfo');
    const subjectNode = expect(subject, TAG.SEQUENCE, 'subject');
    this.subjectDer = raw(subjectNode);
    const name = describeName(subjectNode);
    this.subject = name.text;
    this.subjectCN = name.commonName;
    this.spki = raw(expect(spki, TAG.SEQUENCE, 'subjectPKInfo'));
    this.keyInfo = keyInfoFromSpki(this.spki);
    let extensions: Extension[] = [];
    if (attributes !== undefined) {
      for (const attribute of seq(attributes, 'attributes', 0xa0)) {
        const [typeNode, values, extra] = seq(attribute, 'Attribute');
        if (extra !== undefined) throw new DerError('bad Attribute');
        const type = readOid(typeNode, 'attribute type');
        const valueList = seq(values, 'attribute values', TAG.SET);
        if (type === OIDS.extensionRequest) {
          if (valueList.length !== 1) throw new DerError('extensionRequest must have one value');
          extensions = readExtensions(expect(valueList[0], TAG.SEQUENCE, 'extensionRequest'));
        }
      }
    }
    this.requestedExtensions = extensions;
    const san = extensions.find((e) => e.oid === OIDS.subjectAltName);
    this.sanUris = san === undefined ? [] : decodeSubjectAltName(san.value).uris;
  }

  get publicKey(): KeyObject {
    this.#publicKey ??= createKey(this.spki, 'csr');
    return this.#publicKey;
  }

  get pem(): string {
    return toPem('CERTIFICATE REQUEST', this.der);
  }
}

export function parseCsrImpl(input: string | Uint8Array): CertificationRequest {
  const der = derFromInput(input, ['CERTIFICATE REQUEST', 'NEW CERTIFICATE REQUEST'], 'csr');
  if (der.length > MAX_CSR_BYTES) throw new CertificateParseError('csr', 'CSR too large');
  try {
    return new CsrImpl(Buffer.from(der));
  } catch (error) {
    if (error instanceof DerError)
      throw new CertificateParseError('csr', `malformed CSR: ${error.message}`, { cause: error });
    throw error;
  }
}

export function verifyCsrSignatureImpl(csr: CertificationRequest): void {
  const impl = csr instanceof CsrImpl ? csr : (parseCsrImpl(csr.der) as CsrImpl);
  let key: KeyObject;
  try {
    key = impl.publicKey;
  } catch (error) {
    throw new CsrSignatureError('bad-signature', 'the CSR public key is unusable', { cause: error });
  }
  const outcome = verifySigned(impl.signatureAlgorithm, impl.info, impl.signature, key);
  if (outcome === 'unsupported') {
    throw new CsrSignatureError(
      'unsupported-algorithm',
      `unsupported CSR signature algorithm ${impl.signatureAlgorithmOid}`,
    );
  }
  if (outcome === 'bad') throw new CsrSignatureError('bad-signature', 'the CSR signature does not verify');
}

/** @internal OCSP response parsing (RFC 6960 4.2.1). */
import { parseCertificateImpl } from '../x509/certificate.js';
import {
  DerError,
  type DerNode,
  expect,
  raw,
  readBitStringBytes,
  readIntegerBytes,
  readOctetString,
  readOid,
  readRoot,
  readSmallInt,
  readTime,
  seq,
  TAG,
} from '../x509/der.js';
import { CertificateParseError } from '../x509/errors.js';
import { readExtensions } from '../x509/extensions.js';
import { OIDS } from '../x509/oids.js';
import type { Certificate } from '../x509/types.js';
import { OcspResponseError, type OcspResponseStatus } from './errors.js';
import type { OcspSingleResponse, ParsedOcspResponse, RevocationReason } from './types.js';

/** Cap on a response's size (also the transport default). */
export const MAX_RESPONSE_BYTES = 256 * 1024;
const MAX_SINGLE_RESPONSES = 64;
const MAX_CERTS = 8;

const STATUS: readonly OcspResponseStatus[] = [
  'successful',
  'malformedRequest',
  'internalError',
  'tryLater',
  'unknown', // 4 is not used
  'sigRequired',
  'unauthorized',
];

const REASONS: readonly (RevocationReason | undefined)[] = [
  'unspecified',
  'keyCompromise',
  'cACompromise',
  'affiliationChanged',
  'superseded',
  'cessationOfOperation',
  'certificateHold',
  undefined, // 7 is not used
  'removeFromCRL',
  'privilegeWithdrawn',
  'aACompromise',
];

const HASHES: Readonly<Record<string, 'sha1' | 'sha256' | 'sha384' | 'sha512'>> = {
  [OIDS.sha1]: 'sha1',
  [OIDS.sha256]: 'sha256',
  [OIDS.sha384]: 'sha384',
  [OIDS.sha512]: 'sha512',
};

function readCertId(node: DerNode | undefined): OcspSingleResponse['certId'] {
  const [alg, nameHash, keyHash, serial, extra] = seq(node, 'CertID');
  if (extra !== undefined) throw new DerError('extra fields in CertID');
  const [algOid, params, more] = seq(alg, 'CertID.hashAlgorithm');
  if (more !== undefined || (params !== undefined && params.tag !== TAG.NULL))
    throw new DerError('bad hash AlgorithmIdentifier');
  const oid = readOid(algOid, 'hash algorithm');
  return {
    hashAlgorithm: HASHES[oid] ?? oid,
    issuerNameHash: Buffer.from(readOctetString(nameHash, 'issuerNameHash')),
    issuerKeyHash: Buffer.from(readOctetString(keyHash, 'issuerKeyHash')),
    serialNumber: Buffer.from(readIntegerBytes(serial, 'serialNumber')),
  };
}

function readSingle(node: DerNode): OcspSingleResponse {
  const fields = seq(node, 'SingleResponse');
  const certId = readCertId(fields[0]);
  const statusNode = fields[1];
  if (statusNode === undefined) throw new DerError('missing certStatus');
  let status: OcspSingleResponse['status'];
  let revokedAt: Date | undefined;
  let revocationReason: RevocationReason | undefined;
  if (statusNode.tag === 0x80) {
    if (statusNode.end !== statusNode.contentStart) throw new DerError('good must be NULL');
    status = 'good';
  } else if (statusNode.tag === 0x82) {
    if (statusNode.end !== statusNode.contentStart) throw new DerError('unknown must be NULL');
    status = 'unknown';
  } else if (statusNode.tag === 0xa1) {
    status = 'revoked';
    const [time, reason, extra] = seq(statusNode, 'RevokedInfo', 0xa1);
    if (extra !== undefined) throw new DerError('extra fields in RevokedInfo');
    revokedAt = readTime(expect(time, TAG.GENERALIZED_TIME, 'revocationTime'), 'revocationTime');
    if (reason !== undefined) {
      const [code, more] = seq(reason, 'revocationReason', 0xa0);
      if (more !== undefined) throw new DerError('bad revocationReason');
      revocationReason = REASONS[readSmallInt(code, 'CRLReason', TAG.ENUMERATED)];
      if (revocationReason === undefined) throw new DerError('unknown CRLReason');
    }
  } else {
    throw new DerError('bad certStatus');
  }
  const thisUpdate = readTime(expect(fields[2], TAG.GENERALIZED_TIME, 'thisUpdate'), 'thisUpdate');
  let i = 3;
  let nextUpdate: Date | undefined;
  if (fields[i]?.tag === 0xa0) {
    const [t, extra] = seq(fields[i], 'nextUpdate', 0xa0);
    if (extra !== undefined) throw new DerError('bad nextUpdate');
    nextUpdate = readTime(expect(t, TAG.GENERALIZED_TIME, 'nextUpdate'), 'nextUpdate');
    i++;
  }
  if (fields[i]?.tag === 0xa1) {
    const [exts, extra] = seq(fields[i], 'singleExtensions', 0xa1);
    if (extra !== undefined) throw new DerError('bad singleExtensions');
    const critical = readExtensions(expect(exts, TAG.SEQUENCE, 'singleExtensions')).find((e) => e.critical);
    if (critical !== undefined) throw new DerError(`unsupported critical single extension ${critical.oid}`);
    i++;
  }
  if (i !== fields.length) throw new DerError('extra fields in SingleResponse');
  return { certId, status, revokedAt, revocationReason, thisUpdate, nextUpdate };
}

function parseBasic(der: Buffer): ParsedOcspResponse {
  const [tbs, sigAlg, sigValue, certsNode, extra] = seq(readRoot(der), 'BasicOCSPResponse');
  if (extra !== undefined) throw new DerError('extra fields in BasicOCSPResponse');
  const signatureAlgorithmDer = raw(expect(sigAlg, TAG.SEQUENCE, 'signatureAlgorithm'));
  const signatureAlgorithmOid = readOid(seq(sigAlg, 'signatureAlgorithm')[0], 'signature algorithm');
  const signature = readBitStringBytes(sigValue, 'signature');
  const fields = seq(tbs, 'ResponseData');
  let i = 0;
  if (fields[0]?.tag === 0xa0) {
    const [v, more] = seq(fields[0], 'version', 0xa0);
    if (more !== undefined || readSmallInt(v, 'version') !== 0)
      throw new DerError('unsupported ResponseData version');
    i++;
  }
  const rid = fields[i++];
  let responderId: ParsedOcspResponse['responderId'];
  if (rid?.tag === 0xa1) {
    const [name, more] = seq(rid, 'ResponderID.byName', 0xa1);
    if (more !== undefined) throw new DerError('bad ResponderID');
    responderId = { byName: Buffer.from(raw(expect(name, TAG.SEQUENCE, 'ResponderID.byName'))) };
  } else if (rid?.tag === 0xa2) {
    const [hash, more] = seq(rid, 'ResponderID.byKey', 0xa2);
    if (more !== undefined) throw new DerError('bad ResponderID');
    responderId = { byKey: Buffer.from(readOctetString(hash, 'ResponderID.byKey')) };
  } else {
    throw new DerError('bad ResponderID');
  }
  const producedAt = readTime(expect(fields[i++], TAG.GENERALIZED_TIME, 'producedAt'), 'producedAt');
  const singles = seq(fields[i++], 'responses');
  if (singles.length === 0 || singles.length > MAX_SINGLE_RESPONSES)
    throw new DerError('bad number of SingleResponses');
  const responses = singles.map(readSingle);
  let nonceExtension: Buffer | undefined;
  if (fields[i]?.tag === 0xa1) {
    const [exts, more] = seq(fields[i], 'responseExtensions', 0xa1);
    if (more !== undefined) throw new DerError('bad responseExtensions');
    for (const ext of readExtensions(expect(exts, TAG.SEQUENCE, 'responseExtensions'))) {
      if (ext.oid === OIDS.ocspNonce) nonceExtension = ext.value;
      else if (ext.critical) throw new DerError(`unsupported critical response extension ${ext.oid}`);
    }
    i++;
  }
  if (i !== fields.length) throw new DerError('extra fields in ResponseData');
  let certs: Certificate[] = [];
  if (certsNode !== undefined) {
    const [list, more] = seq(certsNode, 'certs', 0xa0);
    if (more !== undefined) throw new DerError('bad certs');
    const items = seq(list, 'certs');
    if (items.length > MAX_CERTS) throw new DerError('too many certificates in the response');
    certs = items.map((c) => parseCertificateImpl(raw(c)));
  }
  return {
    tbsResponseData: Buffer.from(raw(expect(tbs, TAG.SEQUENCE, 'ResponseData'))),
    signatureAlgorithmOid,
    signatureAlgorithmDer: Buffer.from(signatureAlgorithmDer),
    signature: Buffer.from(signature),
    responderId,
    producedAt,
    responses,
    nonceExtension,
    certs,
  };
}

export function parseOcspResponseImpl(input: Uint8Array): ParsedOcspResponse {
  if (!(input instanceof Uint8Array)) throw new OcspResponseError('malformed', 'OCSP response must be bytes');
  if (input.byteLength > MAX_RESPONSE_BYTES)
    throw new OcspResponseError('malformed', 'OCSP response too large');
  const der = Buffer.from(input.buffer, input.byteOffset, input.byteLength);
  let status: OcspResponseStatus;
  let basic: Buffer | undefined;
  try {
    const [statusNode, bytesNode, extra] = seq(readRoot(der), 'OCSPResponse');
    if (extra !== undefined) throw new DerError('extra fields in OCSPResponse');
    const code = readSmallInt(statusNode, 'responseStatus', TAG.ENUMERATED);
    status = STATUS[code] ?? 'unknown';
    if (code === 4 || code >= STATUS.length) throw new DerError(`unknown responseStatus ${code}`);
    if (bytesNode !== undefined) {
      const [rb, more] = seq(bytesNode, 'responseBytes', 0xa0);
      if (more !== undefined) throw new DerError('bad responseBytes');
      const [type, octets, more2] = seq(rb, 'ResponseBytes');
      if (more2 !== undefined) throw new DerError('bad ResponseBytes');
      if (readOid(type, 'responseType') !== OIDS.ocspBasic)
        throw new DerError('responseType is not id-pkix-ocsp-basic');
      basic = readOctetString(octets, 'response');
    }
  } catch (error) {
    throw new OcspResponseError(
      'malformed',
      `malformed OCSP response${error instanceof DerError ? `: ${error.message}` : ''}`,
      undefined,
      {
        cause: error,
      },
    );
  }
  if (status !== 'successful') {
    throw new OcspResponseError('unsuccessful', `OCSP responder answered ${status}`, {
      responseStatus: status,
    });
  }
  if (basic === undefined)
    throw new OcspResponseError('malformed', 'successful OCSP response without responseBytes');
  try {
    return parseBasic(Buffer.from(basic));
  } catch (error) {
    const detail =
      error instanceof DerError || error instanceof CertificateParseError ? `: ${error.message}` : '';
    throw new OcspResponseError('malformed', `malformed BasicOCSPResponse${detail}`, undefined, {
      cause: error,
    });
  }
}

/**
 * @internal The RFC 5280 certificate profile, checked on every certificate of a candidate path
 * (trust anchor included), and name constraints over the path. Each rule returns the failure
 * reason that names it.
 */
import type { InternalCertificate } from './certificate.js';
import { DerError } from './der.js';
import { sanSyntaxError } from './general-names.js';
import { keyPolicyViolation } from './keys.js';
import { checkNames, type NameConstraints, NameConstraintViolation } from './name-constraints.js';
import { OIDS } from './oids.js';
import type { ChainFailureReason, KeyPolicy } from './types.js';

export interface Violation {
  readonly reason: ChainFailureReason;
  readonly message: string;
}

/** Extensions whose criticality we honour: we process them or they carry no constraint. */
const UNDERSTOOD = new Set<string>([
  OIDS.basicConstraints,
  OIDS.keyUsage,
  OIDS.extKeyUsage,
  OIDS.subjectAltName,
  OIDS.subjectKeyIdentifier,
  OIDS.authorityKeyIdentifier,
  OIDS.authorityInfoAccess,
  OIDS.crlDistributionPoints,
  OIDS.nameConstraints,
]);

/** Extensions RFC 5280 requires to be non-critical. */
const NON_CRITICAL: Readonly<Record<string, string>> = {
  [OIDS.authorityKeyIdentifier]: 'authorityKeyIdentifier',
  [OIDS.subjectKeyIdentifier]: 'subjectKeyIdentifier',
  [OIDS.authorityInfoAccess]: 'authorityInfoAccess',
};

const EMPTY_NAME = Buffer.from([0x30, 0x00]);

function serialViolation(bytes: Buffer): string | undefined {
  if (((bytes[0] as number) & 0x80) !== 0) return 'serial number is negative';
  if (bytes.every((b) => b === 0)) return 'serial number is zero';
  const magnitude = bytes[0] === 0 ? bytes.length - 1 : bytes.length;
  return magnitude > 20 ? 'serial number is longer than 20 octets' : undefined;
}

function v(reason: ChainFailureReason, message: string): Violation {
  return { reason, message };
}

/** Rules on one certificate; `anchor` is true for the trust anchor that ends the path. */
export function profileViolation(
  cert: InternalCertificate,
  anchor: boolean,
  keyPolicy: KeyPolicy | undefined,
): Violation | undefined {
  if (cert.version !== 3) return v('certificate-version', `X.509 v${cert.version} certificate, v3 required`);
  const serial = serialViolation(cert.serialNumberBytes);
  if (serial !== undefined) return v('serial-number', serial);
  const key = keyPolicyViolation(cert.keyInfo, keyPolicy);
  if (key !== undefined) return v('key-policy', key);

  const unknown = cert.extensions.find((e) => e.critical && !UNDERSTOOD.has(e.oid));
  if (unknown !== undefined && unknown.oid !== OIDS.policyConstraints) {
    return v('unknown-critical-extension', `unknown critical extension ${unknown.oid}`);
  }
  const isCa = cert.basicConstraints?.ca === true;
  for (const ext of cert.extensions) {
    const name = NON_CRITICAL[ext.oid];
    if (name !== undefined && ext.critical) return v('extension-criticality', `${name} is critical`);
    if (ext.oid === OIDS.nameConstraints) {
      if (!isCa) return v('name-constraints', 'nameConstraints in a certificate that is not a CA');
      if (!ext.critical) return v('extension-criticality', 'nameConstraints is not critical');
    }
    if (ext.oid === OIDS.policyConstraints) {
      // Policy processing is not done here: critical, it is an unknown critical extension.
      if (!ext.critical) return v('extension-criticality', 'policyConstraints is not critical');
      return v('unknown-critical-extension', 'policyConstraints (policy processing) is not supported');
    }
  }
  if (isCa && cert.basicConstraints?.critical !== true) {
    return v('extension-criticality', 'basicConstraints of a CA is not critical');
  }
  if (cert.keyUsage?.has('keyCertSign') === true && !isCa) {
    return v('key-usage', 'keyCertSign asserted without basicConstraints cA');
  }

  if (cert.issuerDer.equals(EMPTY_NAME)) return v('empty-name', 'empty issuer name');
  if (cert.subjectDer.equals(EMPTY_NAME)) {
    if (isCa) return v('empty-name', 'a CA with an empty subject');
    const san = cert.extensions.find((e) => e.oid === OIDS.subjectAltName);
    if (san === undefined) return v('empty-name', 'empty subject without subjectAltName');
    if (!san.critical)
      return v('extension-criticality', 'subjectAltName is not critical under an empty subject');
  }

  // AKI with keyIdentifier on every certificate but a self-issued anchor; when present, it names the
  // key: a self-signed anchor's AKI must be its own SKI (links are checked in linkViolation).
  const akiPresent = cert.extensions.some((e) => e.oid === OIDS.authorityKeyIdentifier);
  if (akiPresent && cert.authorityKeyId === undefined) {
    return v('authority-key-id', 'authorityKeyIdentifier without keyIdentifier');
  }
  if (!akiPresent && !(anchor && cert.selfIssued)) return v('authority-key-id', 'no authorityKeyIdentifier');
  if (isCa && cert.subjectKeyId === undefined)
    return v('subject-key-id', 'a CA certificate without subjectKeyIdentifier');
  if (anchor && cert.selfIssued && cert.authorityKeyId !== undefined && cert.subjectKeyId !== undefined) {
    if (!cert.authorityKeyId.equals(cert.subjectKeyId)) {
      return v('authority-key-id', "a self-issued anchor's authorityKeyIdentifier is not its own key");
    }
  }

  try {
    for (const name of cert.names.san) {
      const error = sanSyntaxError(name);
      if (error !== undefined) return v('subject-alt-name', error);
    }
  } catch (error) {
    if (error instanceof DerError) return v('subject-alt-name', `malformed subjectAltName: ${error.message}`);
    throw error;
  }
  return undefined;
}

/** The child's AKI keyIdentifier must be the issuer's SKI. */
export function linkViolation(
  child: InternalCertificate,
  issuer: InternalCertificate,
): Violation | undefined {
  const aki = child.authorityKeyId;
  const ski = issuer.subjectKeyId;
  if (aki !== undefined && ski !== undefined && !aki.equals(ski)) {
    return v('authority-key-id', "authorityKeyIdentifier is not the issuer's subjectKeyIdentifier");
  }
  return undefined;
}

/**
 * Name constraints of every CA in `all` (leaf first, anchor last) applied to each certificate below
 * it, except self-issued intermediates (RFC 5280 6.1.3 (b)); returns the failing depth. `budget` is
 * shared by every path tried in one validation (see MAX_NAME_CHECKS).
 */
export function nameConstraintViolation(
  all: readonly InternalCertificate[],
  budget: { left: number },
): (Violation & { depth: number }) | undefined {
  for (let j = 1; j < all.length; j++) {
    const ca = all[j] as InternalCertificate;
    let constraints: NameConstraints | undefined;
    try {
      constraints = ca.nameConstraints;
    } catch (error) {
      if (error instanceof DerError) {
        return { ...v('name-constraints', `malformed nameConstraints: ${error.message}`), depth: j };
      }
      throw error;
    }
    if (constraints === undefined) continue;
    for (let i = j - 1; i >= 0; i--) {
      const cert = all[i] as InternalCertificate;
      if (i > 0 && cert.selfIssued) continue;
      try {
        checkNames([...cert.names.subject, ...cert.names.san], constraints, budget);
      } catch (error) {
        if (error instanceof NameConstraintViolation || error instanceof DerError) {
          return { ...v('name-constraints', `${error.message} (constraints at depth ${j})`), depth: i };
        }
        throw error;
      }
    }
  }
  return undefined;
}

import { createHash } from 'node:crypto';
import { AttestationError, verifyAttestationProof } from '@cv/crypto/attestation';
import {
  assertAllowedKey,
  type Certificate,
  CertificateParseError,
  ChainValidationError,
  CsrSignatureError,
  KeyPolicyError,
  loadTrustStore,
  parseCertificate,
  parseCertificates,
  parseCsr,
  validateChain,
  verifyCsrSignature,
} from '@cv/crypto/x509';
import {
  AttestationNotTrustedError,
  BrokerError,
  IssuanceNotAllowedError,
  MalformedRequestError,
  MissingProofOfPossessionError,
} from './errors.js';
import { ECU_ID_PATTERN, identityUriOf, thingNameOf, VIN_PATTERN } from './identity.js';
import type { CertificateAuthority, EcuRegistry, TrustBundleSource } from './ports.js';

export interface IssueCertificateInput {
  /** PEM PKCS#10 request. */
  readonly csrPem: string;
  /** The attestation from the body: PEM (leaf first, then optional intermediates) and the signed proof. */
  readonly attestation?:
    | { readonly certificatePem: string; readonly signedAt: string; readonly signature: string }
    | undefined;
  /** The mutual-TLS client certificate API Gateway verified (`requestContext.authentication.clientCert.clientCertPem`). */
  readonly clientCertPem?: string | undefined;
}

export interface IssueCertificateDeps {
  readonly registry: EcuRegistry;
  readonly ca: CertificateAuthority;
  readonly trustBundle: TrustBundleSource;
  readonly validityDays: number;
  readonly now: () => Date;
}

export interface IssueCertificateResult {
  readonly thingName: string;
  readonly ecuId: string;
  readonly vin: string;
  readonly certificatePem: string;
  readonly certificateChainPem: string;
  readonly serialNumber: string;
  readonly notAfter: string;
  /** How possession of the attestation key was proven. */
  readonly proofOfPossession: 'mtls' | 'signature';
}

/** The issued certificate does not carry what was asked (e.g. the PCA template is not an APIPassthrough one). */
export class IssuedCertificateMismatchError extends BrokerError {
  readonly detail: string;
  constructor(detail: string) {
    super('The issued certificate does not match the request');
    this.name = 'IssuedCertificateMismatchError';
    this.detail = detail;
  }
}

/**
 * PCA idempotency token: 32 hex characters (128 bits) of SHA-256 over the CSR DER and the
 * thing name. PCA accepts at most 36 characters and documents the token as alphanumeric, so
 * hex rather than base64url. A retried request with the same CSR maps to the same token
 * (PCA remembers tokens for five minutes); binding the thing name means a CSR replayed
 * under another ECU's attestation can never be answered with the first ECU's certificate.
 */
export function idempotencyTokenFor(csrDer: Uint8Array, thingName: string): string {
  return createHash('sha256')
    .update(csrDer)
    .update(Buffer.from([0]))
    .update(thingName, 'utf8')
    .digest('hex')
    .slice(0, 32);
}

function parseAttestationCertificates(pem: string, field: string): Certificate[] {
  try {
    return parseCertificates(pem);
  } catch (cause) {
    if (cause instanceof CertificateParseError) {
      throw new MalformedRequestError(field, `Invalid request: ${field} is not a valid certificate`, {
        cause,
      });
    }
    throw cause;
  }
}

/**
 * Issues an operational certificate for an attested ECU (SPEC 4). Every check runs before
 * the private CA is called; any failure throws a {@link BrokerError} subclass and issues nothing.
 *
 * @example
 * const result = await issueCertificate({ csrPem, clientCertPem }, deps);
 */
export async function issueCertificate(
  input: IssueCertificateInput,
  deps: IssueCertificateDeps,
): Promise<IssueCertificateResult> {
  // 1. Proof of possession of the attestation key must be offered at all.
  if (input.clientCertPem === undefined && input.attestation === undefined) {
    throw new MissingProofOfPossessionError();
  }

  // 2. The CSR: well-formed, self-signed by its key, allowed key type.
  let csr: ReturnType<typeof parseCsr>;
  try {
    csr = parseCsr(input.csrPem);
    verifyCsrSignature(csr);
  } catch (cause) {
    if (cause instanceof CertificateParseError) {
      throw new MalformedRequestError('csr', 'Invalid request: csr is not a valid PKCS#10 request', {
        cause,
      });
    }
    if (cause instanceof CsrSignatureError) {
      throw new MalformedRequestError('csr', 'Invalid request: the CSR signature does not verify', { cause });
    }
    throw cause;
  }
  try {
    assertAllowedKey(csr.keyInfo);
  } catch (cause) {
    if (cause instanceof KeyPolicyError) {
      throw new IssuanceNotAllowedError('key-type', cause.message, { cause });
    }
    throw cause;
  }

  // 3. The attestation certificate: from mutual TLS, or from the body.
  let leaf: Certificate;
  let intermediates: Certificate[];
  if (input.clientCertPem !== undefined) {
    const [tlsLeaf, ...tlsRest] = parseAttestationCertificates(input.clientCertPem, 'clientCert');
    if (tlsLeaf === undefined) throw new MalformedRequestError('clientCert', 'Invalid client certificate');
    leaf = tlsLeaf;
    intermediates = tlsRest;
    if (input.attestation !== undefined) {
      const [bodyLeaf, ...bodyRest] = parseAttestationCertificates(
        input.attestation.certificatePem,
        'attestation.certificate',
      );
      if (bodyLeaf === undefined || !bodyLeaf.der.equals(tlsLeaf.der)) {
        throw new AttestationNotTrustedError(
          'client-certificate-mismatch',
          'attestation.certificate differs from the TLS client certificate',
        );
      }
      intermediates = [...tlsRest, ...bodyRest];
    }
  } else if (input.attestation !== undefined) {
    const [bodyLeaf, ...bodyRest] = parseAttestationCertificates(
      input.attestation.certificatePem,
      'attestation.certificate',
    );
    if (bodyLeaf === undefined) throw new MalformedRequestError('attestation.certificate', 'Invalid request');
    leaf = bodyLeaf;
    intermediates = bodyRest;
  } else {
    throw new MissingProofOfPossessionError();
  }

  // 4. The chain to a trusted manufacturer CA (dates, basicConstraints, keyUsage, path length, leaf not a CA).
  const now = deps.now();
  const trust = loadTrustStore(await deps.trustBundle.get());
  try {
    validateChain({ leaf, intermediates, trust, now, leafKeyUsage: ['digitalSignature'] });
  } catch (cause) {
    if (cause instanceof ChainValidationError) {
      throw new AttestationNotTrustedError('chain', `${cause.reason} at depth ${cause.depth}`, { cause });
    }
    throw cause;
  }

  // 5. Proof of possession by signature (always verified when present, even with mutual TLS).
  if (input.attestation !== undefined) {
    try {
      verifyAttestationProof({
        publicKey: leaf.publicKey,
        csrDer: csr.der,
        proof: { signedAt: input.attestation.signedAt, signature: input.attestation.signature },
        now,
      });
    } catch (cause) {
      if (cause instanceof AttestationError) {
        const freshness =
          cause.reason === 'stale' || cause.reason === 'future' || cause.reason === 'malformed-timestamp';
        throw new AttestationNotTrustedError(freshness ? 'freshness' : 'signature', cause.reason, { cause });
      }
      throw cause;
    }
  }

  // 6. The operational key must be a new key, not the attestation key.
  if (csr.spki.equals(leaf.spki)) {
    throw new IssuanceNotAllowedError('key-reuse', 'the CSR key is the attestation key');
  }

  // 7. The attested identity and the registry.
  const ecuId = leaf.subjectCN;
  if (ecuId === undefined || !ECU_ID_PATTERN.test(ecuId)) {
    throw new AttestationNotTrustedError('identity', 'the attestation certificate CN is not an ECU id');
  }
  const ecu = await deps.registry.get(ecuId);
  if (ecu === undefined) throw new IssuanceNotAllowedError('ecu-unknown', `ECU ${ecuId} is not registered`);
  if (ecu.status !== 'ACTIVE') {
    throw new IssuanceNotAllowedError('ecu-not-active', `ECU ${ecuId} has status ${ecu.status}`);
  }
  if (!VIN_PATTERN.test(ecu.vin)) {
    throw new IssuanceNotAllowedError(
      'registry-inconsistent',
      `ECU ${ecuId} has no valid VIN in the registry`,
    );
  }

  // 8. Issue: subject and SAN from the attested identity, never from the CSR.
  const thingName = thingNameOf(ecu.vin, ecuId);
  const sanUri = identityUriOf(ecu.vin, ecuId);
  const issued = await deps.ca.issue({
    csrPem: csr.pem,
    subjectCommonName: thingName,
    subjectAlternativeNameUri: sanUri,
    validityDays: deps.validityDays,
    idempotencyToken: idempotencyTokenFor(csr.der, thingName),
  });

  // 9. Never hand out a certificate that does not say what we asked for.
  const certificate = parseCertificate(issued.certificatePem);
  if (!certificate.spki.equals(csr.spki)) throw new IssuedCertificateMismatchError('public key');
  if (certificate.subjectCN !== thingName) throw new IssuedCertificateMismatchError('subject CN');
  if (!certificate.sanUris.includes(sanUri)) throw new IssuedCertificateMismatchError('SAN URI');

  const serialNumber = certificate.serialNumber;
  const notAfter = certificate.notAfter.toISOString();
  const recorded = await deps.registry.recordIssued(ecuId, ecu.vin, {
    thingName,
    certificateSerial: serialNumber,
    certificateNotAfter: notAfter,
    updatedAt: now.toISOString(),
  });
  if (!recorded) {
    throw new IssuanceNotAllowedError('ecu-not-active', `ECU ${ecuId} changed status during issuance`);
  }

  return {
    thingName,
    ecuId,
    vin: ecu.vin,
    certificatePem: certificate.pem,
    certificateChainPem: issued.certificateChainPem,
    serialNumber,
    notAfter,
    proofOfPossession: input.clientCertPem !== undefined ? 'mtls' : 'signature',
  };
}

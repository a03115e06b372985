/**
 * A small certificate authority built on @peculiar/x509 and WebCrypto: the local Private CA
 * hierarchy (root and issuing CA), ECU manufacturers' attestation CAs in the demo and tests.
 */
import 'reflect-metadata';
import { createHash, randomBytes, webcrypto } from 'node:crypto';
import * as x509 from '@peculiar/x509';

x509.cryptoProvider.set(webcrypto as never);

type CryptoKey = webcrypto.CryptoKey;
type CryptoKeyPair = webcrypto.CryptoKeyPair;

const EC = { name: 'ECDSA', namedCurve: 'P-256' } as const;
const SIGN = { name: 'ECDSA', hash: 'SHA-256' } as const;

export interface CertificateAuthority {
  readonly certificate: x509.X509Certificate;
  readonly keys: CryptoKeyPair;
  readonly certificatePem: string;
  /** PKCS#8 PEM of the CA key (handed to `openssl ocsp` as the responder key). */
  readonly privateKeyPem: string;
  /** The chain above this CA (issuer first), PEM; empty for a root. */
  readonly chainPem: readonly string[];
}

/** A positive DER INTEGER serial (first byte 0x01..0x7f, so openssl's BN hex matches) as lower-case hex. */
export function randomSerial(): string {
  const bytes = randomBytes(16);
  bytes[0] = ((bytes[0] ?? 1) & 0x7f) | 0x01;
  return bytes.toString('hex');
}

/** The AWS IoT certificate id of a certificate: the SHA-256 of its DER, lower-case hex. */
export function iotCertificateId(pem: string): string {
  return createHash('sha256')
    .update(new Uint8Array(new x509.X509Certificate(pem).rawData))
    .digest('hex');
}

/**
 * The supplier binding of an attestation CA (docs/protocol.md, the ECU registry's
 * `attestationIssuerKeySha256`): SHA-256 of the CA certificate's SubjectPublicKeyInfo DER, lower-case hex.
 * @example registryRow.attestationIssuerKeySha256 = attestationIssuerKeySha256(manufacturer.certificatePem);
 */
export function attestationIssuerKeySha256(caPem: string): string {
  const spki = new x509.X509Certificate(caPem).publicKey.rawData;
  return createHash('sha256').update(new Uint8Array(spki)).digest('hex');
}

export function pemOf(cert: x509.X509Certificate): string {
  return `${cert.toString('pem').trim()}\n`;
}

export async function privatePem(key: CryptoKey): Promise<string> {
  const der = Buffer.from(await webcrypto.subtle.exportKey('pkcs8', key));
  return `-----BEGIN PRIVATE KEY-----\n${der
    .toString('base64')
    .replace(/(.{64})/g, '$1\n')
    .trim()}\n-----END PRIVATE KEY-----\n`;
}

/**
 * Creates a CA: self-signed when `parent` is absent, otherwise signed by the parent.
 * @example const root = await createCertificateAuthority({ name: 'CN=Local Root' });
 */
export async function createCertificateAuthority(options: {
  readonly name: string;
  readonly parent?: CertificateAuthority;
  readonly pathLength?: number;
  readonly validityDays?: number;
}): Promise<CertificateAuthority> {
  const keys = (await webcrypto.subtle.generateKey(EC, true, ['sign', 'verify'])) as CryptoKeyPair;
  const notBefore = new Date(Date.now() - 3600_000);
  const notAfter = new Date(Date.now() + (options.validityDays ?? 3650) * 86400_000);
  const extensions: x509.Extension[] = [
    new x509.BasicConstraintsExtension(true, options.pathLength, true),
    new x509.KeyUsagesExtension(
      x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign | x509.KeyUsageFlags.digitalSignature,
      true,
    ),
    await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
  ];
  let certificate: x509.X509Certificate;
  if (options.parent) {
    extensions.push(await x509.AuthorityKeyIdentifierExtension.create(options.parent.keys.publicKey));
    certificate = await x509.X509CertificateGenerator.create({
      serialNumber: randomSerial(),
      subject: options.name,
      issuer: options.parent.certificate.subject,
      notBefore,
      notAfter,
      publicKey: keys.publicKey,
      signingKey: options.parent.keys.privateKey,
      signingAlgorithm: SIGN,
      extensions,
    });
  } else {
    certificate = await x509.X509CertificateGenerator.createSelfSigned({
      serialNumber: randomSerial(),
      name: options.name,
      keys,
      notBefore,
      notAfter,
      signingAlgorithm: SIGN,
      extensions,
    });
  }
  return {
    certificate,
    keys,
    certificatePem: pemOf(certificate),
    privateKeyPem: await privatePem(keys.privateKey),
    chainPem: options.parent ? [options.parent.certificatePem, ...options.parent.chainPem] : [],
  };
}

export interface LeafOptions {
  readonly subject: x509.JsonName | string;
  readonly publicKey: x509.PublicKey | CryptoKey;
  readonly serialNumber?: string;
  readonly notBefore?: Date;
  readonly notAfter?: Date;
  readonly uris?: readonly string[];
  readonly dnsNames?: readonly string[];
  readonly ipAddresses?: readonly string[];
  readonly ocspUrl?: string;
  readonly extendedKeyUsages?: readonly string[];
}

/**
 * Issues an end-entity certificate (CA:FALSE, digitalSignature, the given EKUs, SKI/AKI, SAN, AIA OCSP).
 * @example const leaf = await issueLeaf(ca, { subject: 'CN=ecu-1', publicKey: csr.publicKey });
 */
export async function issueLeaf(
  ca: CertificateAuthority,
  options: LeafOptions,
): Promise<x509.X509Certificate> {
  const publicKey =
    options.publicKey instanceof x509.PublicKey ? await options.publicKey.export() : options.publicKey;
  const extensions: x509.Extension[] = [
    new x509.BasicConstraintsExtension(false, undefined, true),
    new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
    new x509.ExtendedKeyUsageExtension([...(options.extendedKeyUsages ?? ['1.3.6.1.5.5.7.3.2'])]),
    await x509.SubjectKeyIdentifierExtension.create(publicKey),
    await x509.AuthorityKeyIdentifierExtension.create(ca.keys.publicKey),
  ];
  const names: x509.JsonGeneralName[] = [
    ...(options.uris ?? []).map((value) => ({ type: 'url' as const, value })),
    ...(options.dnsNames ?? []).map((value) => ({ type: 'dns' as const, value })),
    ...(options.ipAddresses ?? []).map((value) => ({ type: 'ip' as const, value })),
  ];
  if (names.length > 0) extensions.push(new x509.SubjectAlternativeNameExtension(names));
  if (options.ocspUrl) {
    extensions.push(
      new x509.AuthorityInfoAccessExtension({ ocsp: [new x509.GeneralName('url', options.ocspUrl)] }),
    );
  }
  return x509.X509CertificateGenerator.create({
    serialNumber: options.serialNumber ?? randomSerial(),
    subject: options.subject,
    issuer: ca.certificate.subject,
    notBefore: options.notBefore ?? new Date(Date.now() - 300_000),
    notAfter: options.notAfter ?? new Date(Date.now() + 365 * 86400_000),
    publicKey,
    signingKey: ca.keys.privateKey,
    signingAlgorithm: SIGN,
    extensions,
  });
}

/**
 * A fresh EC P-256 key pair with its PKCS#8 PEM (for TLS servers and devices).
 * @example const { keys, privateKeyPem } = await generateKeyPair();
 */
export async function generateKeyPair(): Promise<{ keys: CryptoKeyPair; privateKeyPem: string }> {
  const keys = (await webcrypto.subtle.generateKey(EC, true, ['sign', 'verify'])) as CryptoKeyPair;
  return { keys, privateKeyPem: await privatePem(keys.privateKey) };
}

export { x509 };

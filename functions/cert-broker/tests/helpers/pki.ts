/**
 * A real test PKI built with WebCrypto + @peculiar/x509 (and the openssl CLI for key
 * types WebCrypto lacks). Nothing here is mocked: keys, certificates and CSRs are real.
 */
import 'reflect-metadata';
import { execFileSync } from 'node:child_process';
import { createHash, KeyObject, sign as nodeSign, webcrypto } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as x509 from '@peculiar/x509';

export type CryptoKeyPair = webcrypto.CryptoKeyPair;
export type CryptoKey = webcrypto.CryptoKey;
type Algorithm = webcrypto.Algorithm;
type EcdsaParams = webcrypto.EcdsaParams;
type EcKeyGenParams = webcrypto.EcKeyGenParams;
type RsaHashedKeyGenParams = webcrypto.RsaHashedKeyGenParams;

const crypto = webcrypto;
x509.cryptoProvider.set(crypto as never);

export type KeySpec = 'P-256' | 'P-384' | 'RSA-2048' | 'RSA-1024' | 'RSA-PSS-2048';

export interface Issued {
  readonly cert: x509.X509Certificate;
  readonly keys: CryptoKeyPair;
  readonly pem: string;
}

function algorithms(spec: KeySpec): {
  gen: RsaHashedKeyGenParams | EcKeyGenParams;
  sign: Algorithm | EcdsaParams;
} {
  switch (spec) {
    case 'P-256':
      return {
        gen: { name: 'ECDSA', namedCurve: 'P-256' },
        sign: { name: 'ECDSA', hash: 'SHA-256' } as EcdsaParams,
      };
    case 'P-384':
      return {
        gen: { name: 'ECDSA', namedCurve: 'P-384' },
        sign: { name: 'ECDSA', hash: 'SHA-384' } as EcdsaParams,
      };
    case 'RSA-PSS-2048':
      return {
        gen: {
          name: 'RSA-PSS',
          modulusLength: 2048,
          publicExponent: new Uint8Array([1, 0, 1]),
          hash: 'SHA-256',
        },
        sign: { name: 'RSA-PSS', saltLength: 32 } as Algorithm,
      };
    default: {
      const bits = spec === 'RSA-1024' ? 1024 : 2048;
      return {
        gen: {
          name: 'RSASSA-PKCS1-v1_5',
          modulusLength: bits,
          publicExponent: new Uint8Array([1, 0, 1]),
          hash: 'SHA-256',
        },
        sign: { name: 'RSASSA-PKCS1-v1_5' },
      };
    }
  }
}

export async function generateKeys(spec: KeySpec = 'P-256'): Promise<CryptoKeyPair> {
  return (await crypto.subtle.generateKey(algorithms(spec).gen, true, ['sign', 'verify'])) as CryptoKeyPair;
}

function signingAlgorithm(keys: CryptoKeyPair): Algorithm | EcdsaParams {
  const alg = keys.privateKey.algorithm as { name: string; namedCurve?: string };
  if (alg.name === 'ECDSA')
    return { name: 'ECDSA', hash: alg.namedCurve === 'P-384' ? 'SHA-384' : 'SHA-256' } as EcdsaParams;
  if (alg.name === 'RSA-PSS') return { name: 'RSA-PSS', saltLength: 32 } as Algorithm;
  return { name: 'RSASSA-PKCS1-v1_5' };
}

let serialCounter = 1;
function nextSerial(): string {
  serialCounter += 1;
  return `7f${Date.now().toString(16)}${serialCounter.toString(16).padStart(4, '0')}`;
}

export interface CertOptions {
  readonly subject: string;
  readonly keys?: CryptoKeyPair;
  readonly keySpec?: KeySpec;
  /** Signer; self-signed when absent. */
  readonly issuer?: Issued;
  readonly ca?: boolean;
  /** basicConstraints pathLenConstraint (CAs only). */
  readonly pathLength?: number;
  /** Omit the basicConstraints extension entirely. */
  readonly noBasicConstraints?: boolean;
  readonly keyUsage?: number;
  readonly notBefore?: Date;
  readonly notAfter?: Date;
  readonly sanUris?: readonly string[];
  readonly ocspUrl?: string;
  readonly serialNumber?: string;
  /** subjectKeyIdentifier value (hex) instead of the one derived from the key: a forger's choice. */
  readonly subjectKeyIdHex?: string;
}

const DAY = 86_400_000;

export async function issueCert(options: CertOptions): Promise<Issued> {
  const keys = options.keys ?? (await generateKeys(options.keySpec ?? 'P-256'));
  const ca = options.ca ?? false;
  const extensions: x509.Extension[] = [];
  if (!options.noBasicConstraints) {
    extensions.push(new x509.BasicConstraintsExtension(ca, ca ? options.pathLength : undefined, true));
  }
  const usage =
    options.keyUsage ??
    (ca
      ? x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign | x509.KeyUsageFlags.digitalSignature
      : x509.KeyUsageFlags.digitalSignature);
  extensions.push(new x509.KeyUsagesExtension(usage, true));
  extensions.push(
    options.subjectKeyIdHex
      ? new x509.SubjectKeyIdentifierExtension(options.subjectKeyIdHex)
      : await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
  );
  if (options.issuer) {
    extensions.push(await x509.AuthorityKeyIdentifierExtension.create(options.issuer.cert));
  }
  if (options.sanUris && options.sanUris.length > 0) {
    extensions.push(
      new x509.SubjectAlternativeNameExtension(
        options.sanUris.map((value) => ({ type: 'url' as const, value })),
      ),
    );
  }
  if (options.ocspUrl) {
    extensions.push(new x509.AuthorityInfoAccessExtension({ ocsp: [options.ocspUrl] }));
  }
  const notBefore = options.notBefore ?? new Date(Date.now() - DAY);
  const notAfter = options.notAfter ?? new Date(Date.now() + 365 * DAY);
  const serialNumber = options.serialNumber ?? nextSerial();
  const cert = options.issuer
    ? await x509.X509CertificateGenerator.create({
        serialNumber,
        subject: options.subject,
        issuer: options.issuer.cert.subject,
        notBefore,
        notAfter,
        publicKey: keys.publicKey,
        signingKey: options.issuer.keys.privateKey,
        signingAlgorithm: signingAlgorithm(options.issuer.keys),
        extensions,
      })
    : await x509.X509CertificateGenerator.createSelfSigned({
        serialNumber,
        name: options.subject,
        notBefore,
        notAfter,
        keys,
        signingAlgorithm: signingAlgorithm(keys),
        extensions,
      });
  return { cert, keys, pem: `${cert.toString('pem').trimEnd()}\n` };
}

/** A PKCS#10 CSR signed by `keys` (WebCrypto key types). */
export async function makeCsr(keys: CryptoKeyPair, subject = 'CN=ignored-by-the-broker'): Promise<string> {
  const csr = await x509.Pkcs10CertificateRequestGenerator.create({
    name: subject,
    keys,
    signingAlgorithm: signingAlgorithm(keys),
  });
  return csr.toString('pem');
}

/** A CSR for a key type WebCrypto cannot make (P-192, Ed25519, RSA-1024 via openssl), made by the openssl CLI. */
export function makeCsrWithOpenssl(keyArgs: readonly string[], subject = '/CN=weak'): string {
  const dir = mkdtempSync(join(tmpdir(), 'cv-csr-'));
  try {
    const key = join(dir, 'key.pem');
    execFileSync('openssl', [...keyArgs, '-out', key], { stdio: 'pipe' });
    return execFileSync('openssl', ['req', '-new', '-key', key, '-subj', subject], {
      stdio: 'pipe',
    }).toString();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The CSR with one byte of its signature flipped. */
export function corruptCsrSignature(csrPem: string): string {
  const der = pemToDer(csrPem);
  const last = der.length - 1;
  der[last] = (der[last] ?? 0) ^ 0x01;
  return derToPem(der, 'CERTIFICATE REQUEST');
}

export function pemToDer(pem: string): Buffer {
  const body = pem.replace(/-----(BEGIN|END) [A-Z ]+-----/g, '').replace(/\s+/g, '');
  return Buffer.from(body, 'base64');
}

export function derToPem(der: Uint8Array, label: string): string {
  const b64 = Buffer.from(der).toString('base64');
  const lines = b64.match(/.{1,64}/g) ?? [];
  return `-----BEGIN ${label}-----\n${lines.join('\n')}\n-----END ${label}-----\n`;
}

/** `cv-cert-broker/v1\n<signedAt>\n<base64url(SHA-256(CSR DER))>` signed by the attestation key (docs/architecture.md §4). */
export function signAttestation(csrPem: string, signedAt: string, key: CryptoKey): string {
  const digest = createHash('sha256').update(pemToDer(csrPem)).digest('base64url');
  const message = Buffer.from(`cv-cert-broker/v1\n${signedAt}\n${digest}`, 'utf8');
  const privateKey = KeyObject.from(key);
  const signature =
    privateKey.asymmetricKeyType === 'rsa-pss' || privateKey.asymmetricKeyType === 'rsa'
      ? nodeSign('sha256', message, {
          key: privateKey,
          padding: 6 /* RSA_PKCS1_PSS_PADDING */,
          saltLength: 32,
        })
      : nodeSign('sha256', message, privateKey);
  return signature.toString('base64');
}

/** `openssl verify` of `leafPem` against `rootPem` with `untrustedPem` intermediates; returns stdout or throws. */
export function opensslVerify(leafPem: string, rootPem: string, untrustedPem?: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'cv-verify-'));
  try {
    writeFileSync(join(dir, 'leaf.pem'), leafPem);
    writeFileSync(join(dir, 'root.pem'), rootPem);
    const args = ['verify', '-x509_strict', '-CAfile', join(dir, 'root.pem')];
    if (untrustedPem && untrustedPem.trim() !== '') {
      writeFileSync(join(dir, 'untrusted.pem'), untrustedPem);
      args.push('-untrusted', join(dir, 'untrusted.pem'));
    }
    args.push(join(dir, 'leaf.pem'));
    return execFileSync('openssl', args, { stdio: 'pipe' }).toString();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Reads a file (for fixtures). */
export function read(path: string): string {
  return readFileSync(path, 'utf8');
}

import { createHash, X509Certificate } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { CryptoError } from '../src/errors.js';
import {
  assertAllowedKey,
  CertificateParseError,
  CsrSignatureError,
  isAllowedKey,
  KeyPolicyError,
  keyInfo,
  parseCertificate,
  parseCertificates,
  parseCsr,
  verifyCsrSignature,
} from '../src/x509/index.js';
import {
  createChain,
  createCsr,
  createLeaf,
  createRootCa,
  der,
  generateKey,
  type KeySpec,
  OID,
  sharedKey,
} from './helpers/pki.js';

describe('parseCertificate', () => {
  const { root, intermediate, leaf } = createChain({
    leaf: {
      subject: { CN: '1HGCM82633A004352_ecu-7', O: 'Example' },
      sanUris: ['urn:cv:vin:1HGCM82633A004352:ecu:ecu-7'],
      sanDns: ['ecu-7.example'],
      ocspUrl: ['http://ocsp.example.com/', 'http://ocsp2.example.com/'],
      serial: 0x00ff_1234n,
    },
  });

  it('reads PEM and DER alike, with the accessors callers need', () => {
    // Prepare
    const node = new X509Certificate(leaf.pem);
    // Act
    const fromPem = parseCertificate(leaf.pem);
    const fromDer = parseCertificate(leaf.der);
    // Assess
    for (const cert of [fromPem, fromDer]) {
      expect(cert.subjectCN).toBe('1HGCM82633A004352_ecu-7');
      expect(cert.subject).toBe('CN=1HGCM82633A004352_ecu-7,O=Example');
      expect(cert.issuer).toBe('CN=Test Intermediate CA,O=cv-security tests');
      expect(cert.serialNumber).toBe('ff1234');
      expect(cert.serialNumber.toUpperCase()).toBe(node.serialNumber.replace(/^0+(?=..)/, ''));
      expect(cert.notBefore.getTime()).toBe(new Date(node.validFrom).getTime());
      expect(cert.notAfter.getTime()).toBe(new Date(node.validTo).getTime());
      expect(cert.sanUris).toEqual(['urn:cv:vin:1HGCM82633A004352:ecu:ecu-7']);
      expect(cert.sanDnsNames).toEqual(['ecu-7.example']);
      expect(cert.ocspUrls).toEqual(['http://ocsp.example.com/', 'http://ocsp2.example.com/']);
      expect(cert.fingerprintSha256).toBe(node.fingerprint256.replace(/:/g, '').toLowerCase());
      expect(cert.spki.equals(leaf.key.spki)).toBe(true);
      expect(cert.publicKey.equals(leaf.key.publicKey)).toBe(true);
      expect(cert.keyInfo).toEqual({
        type: 'ec',
        curve: 'P-256',
        curveOid: '1.2.840.10045.3.1.7',
        bits: 256,
      });
      expect(cert.basicConstraints).toBeUndefined();
      expect([...(cert.keyUsage ?? [])]).toEqual(['digitalSignature']);
      expect(cert.extKeyUsage).toEqual([OID.clientAuth]);
      expect(cert.der.equals(leaf.der)).toBe(true);
      expect(cert.pem).toBe(leaf.pem);
      expect(cert.x509.subject).toContain('CN=1HGCM82633A004352_ecu-7');
    }
  });

  it('reads CA extensions', () => {
    const cert = parseCertificate(intermediate.pem);
    expect(cert.basicConstraints).toEqual({ ca: true, pathLen: 0, critical: true });
    expect(cert.keyUsage).toEqual(new Set(['keyCertSign', 'cRLSign']));
    expect(cert.subjectKeyId?.length).toBe(20);
    expect(parseCertificate(leaf.pem).authorityKeyId?.equals(cert.subjectKeyId ?? Buffer.alloc(0))).toBe(
      true,
    );
    expect(parseCertificate(root.pem).selfIssued).toBe(true);
  });

  it('parses a PEM bundle in order and skips other block types', () => {
    const bundle = `junk\n${leaf.pem}-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n${intermediate.pem}\n${root.pem}`;
    const certs = parseCertificates(bundle);
    expect(certs.map((c) => c.subjectCN)).toEqual([
      '1HGCM82633A004352_ecu-7',
      'Test Intermediate CA',
      'Test Root CA',
    ]);
  });

  it('reads bundles without newlines between blocks, with CRLF line endings, and dates after 2049', () => {
    const a = root.pem.trimEnd();
    const b = intermediate.pem.trimEnd();
    expect(parseCertificates(a + b)).toHaveLength(2);
    expect(parseCertificates(`${a}\n${b}`.replace(/\n/g, '\r\n'))).toHaveLength(2);
    const late = createLeaf(root, { notAfter: new Date('2060-01-02T03:04:05Z') });
    expect(parseCertificate(late.der).notAfter.toISOString()).toBe('2060-01-02T03:04:05.000Z');
    expect(() => parseCertificates('x'.repeat(5 * 1024 * 1024))).toThrow(CertificateParseError);
  });

  it('serial numbers with the high bit set drop the DER sign byte', () => {
    const cert = parseCertificate(createLeaf(root, { serial: 0x80_00_01n }).pem);
    expect(cert.serialNumber).toBe('800001');
    expect(cert.serialNumberBytes.toString('hex')).toBe('00800001');
  });

  it.each([
    ['empty string', ''],
    ['no PEM block', 'hello'],
    ['bad base64', '-----BEGIN CERTIFICATE-----\n!!!!\n-----END CERTIFICATE-----\n'],
    ['missing END', '-----BEGIN CERTIFICATE-----\nAAAA\n'],
  ])('rejects %s with CertificateParseError', (_name, input) => {
    expect(() => parseCertificate(input)).toThrow(CertificateParseError);
  });

  it('rejects truncated DER, trailing data, and non-certificates', () => {
    expect(() => parseCertificate(leaf.der.subarray(0, leaf.der.length - 1))).toThrow(CertificateParseError);
    expect(() => parseCertificate(Buffer.concat([leaf.der, Buffer.from([0])]))).toThrow(
      CertificateParseError,
    );
    expect(() => parseCertificate(der.seq(der.int(1)))).toThrow(CertificateParseError);
    expect(() => parseCertificates('no certificates here')).toThrow(CertificateParseError);
  });

  it('negative serials (non-conforming) read as node:crypto shows them', () => {
    const cert = createLeaf(root, { serial: 0x0181n });
    const negative = Buffer.from(cert.der.toString('hex').replace('02020181', '02028181'), 'hex');
    expect(parseCertificate(negative).serialNumber).toBe('-7e7f');
    expect(new X509Certificate(negative).serialNumber.toLowerCase()).toBe('-7e7f');
  });

  it('refuses names with invalid UTF-8, so two encodings never read as the same CN', () => {
    const cert = createLeaf(root, { subject: 'ecu-aaaa' });
    const bad = Buffer.from(
      cert.der.toString('hex').replace(Buffer.from('ecu-aaaa').toString('hex'), `6563752d${'ff'.repeat(4)}`),
      'hex',
    );
    expect(() => parseCertificate(bad)).toThrow(CertificateParseError);
  });

  it('rejects duplicate extensions', () => {
    const dup = createLeaf(root, {
      extraExtensions: [{ oid: OID.keyUsage, critical: true, value: Buffer.from('03020780', 'hex') }],
    });
    expect(() => parseCertificate(dup.der)).toThrow(/duplicate extension/);
  });

  it('CertificateParseError is a CryptoError', () => {
    try {
      parseCertificate('x');
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(CryptoError);
      expect((error as CertificateParseError).name).toBe('CertificateParseError');
    }
  });
});

describe('key info and policy', () => {
  const cases: [KeySpec, object, boolean][] = [
    ['P-256', { type: 'ec', curve: 'P-256', bits: 256 }, true],
    ['P-384', { type: 'ec', curve: 'P-384', bits: 384 }, true],
    ['P-521', { type: 'ec', curve: 'P-521', bits: 521 }, false],
    ['P-192', { type: 'ec', curve: 'P-192', bits: 192 }, false],
    ['rsa1024', { type: 'rsa', bits: 1024 }, false],
    ['rsa2048', { type: 'rsa', bits: 2048 }, true],
    ['rsa4096', { type: 'rsa', bits: 4096 }, true],
    ['ed25519', { type: 'ed25519' }, false],
  ];

  it.each(cases)('%s: key info from KeyObject, SPKI and CSR; allowed=%s', (spec, expected, allowed) => {
    // Prepare
    const key = sharedKey(spec);
    const csr = parseCsr(createCsr({ key, subject: 'ecu-1' }).pem);
    // Act
    const fromKey = keyInfo(key.publicKey);
    // Assess
    expect(fromKey).toMatchObject(expected);
    expect(keyInfo(key.spki)).toEqual(fromKey);
    expect(keyInfo(key.privateKey)).toEqual(fromKey);
    expect(csr.keyInfo).toEqual(fromKey);
    expect(isAllowedKey(fromKey)).toBe(allowed);
    if (allowed) expect(() => assertAllowedKey(fromKey)).not.toThrow();
    else expect(() => assertAllowedKey(fromKey)).toThrow(KeyPolicyError);
  });

  it('RSA 3072 is allowed, a 4097-bit key is not, and policies narrow the set', () => {
    expect(isAllowedKey({ type: 'rsa', bits: 3072 })).toBe(true);
    expect(isAllowedKey({ type: 'rsa', bits: 4097 })).toBe(false);
    expect(isAllowedKey({ type: 'rsa-pss', bits: 2048 })).toBe(false);
    expect(
      isAllowedKey(
        { type: 'ec', curve: 'P-384', curveOid: '1.3.132.0.34', bits: 384 },
        { ecCurves: ['P-256'] },
      ),
    ).toBe(false);
    const error = (() => {
      try {
        assertAllowedKey({ type: 'rsa', bits: 1024 });
      } catch (e) {
        return e as KeyPolicyError;
      }
    })();
    expect(error).toMatchObject({ keyType: 'rsa', bits: 1024 });
  });
});

describe('CSRs', () => {
  it.each<[KeySpec, boolean]>([
    ['P-256', false],
    ['P-384', false],
    ['rsa2048', false],
    ['rsa2048', true],
    ['P-192', false],
    ['rsa1024', false],
    ['ed25519', false],
  ])('parses and verifies a %s CSR (pss=%s)', (spec, pss) => {
    // Prepare
    const key = sharedKey(spec);
    const csr = createCsr({ key, subject: { CN: 'ecu-9', O: 'Maker' }, sanUris: ['urn:x:1'], pss });
    // Act
    const parsed = parseCsr(csr.pem);
    // Assess
    expect(() => verifyCsrSignature(parsed)).not.toThrow();
    expect(parsed.subjectCN).toBe('ecu-9');
    expect(parsed.subject).toBe('CN=ecu-9,O=Maker');
    expect(parsed.sanUris).toEqual(['urn:x:1']);
    expect(parsed.spki.equals(key.spki)).toBe(true);
    expect(parsed.publicKey.equals(key.publicKey)).toBe(true);
    expect(parseCsr(csr.der).der.equals(csr.der)).toBe(true);
    expect(parsed.pem).toBe(csr.pem);
  });

  it('agrees with openssl req -verify on a good and a forged CSR', async () => {
    // Prepare
    const { spawnSync } = await import('node:child_process');
    const opensslAccepts = (pem: string): boolean => {
      // OpenSSL 3.0 exits 0 even when the self-signature fails: read its verdict line.
      const result = spawnSync('openssl', ['req', '-verify', '-noout'], { input: pem, encoding: 'utf8' });
      return result.status === 0 && `${result.stdout}${result.stderr}`.includes('self-signature verify OK');
    };
    const ours = (pem: string): boolean => {
      try {
        verifyCsrSignature(parseCsr(pem));
        return true;
      } catch {
        return false;
      }
    };
    const good = createCsr({ key: sharedKey('P-256'), subject: 'ecu-1' }).pem;
    const forged = createCsr({
      key: sharedKey('P-256'),
      subject: 'ecu-1',
      signWith: sharedKey('P-256', 1).privateKey,
    }).pem;
    // Act / Assess
    expect([ours(good), opensslAccepts(good)]).toEqual([true, true]);
    expect([ours(forged), opensslAccepts(forged)]).toEqual([false, false]);
  });

  it('rejects a CSR signed by another key (no proof of possession)', () => {
    const csr = parseCsr(
      createCsr({ key: sharedKey('P-256'), signWith: sharedKey('P-256', 1).privateKey }).pem,
    );
    expect(() => verifyCsrSignature(csr)).toThrow(expect.objectContaining({ reason: 'bad-signature' }));
    expect(() => verifyCsrSignature(csr)).toThrow(CsrSignatureError);
  });

  it('rejects a CSR whose key type does not fit the algorithm (RSA key, ECDSA OID)', () => {
    // Signed with an EC key but carrying an RSA public key: must not verify.
    const csr = parseCsr(
      createCsr({ key: sharedKey('rsa2048'), signWith: sharedKey('P-256').privateKey }).pem,
    );
    expect(() => verifyCsrSignature(csr)).toThrow(expect.objectContaining({ reason: 'bad-signature' }));
  });

  it('rejects SHA-1 signatures as unsupported', () => {
    const csr = parseCsr(createCsr({ key: sharedKey('P-256'), hash: 'sha1' }).pem);
    expect(() => verifyCsrSignature(csr)).toThrow(
      expect.objectContaining({ reason: 'unsupported-algorithm' }),
    );
  });

  it('rejects a tampered CSR (subject changed after signing)', () => {
    const csr = createCsr({ key: sharedKey('P-256'), subject: 'ecu-aaaa' });
    const tampered = Buffer.from(csr.der.toString('latin1').replace('ecu-aaaa', 'ecu-bbbb'), 'latin1');
    const parsed = parseCsr(tampered);
    expect(parsed.subjectCN).toBe('ecu-bbbb');
    expect(() => verifyCsrSignature(parsed)).toThrow(expect.objectContaining({ reason: 'bad-signature' }));
  });

  it('rejects garbage and certificates given as CSRs', () => {
    const root = createRootCa({ key: sharedKey('P-256') });
    expect(() =>
      parseCsr('-----BEGIN CERTIFICATE REQUEST-----\nMAA=\n-----END CERTIFICATE REQUEST-----'),
    ).toThrow(CertificateParseError);
    expect(() => parseCsr(root.pem)).toThrow(CertificateParseError);
    expect(() => parseCsr(root.der)).toThrow(CertificateParseError);
    expect(() => parseCsr(Buffer.alloc(20_000, 0x30))).toThrow(CertificateParseError);
  });

  it('fingerprint is SHA-256 of DER', () => {
    const cert = parseCertificate(createRootCa({ key: sharedKey('P-256') }).der);
    expect(cert.fingerprintSha256).toBe(createHash('sha256').update(cert.der).digest('hex'));
    expect(generateKey('P-256').spki.length).toBe(91);
  });
});

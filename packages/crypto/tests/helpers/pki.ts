/**
 * Test PKI builder: keys, root/intermediate/leaf certificates with chosen extensions, CSRs.
 * Self-contained on purpose (node:crypto only, its own tiny DER encoder) so other packages can copy
 * it or import it by relative path, and so it is independent of the parser under test.
 *
 * @example
 * const root = createRootCa();
 * const intermediate = createIntermediateCa(root, { pathLen: 0 });
 * const leaf = createLeaf(intermediate, { cn: 'ecu-1', keyUsage: ['digitalSignature'] });
 * const csr = createCsr({ key: generateKey('P-384'), cn: 'ecu-1' });
 */
import { constants, createHash, generateKeyPairSync, type KeyObject, randomBytes, sign } from 'node:crypto';

// ------------------------------------------------------------------ DER encoder

function len(n: number): Buffer {
  if (n < 0x80) return Buffer.from([n]);
  const bytes: number[] = [];
  for (let v = n; v > 0; v = Math.floor(v / 256)) bytes.unshift(v & 0xff);
  return Buffer.from([0x80 | bytes.length, ...bytes]);
}
export function tlv(tag: number, ...parts: Uint8Array[]): Buffer {
  const body = Buffer.concat(parts);
  return Buffer.concat([Buffer.from([tag]), len(body.length), body]);
}
export const der = {
  seq: (...p: Uint8Array[]) => tlv(0x30, ...p),
  set: (...p: Uint8Array[]) => tlv(0x31, ...p),
  oid(oid: string): Buffer {
    const arcs = oid.split('.').map(Number);
    const out: number[] = [];
    for (const arc of [(arcs[0] ?? 0) * 40 + (arcs[1] ?? 0), ...arcs.slice(2)]) {
      const s = [arc & 0x7f];
      for (let v = Math.floor(arc / 128); v > 0; v = Math.floor(v / 128)) s.unshift((v & 0x7f) | 0x80);
      out.push(...s);
    }
    return tlv(0x06, Buffer.from(out));
  },
  /** INTEGER from unsigned big-endian bytes or a bigint/number. */
  int(value: Uint8Array | bigint | number): Buffer {
    let bytes: Buffer;
    if (typeof value === 'bigint' || typeof value === 'number') {
      let hex = BigInt(value).toString(16);
      if (hex.length % 2) hex = `0${hex}`;
      bytes = Buffer.from(hex, 'hex');
    } else bytes = Buffer.from(value);
    let i = 0;
    while (i < bytes.length - 1 && bytes[i] === 0) i++;
    bytes = bytes.subarray(i);
    if (((bytes[0] ?? 0) & 0x80) !== 0) bytes = Buffer.concat([Buffer.from([0]), bytes]);
    return tlv(0x02, bytes.length ? bytes : Buffer.from([0]));
  },
  bool: (v: boolean) => tlv(0x01, Buffer.from([v ? 0xff : 0])),
  null: () => Buffer.from([0x05, 0]),
  octets: (b: Uint8Array) => tlv(0x04, b),
  bits: (b: Uint8Array, unused = 0) => tlv(0x03, Buffer.from([unused]), b),
  utf8: (s: string) => tlv(0x0c, Buffer.from(s, 'utf8')),
  printable: (s: string) => tlv(0x13, Buffer.from(s, 'latin1')),
  ia5: (s: string) => tlv(0x16, Buffer.from(s, 'latin1')),
  enumerated: (n: number) => tlv(0x0a, Buffer.from([n])),
  explicit: (n: number, inner: Uint8Array) => tlv(0xa0 | n, inner),
  /** GeneralizedTime when the year is >= 2050 or forced, else UTCTime (RFC 5280 rule). */
  time(d: Date, generalized = false): Buffer {
    const iso = d
      .toISOString()
      .replace(/\.\d{3}Z$/, 'Z')
      .replace(/[-:T]/g, '');
    const year = d.getUTCFullYear();
    if (generalized || year >= 2050 || year < 1950) return tlv(0x18, Buffer.from(iso, 'latin1'));
    return tlv(0x17, Buffer.from(iso.slice(2), 'latin1'));
  },
  generalizedTime: (d: Date) =>
    tlv(
      0x18,
      Buffer.from(
        d
          .toISOString()
          .replace(/\.\d{3}Z$/, 'Z')
          .replace(/[-:T]/g, ''),
        'latin1',
      ),
    ),
};

export const OID = {
  cn: '2.5.4.3',
  o: '2.5.4.10',
  ou: '2.5.4.11',
  c: '2.5.4.6',
  serialNumber: '2.5.4.5',
  basicConstraints: '2.5.29.19',
  keyUsage: '2.5.29.15',
  extKeyUsage: '2.5.29.37',
  subjectAltName: '2.5.29.17',
  subjectKeyIdentifier: '2.5.29.14',
  authorityKeyIdentifier: '2.5.29.35',
  authorityInfoAccess: '1.3.6.1.5.5.7.1.1',
  ocsp: '1.3.6.1.5.5.7.48.1',
  nameConstraints: '2.5.29.30',
  certificatePolicies: '2.5.29.32',
  extensionRequest: '1.2.840.113549.1.9.14',
  serverAuth: '1.3.6.1.5.5.7.3.1',
  clientAuth: '1.3.6.1.5.5.7.3.2',
  ocspSigning: '1.3.6.1.5.5.7.3.9',
  ocspNoCheck: '1.3.6.1.5.5.7.48.1.5',
} as const;

// ------------------------------------------------------------------ keys

export type KeySpec =
  | 'P-256'
  | 'P-384'
  | 'P-521'
  | 'P-192'
  | 'rsa1024'
  | 'rsa2048'
  | 'rsa3072'
  | 'rsa4096'
  | 'ed25519';

export interface KeyPair {
  readonly spec: KeySpec;
  readonly privateKey: KeyObject;
  readonly publicKey: KeyObject;
  /** SubjectPublicKeyInfo DER. */
  readonly spki: Buffer;
}

const CURVE_NAMES: Record<string, string> = {
  'P-256': 'prime256v1',
  'P-384': 'secp384r1',
  'P-521': 'secp521r1',
  'P-192': 'prime192v1',
};

/** A fresh key pair. RSA generation is slow: prefer `sharedKey` in big suites. */
export function generateKey(spec: KeySpec = 'P-256'): KeyPair {
  let pair: { privateKey: KeyObject; publicKey: KeyObject };
  if (spec.startsWith('rsa')) pair = generateKeyPairSync('rsa', { modulusLength: Number(spec.slice(3)) });
  else if (spec === 'ed25519') pair = generateKeyPairSync('ed25519');
  else pair = generateKeyPairSync('ec', { namedCurve: CURVE_NAMES[spec] ?? spec });
  return { spec, ...pair, spki: pair.publicKey.export({ format: 'der', type: 'spki' }) };
}

const shared = new Map<string, KeyPair>();
/** A key pair memoized per (spec, slot): distinct slots give distinct keys. */
export function sharedKey(spec: KeySpec = 'P-256', slot = 0): KeyPair {
  const id = `${spec}/${slot}`;
  let pair = shared.get(id);
  if (pair === undefined) {
    pair = generateKey(spec);
    shared.set(id, pair);
  }
  return pair;
}

export type Hash = 'sha1' | 'sha256' | 'sha384' | 'sha512';

/** AlgorithmIdentifier and signing function for a key. */
export function signatureAlgorithm(
  key: KeyObject,
  hash: Hash = 'sha256',
  pss = false,
): { algId: Buffer; sign: (data: Buffer) => Buffer } {
  const type = key.asymmetricKeyType;
  const hashOid = {
    sha1: '1.3.14.3.2.26',
    sha256: '2.16.840.1.101.3.4.2.1',
    sha384: '2.16.840.1.101.3.4.2.2',
    sha512: '2.16.840.1.101.3.4.2.3',
  }[hash];
  if (type === 'ec') {
    const oid = {
      sha1: '1.2.840.10045.4.1',
      sha256: '1.2.840.10045.4.3.2',
      sha384: '1.2.840.10045.4.3.3',
      sha512: '1.2.840.10045.4.3.4',
    }[hash];
    return { algId: der.seq(der.oid(oid)), sign: (d) => sign(hash, d, { key, dsaEncoding: 'der' }) };
  }
  if (type === 'rsa' && pss) {
    const saltLength = { sha1: 20, sha256: 32, sha384: 48, sha512: 64 }[hash];
    const hashAlg = der.seq(der.oid(hashOid), der.null());
    const params = der.seq(
      der.explicit(0, hashAlg),
      der.explicit(1, der.seq(der.oid('1.2.840.113549.1.1.8'), hashAlg)),
      der.explicit(2, der.int(saltLength)),
    );
    return {
      algId: der.seq(der.oid('1.2.840.113549.1.1.10'), params),
      sign: (d) => sign(hash, d, { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength }),
    };
  }
  if (type === 'rsa') {
    const oid = {
      sha1: '1.2.840.113549.1.1.5',
      sha256: '1.2.840.113549.1.1.11',
      sha384: '1.2.840.113549.1.1.12',
      sha512: '1.2.840.113549.1.1.13',
    }[hash];
    return { algId: der.seq(der.oid(oid), der.null()), sign: (d) => sign(hash, d, key) };
  }
  if (type === 'ed25519') return { algId: der.seq(der.oid('1.3.101.112')), sign: (d) => sign(null, d, key) };
  throw new Error(`unsupported key type ${type}`);
}

// ------------------------------------------------------------------ names and extensions

export interface NameSpec {
  readonly CN?: string;
  readonly O?: string;
  readonly OU?: string;
  readonly C?: string;
  readonly serialNumber?: string;
}

export function encodeName(name: NameSpec | string): Buffer {
  const spec: NameSpec = typeof name === 'string' ? { CN: name } : name;
  const rdns: Buffer[] = [];
  const add = (oid: string, value: string | undefined, printable = false) => {
    if (value !== undefined)
      rdns.push(der.set(der.seq(der.oid(oid), printable ? der.printable(value) : der.utf8(value))));
  };
  add(OID.c, spec.C, true);
  add(OID.o, spec.O);
  add(OID.ou, spec.OU);
  add(OID.serialNumber, spec.serialNumber, true);
  add(OID.cn, spec.CN);
  return der.seq(...rdns);
}

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
const KU_ORDER: KeyUsageFlag[] = [
  'digitalSignature',
  'nonRepudiation',
  'keyEncipherment',
  'dataEncipherment',
  'keyAgreement',
  'keyCertSign',
  'cRLSign',
  'encipherOnly',
  'decipherOnly',
];

export interface RawExtension {
  readonly oid: string;
  readonly critical: boolean;
  /** The extnValue contents (DER inside the OCTET STRING). */
  readonly value: Buffer;
}

export function encodeExtension(ext: RawExtension): Buffer {
  return der.seq(der.oid(ext.oid), ...(ext.critical ? [der.bool(true)] : []), der.octets(ext.value));
}

export function keyUsageValue(flags: readonly KeyUsageFlag[]): Buffer {
  const bits = flags.map((f) => KU_ORDER.indexOf(f));
  const max = Math.max(-1, ...bits);
  if (max < 0) return der.bits(Buffer.alloc(0));
  const bytes = Buffer.alloc(Math.floor(max / 8) + 1);
  for (const b of bits) bytes[b >> 3] = (bytes[b >> 3] ?? 0) | (0x80 >> (b & 7));
  // DER named bits: unused = trailing zero bits after the highest set bit.
  const unused = 7 - (max % 8);
  return der.bits(bytes, unused);
}

const EKU_NAMES: Record<string, string> = {
  serverAuth: OID.serverAuth,
  clientAuth: OID.clientAuth,
  ocspSigning: OID.ocspSigning,
};

// ------------------------------------------------------------------ certificates

export interface CertOptions {
  /** Subject (a string is a CN). Default: a CN derived from the role. */
  readonly subject?: NameSpec | string;
  /** Subject as an already-encoded Name (wins over `subject`): other attributes and string types. */
  readonly subjectDer?: Buffer;
  /** Key of the subject. Default: a fresh P-256 key. */
  readonly key?: KeyPair;
  /** Serial (unsigned). Default: 16 random bytes. */
  readonly serial?: bigint | Buffer;
  /** Default: one hour ago. */
  readonly notBefore?: Date;
  /** Default: one year after notBefore. */
  readonly notAfter?: Date;
  /** `null` omits the extension. CA default `{ ca: true }`, leaf default `null`. */
  readonly basicConstraints?: {
    readonly ca: boolean;
    readonly pathLen?: number;
    readonly critical?: boolean;
  } | null;
  /** Shortcut: pathLenConstraint for a CA. */
  readonly pathLen?: number;
  /** `null` omits the extension. CA default keyCertSign+cRLSign, leaf default digitalSignature. */
  readonly keyUsage?: readonly KeyUsageFlag[] | null;
  /** EKU by name (serverAuth, clientAuth, ocspSigning) or OID. */
  readonly extKeyUsage?: readonly string[];
  readonly sanUris?: readonly string[];
  readonly sanDns?: readonly string[];
  /** AIA OCSP URL(s). */
  readonly ocspUrl?: string | readonly string[];
  /** Extra raw extensions (e.g. an unknown critical one). */
  readonly extraExtensions?: readonly RawExtension[];
  /** Add subjectKeyIdentifier/authorityKeyIdentifier. Default true. */
  readonly keyIds?: boolean;
  readonly hash?: Hash;
  /** RSASSA-PSS instead of PKCS#1 v1.5 for RSA issuers. */
  readonly pss?: boolean;
  /** Sign with this key instead of the issuer's (forgeries). */
  readonly signWith?: KeyObject;
  /** Override the issuer name (forgeries, name-chaining tests). */
  readonly issuerName?: NameSpec | string;
}

export interface TestCert {
  readonly der: Buffer;
  readonly pem: string;
  readonly key: KeyPair;
  readonly subjectDer: Buffer;
  readonly serial: Buffer;
  readonly subject: NameSpec | string;
}

export function toPem(label: string, data: Buffer): string {
  const b64 = data
    .toString('base64')
    .replace(/(.{64})/g, '$1\n')
    .replace(/\n$/, '');
  return `-----BEGIN ${label}-----\n${b64}\n-----END ${label}-----\n`;
}

function keyId(spki: Buffer): Buffer {
  // RFC 5280 method 1 over the whole SPKI is fine for tests: only uniqueness matters.
  return createHash('sha1').update(spki).digest();
}

/** Issues a certificate; `issuer` undefined makes it self-signed. */
export function issueCertificate(
  options: CertOptions & { readonly issuer?: TestCert; readonly role: 'ca' | 'leaf' },
): TestCert {
  const key = options.key ?? generateKey('P-256');
  const subject = options.subject ?? (options.role === 'ca' ? 'Test CA' : 'test-leaf');
  const subjectDer = options.subjectDer ?? encodeName(subject);
  const issuerDer =
    options.issuerName !== undefined
      ? encodeName(options.issuerName)
      : (options.issuer?.subjectDer ?? subjectDer);
  const signer = options.signWith ?? options.issuer?.key.privateKey ?? key.privateKey;
  const notBefore = options.notBefore ?? new Date(Date.now() - 3_600_000);
  const notAfter = options.notAfter ?? new Date(notBefore.getTime() + 365 * 86_400_000);
  let serial = typeof options.serial === 'bigint' ? options.serial : undefined;
  const serialBytes = Buffer.isBuffer(options.serial) ? options.serial : undefined;
  if (serial === undefined && serialBytes === undefined) {
    const r = randomBytes(16);
    r[0] = ((r[0] ?? 0) & 0x7f) | 0x01;
    serial = BigInt(`0x${r.toString('hex')}`);
  }
  const serialDer = der.int(serialBytes ?? (serial as bigint));

  const exts: RawExtension[] = [];
  const bc =
    options.basicConstraints !== undefined
      ? options.basicConstraints
      : options.role === 'ca'
        ? { ca: true, ...(options.pathLen !== undefined ? { pathLen: options.pathLen } : {}) }
        : null;
  if (bc !== null) {
    const inner = [
      ...(bc.ca ? [der.bool(true)] : []),
      ...(bc.pathLen !== undefined ? [der.int(bc.pathLen)] : []),
    ];
    exts.push({ oid: OID.basicConstraints, critical: bc.critical ?? true, value: der.seq(...inner) });
  }
  const ku =
    options.keyUsage !== undefined
      ? options.keyUsage
      : options.role === 'ca'
        ? (['keyCertSign', 'cRLSign'] as const)
        : (['digitalSignature'] as const);
  if (ku !== null) exts.push({ oid: OID.keyUsage, critical: true, value: keyUsageValue(ku) });
  if (options.extKeyUsage !== undefined) {
    exts.push({
      oid: OID.extKeyUsage,
      critical: false,
      value: der.seq(...options.extKeyUsage.map((e) => der.oid(EKU_NAMES[e] ?? e))),
    });
  }
  const sans = [
    ...(options.sanUris ?? []).map((u) => tlv(0x86, Buffer.from(u))),
    ...(options.sanDns ?? []).map((d) => tlv(0x82, Buffer.from(d))),
  ];
  if (sans.length > 0) exts.push({ oid: OID.subjectAltName, critical: false, value: der.seq(...sans) });
  const ocsp =
    options.ocspUrl === undefined
      ? []
      : typeof options.ocspUrl === 'string'
        ? [options.ocspUrl]
        : options.ocspUrl;
  if (ocsp.length > 0) {
    exts.push({
      oid: OID.authorityInfoAccess,
      critical: false,
      value: der.seq(...ocsp.map((u) => der.seq(der.oid(OID.ocsp), tlv(0x86, Buffer.from(u))))),
    });
  }
  if (options.keyIds ?? true) {
    exts.push({ oid: OID.subjectKeyIdentifier, critical: false, value: der.octets(keyId(key.spki)) });
    const issuerSpki = options.issuer?.key.spki ?? key.spki;
    exts.push({
      oid: OID.authorityKeyIdentifier,
      critical: false,
      value: der.seq(tlv(0x80, keyId(issuerSpki))),
    });
  }
  exts.push(...(options.extraExtensions ?? []));

  const sig = signatureAlgorithm(signer, options.hash ?? 'sha256', options.pss ?? false);
  const tbs = der.seq(
    der.explicit(0, der.int(2)),
    serialDer,
    sig.algId,
    issuerDer,
    der.seq(der.time(notBefore), der.time(notAfter)),
    subjectDer,
    key.spki,
    ...(exts.length > 0 ? [der.explicit(3, der.seq(...exts.map(encodeExtension)))] : []),
  );
  const certDer = der.seq(tbs, sig.algId, der.bits(sig.sign(tbs)));
  const serialContent = serialDer.subarray(2);
  return {
    der: certDer,
    pem: toPem('CERTIFICATE', certDer),
    key,
    subjectDer,
    serial: serialContent,
    subject,
  };
}

export function createRootCa(options: CertOptions = {}): TestCert {
  return issueCertificate({
    subject: { CN: 'Test Root CA', O: 'cv-security tests' },
    ...options,
    role: 'ca',
  });
}

export function createIntermediateCa(issuer: TestCert, options: CertOptions = {}): TestCert {
  return issueCertificate({
    subject: { CN: 'Test Intermediate CA', O: 'cv-security tests' },
    ...options,
    issuer,
    role: 'ca',
  });
}

export function createLeaf(issuer: TestCert, options: CertOptions = {}): TestCert {
  return issueCertificate({ subject: 'test-leaf', ...options, issuer, role: 'leaf' });
}

/** A ready P-256 chain: root (anchor), intermediate (pathLen 0), leaf (digitalSignature, clientAuth). */
export function createChain(
  options: { leaf?: CertOptions; intermediate?: CertOptions; root?: CertOptions } = {},
): {
  root: TestCert;
  intermediate: TestCert;
  leaf: TestCert;
} {
  const root = createRootCa(options.root);
  const intermediate = createIntermediateCa(root, { pathLen: 0, ...options.intermediate });
  const leaf = createLeaf(intermediate, { extKeyUsage: ['clientAuth'], ...options.leaf });
  return { root, intermediate, leaf };
}

// ------------------------------------------------------------------ CSRs

export interface CsrOptions {
  readonly key: KeyPair;
  readonly subject?: NameSpec | string;
  readonly sanUris?: readonly string[];
  readonly extensions?: readonly RawExtension[];
  readonly hash?: Hash;
  readonly pss?: boolean;
  /** Sign with another key (a CSR whose signature does not verify). */
  readonly signWith?: KeyObject;
}

export function createCsr(options: CsrOptions): { der: Buffer; pem: string } {
  const exts = [...(options.extensions ?? [])];
  if (options.sanUris !== undefined && options.sanUris.length > 0) {
    exts.push({
      oid: OID.subjectAltName,
      critical: false,
      value: der.seq(...options.sanUris.map((u) => tlv(0x86, Buffer.from(u)))),
    });
  }
  const attributes =
    exts.length === 0
      ? tlv(0xa0)
      : tlv(0xa0, der.seq(der.oid(OID.extensionRequest), der.set(der.seq(...exts.map(encodeExtension)))));
  const info = der.seq(der.int(0), encodeName(options.subject ?? 'test-csr'), options.key.spki, attributes);
  const signer = options.signWith ?? options.key.privateKey;
  const sig = signatureAlgorithm(signer, options.hash ?? 'sha256', options.pss ?? false);
  const csrDer = der.seq(info, sig.algId, der.bits(sig.sign(info)));
  return { der: csrDer, pem: toPem('CERTIFICATE REQUEST', csrDer) };
}

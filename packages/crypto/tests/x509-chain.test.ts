import { describe, expect, it } from 'vitest';
import {
  type ChainFailureReason,
  ChainValidationError,
  createTrustStore,
  loadTrustStore,
  OID as PUBLIC_OID,
  parseCertificate,
  validateChain,
} from '../src/x509/index.js';
import {
  createChain,
  createIntermediateCa,
  createLeaf,
  createRootCa,
  der,
  OID,
  sharedKey,
  type TestCert,
} from './helpers/pki.js';
import { opensslVerify } from './helpers/pki-openssl.js';

const NOW = new Date();
const HOUR = 3_600_000;
const DAY = 24 * HOUR;

interface Case {
  readonly anchors: readonly TestCert[];
  readonly intermediates: readonly TestCert[];
  readonly leaf: TestCert;
}

function ours(
  c: Case,
  options: { now?: Date; clockSkewSeconds?: number; leafExtKeyUsage?: string; maxPathLength?: number } = {},
) {
  return validateChain({
    leaf: parseCertificate(c.leaf.pem),
    intermediates: c.intermediates.map((i) => parseCertificate(i.der)),
    trust: createTrustStore(c.anchors.map((a) => a.pem)),
    now: options.now ?? NOW,
    ...options,
  });
}

function reasonOf(c: Case, options: Parameters<typeof ours>[1] = {}): ChainFailureReason | 'ok' {
  try {
    ours(c, options);
    return 'ok';
  } catch (error) {
    if (error instanceof ChainValidationError) return error.reason;
    throw error;
  }
}

function peer(c: Case, at: Date = NOW): boolean {
  return opensslVerify({ anchors: c.anchors, intermediates: c.intermediates, leaf: c.leaf, at }).ok;
}

// Keys are shared to keep the suite fast; each test builds the certificates it needs.
const rootKey = sharedKey('P-256', 10);
const intKey = sharedKey('P-256', 11);
const leafKey = sharedKey('P-256', 12);
const otherKey = sharedKey('P-256', 13);

function good(overrides: Parameters<typeof createChain>[0] = {}) {
  return createChain({
    root: { key: rootKey, ...overrides.root },
    intermediate: { key: intKey, ...overrides.intermediate },
    leaf: { key: leafKey, ...overrides.leaf },
  });
}

describe('validateChain: the good path', () => {
  it('accepts a 3-certificate P-256 chain, like openssl verify', () => {
    // Prepare
    const { root, intermediate, leaf } = good();
    const c = { anchors: [root], intermediates: [intermediate], leaf };
    // Act
    const result = ours(c);
    // Assess
    expect(result.path.map((p) => p.subjectCN)).toEqual(['test-leaf', 'Test Intermediate CA']);
    expect(result.anchor.subjectCN).toBe('Test Root CA');
    expect(peer(c)).toBe(true);
  });

  it('accepts RSA chains signed with PKCS#1 v1.5 and RSASSA-PSS, and P-384 with SHA-384', () => {
    const rsaRoot = createRootCa({ key: sharedKey('rsa2048', 20) });
    const pssInt = createIntermediateCa(rsaRoot, { key: sharedKey('rsa2048', 21), pss: true });
    const p384Leaf = createLeaf(pssInt, { key: sharedKey('P-384'), pss: true, hash: 'sha384' });
    const c = { anchors: [rsaRoot], intermediates: [pssInt], leaf: p384Leaf };
    expect(reasonOf(c)).toBe('ok');
    expect(peer(c)).toBe(true);
  });

  it('builds the path from an unordered pool with unrelated extras', () => {
    const { root, intermediate, leaf } = good();
    const stranger = createIntermediateCa(createRootCa({ key: otherKey }), {
      key: otherKey,
      subject: 'Stranger CA',
    });
    expect(reasonOf({ anchors: [root], intermediates: [stranger, root, intermediate], leaf })).toBe('ok');
  });

  it('backtracks past an expired intermediate to its renewed twin (same name and key)', () => {
    // Prepare
    const { root, intermediate: renewed, leaf } = good();
    const expired = createIntermediateCa(root, {
      key: intKey,
      pathLen: 0,
      notBefore: new Date(NOW.getTime() - 10 * DAY),
      notAfter: new Date(NOW.getTime() - DAY),
    });
    // Act
    const result = ours({ anchors: [root], intermediates: [expired, renewed], leaf });
    // Assess
    expect(result.path[1]?.der.equals(renewed.der)).toBe(true);
    expect(reasonOf({ anchors: [root], intermediates: [expired], leaf })).toBe('expired');
  });

  it('stops at an intermediate placed in the trust store', () => {
    const { intermediate, leaf } = good();
    const result = ours({ anchors: [intermediate], intermediates: [], leaf });
    expect(result.path).toHaveLength(1);
    expect(result.anchor.subjectCN).toBe('Test Intermediate CA');
  });

  it('loadTrustStore parses a bundle once and reuses it', () => {
    const { root } = good();
    const pem = `${root.pem}`;
    expect(loadTrustStore(pem)).toBe(loadTrustStore(pem));
    expect(loadTrustStore(pem).hasKey(root.key.spki)).toBe(true);
  });
});

describe('validateChain: each RFC 5280 rule has its rejection', () => {
  it('expired leaf → expired (openssl agrees)', () => {
    const { root, intermediate, leaf } = good({
      leaf: { notBefore: new Date(NOW.getTime() - 10 * DAY), notAfter: new Date(NOW.getTime() - DAY) },
    });
    const c = { anchors: [root], intermediates: [intermediate], leaf };
    expect(reasonOf(c)).toBe('expired');
    expect(peer(c)).toBe(false);
  });

  it('expired intermediate and expired anchor → expired, with the depth', () => {
    const old = { notBefore: new Date(NOW.getTime() - 10 * DAY), notAfter: new Date(NOW.getTime() - DAY) };
    const a = good({ intermediate: old });
    const b = good({ root: old });
    const errorA = (() => {
      try {
        ours({ anchors: [a.root], intermediates: [a.intermediate], leaf: a.leaf });
      } catch (e) {
        return e as ChainValidationError;
      }
    })();
    expect(errorA).toMatchObject({
      reason: 'expired',
      depth: 1,
      subject: 'CN=Test Intermediate CA,O=cv-security tests',
    });
    expect(reasonOf({ anchors: [b.root], intermediates: [b.intermediate], leaf: b.leaf })).toBe('expired');
    expect(peer({ anchors: [b.root], intermediates: [b.intermediate], leaf: b.leaf })).toBe(false);
  });

  it('not-yet-valid leaf → not-yet-valid; the clock-skew allowance is configurable', () => {
    const soon = good({ leaf: { notBefore: new Date(NOW.getTime() + 120_000) } });
    const later = good({ leaf: { notBefore: new Date(NOW.getTime() + HOUR) } });
    const c1 = { anchors: [soon.root], intermediates: [soon.intermediate], leaf: soon.leaf };
    expect(reasonOf(c1)).toBe('ok'); // default 300 s skew
    expect(reasonOf(c1, { clockSkewSeconds: 0 })).toBe('not-yet-valid');
    expect(peer(c1)).toBe(false); // openssl has no skew
    expect(reasonOf({ anchors: [later.root], intermediates: [later.intermediate], leaf: later.leaf })).toBe(
      'not-yet-valid',
    );
  });

  it('expiry is honoured at the edge of the skew window', () => {
    const { root, intermediate, leaf } = good({ leaf: { notAfter: new Date(NOW.getTime() - 60_000) } });
    const c = { anchors: [root], intermediates: [intermediate], leaf };
    expect(reasonOf(c, { clockSkewSeconds: 120 })).toBe('ok');
    expect(reasonOf(c, { clockSkewSeconds: 30 })).toBe('expired');
  });

  it('leaf signed by another key → bad-signature (openssl agrees)', () => {
    const { root, intermediate, leaf } = good({ leaf: { signWith: otherKey.privateKey } });
    const c = { anchors: [root], intermediates: [intermediate], leaf };
    expect(reasonOf(c)).toBe('bad-signature');
    expect(peer(c)).toBe(false);
  });

  it('tampered leaf (a byte of the signed part changed) → bad-signature', () => {
    const { root, intermediate, leaf } = good({ leaf: { subject: 'ecu-aaaa' } });
    const derBytes = Buffer.from(leaf.der.toString('latin1').replace('ecu-aaaa', 'ecu-bbbb'), 'latin1');
    const tampered = { ...leaf, der: derBytes, pem: parseCertificate(derBytes).pem };
    expect(reasonOf({ anchors: [root], intermediates: [intermediate], leaf: tampered })).toBe(
      'bad-signature',
    );
  });

  it('SHA-1 signature → unsupported-algorithm', () => {
    const { root, intermediate } = good();
    const leaf = createLeaf(intermediate, { key: leafKey, hash: 'sha1' });
    expect(reasonOf({ anchors: [root], intermediates: [intermediate], leaf })).toBe('unsupported-algorithm');
  });

  it('intermediate without basicConstraints cA → not-ca (openssl agrees)', () => {
    for (const basicConstraints of [null, { ca: false }]) {
      const { root, intermediate, leaf } = good({ intermediate: { basicConstraints } });
      const c = { anchors: [root], intermediates: [intermediate], leaf };
      expect(reasonOf(c)).toBe('not-ca');
      expect(peer(c)).toBe(false);
    }
  });

  it('anchor that is not a CA → not-ca', () => {
    const root = createRootCa({ key: rootKey, basicConstraints: null });
    const leaf = createLeaf(root, { key: leafKey });
    expect(reasonOf({ anchors: [root], intermediates: [], leaf })).toBe('not-ca');
  });

  it('intermediate without keyCertSign → key-usage (openssl agrees)', () => {
    const { root, intermediate, leaf } = good({
      intermediate: { keyUsage: ['digitalSignature', 'cRLSign'] },
    });
    const c = { anchors: [root], intermediates: [intermediate], leaf };
    expect(reasonOf(c)).toBe('key-usage');
    expect(peer(c)).toBe(false);
  });

  it('intermediate with no keyUsage at all → key-usage (RFC 5280: CAs must carry it)', () => {
    const { root, intermediate, leaf } = good({ intermediate: { keyUsage: null } });
    expect(reasonOf({ anchors: [root], intermediates: [intermediate], leaf })).toBe('key-usage');
  });

  it('root pathLen 0 above an intermediate → path-length (openssl agrees)', () => {
    const { root, intermediate, leaf } = good({ root: { pathLen: 0 } });
    const c = { anchors: [root], intermediates: [intermediate], leaf };
    expect(reasonOf(c)).toBe('path-length');
    expect(peer(c)).toBe(false);
  });

  it('intermediate pathLen 0 above a sub-CA → path-length (openssl agrees); pathLen 1 passes', () => {
    const root = createRootCa({ key: rootKey });
    for (const [pathLen, expected] of [
      [0, 'path-length'],
      [1, 'ok'],
    ] as const) {
      const intermediate = createIntermediateCa(root, { key: intKey, pathLen });
      const sub = createIntermediateCa(intermediate, { key: otherKey, subject: 'Sub CA' });
      const leaf = createLeaf(sub, { key: leafKey });
      const c = { anchors: [root], intermediates: [intermediate, sub], leaf };
      expect(reasonOf(c)).toBe(expected);
      expect(peer(c)).toBe(expected === 'ok');
    }
  });

  it('leaf that is a CA → leaf-is-ca', () => {
    const { root, intermediate } = good();
    const leaf = createLeaf(intermediate, {
      key: leafKey,
      basicConstraints: { ca: true },
      keyUsage: ['digitalSignature', 'keyCertSign'],
    });
    expect(reasonOf({ anchors: [root], intermediates: [intermediate], leaf })).toBe('leaf-is-ca');
  });

  it('leaf without digitalSignature (or without keyUsage) → key-usage', () => {
    const { root, intermediate } = good();
    for (const keyUsage of [['keyEncipherment'] as const, null]) {
      const leaf = createLeaf(intermediate, { key: leafKey, keyUsage });
      expect(reasonOf({ anchors: [root], intermediates: [intermediate], leaf })).toBe('key-usage');
    }
  });

  it('leaf EKU checked when required: serverAuth-only leaf for clientAuth → ext-key-usage', () => {
    const { root, intermediate } = good();
    const serverLeaf = createLeaf(intermediate, { key: leafKey, extKeyUsage: ['serverAuth'] });
    const noEku = createLeaf(intermediate, { key: leafKey });
    const c = { anchors: [root], intermediates: [intermediate] };
    expect(reasonOf({ ...c, leaf: serverLeaf }, { leafExtKeyUsage: PUBLIC_OID.extKeyUsage.clientAuth })).toBe(
      'ext-key-usage',
    );
    expect(reasonOf({ ...c, leaf: noEku }, { leafExtKeyUsage: PUBLIC_OID.extKeyUsage.clientAuth })).toBe(
      'ok',
    );
  });

  it('unknown critical extension on the leaf → unknown-critical-extension (openssl agrees)', () => {
    const { root, intermediate } = good();
    const leaf = createLeaf(intermediate, {
      key: leafKey,
      extraExtensions: [{ oid: '1.3.6.1.4.1.55555.1', critical: true, value: der.null() }],
    });
    const c = { anchors: [root], intermediates: [intermediate], leaf };
    expect(reasonOf(c)).toBe('unknown-critical-extension');
    expect(peer(c)).toBe(false);
  });

  it('critical extensions we do not enforce (certificatePolicies) on an issuer are rejected', () => {
    const root = createRootCa({ key: rootKey });
    for (const oid of [OID.certificatePolicies]) {
      const intermediate = createIntermediateCa(root, {
        key: intKey,
        extraExtensions: [{ oid, critical: true, value: der.seq(der.seq(der.oid('2.5.29.32.0'))) }],
      });
      const leaf = createLeaf(intermediate, { key: leafKey });
      expect(reasonOf({ anchors: [root], intermediates: [intermediate], leaf })).toBe(
        'unknown-critical-extension',
      );
    }
  });

  it('unknown NON-critical extensions are fine', () => {
    const { root, intermediate } = good();
    const leaf = createLeaf(intermediate, {
      key: leafKey,
      extraExtensions: [{ oid: '1.3.6.1.4.1.55555.1', critical: false, value: der.null() }],
    });
    expect(reasonOf({ anchors: [root], intermediates: [intermediate], leaf })).toBe('ok');
  });

  it('an impostor root with the trusted name but another key does not anchor the chain (openssl agrees)', () => {
    // Prepare: the attacker mints a root with the same subject as the trusted one.
    const { root } = good();
    const impostor = createRootCa({ key: otherKey });
    const intermediate = createIntermediateCa(impostor, { key: intKey });
    const leaf = createLeaf(intermediate, { key: leafKey });
    const c = { anchors: [root], intermediates: [intermediate, impostor], leaf };
    // Act / Assess
    expect(impostor.subjectDer.equals(root.subjectDer)).toBe(true);
    expect(reasonOf(c)).toBe('bad-signature');
    expect(peer(c)).toBe(false);
  });

  it('chain to an unrelated root → untrusted (openssl agrees)', () => {
    const { root } = good();
    const other = createRootCa({ key: otherKey, subject: 'Other Root' });
    const intermediate = createIntermediateCa(other, { key: intKey });
    const leaf = createLeaf(intermediate, { key: leafKey });
    const c = { anchors: [root], intermediates: [intermediate], leaf };
    expect(reasonOf(c)).toBe('untrusted');
    expect(peer(c)).toBe(false);
  });

  it('missing intermediate → untrusted (openssl agrees)', () => {
    const { root, leaf } = good();
    const c = { anchors: [root], intermediates: [], leaf };
    expect(reasonOf(c)).toBe('untrusted');
    expect(peer(c)).toBe(false);
  });

  it('name chaining: a leaf whose issuer name is not the intermediate subject does not chain, even if the key signed it', () => {
    const { root, intermediate } = good();
    const leaf = createLeaf(intermediate, { key: leafKey, issuerName: 'Somebody Else' });
    const c = { anchors: [root], intermediates: [intermediate], leaf };
    expect(reasonOf(c)).toBe('untrusted');
    expect(peer(c)).toBe(false);
  });

  it('a path longer than maxPathLength → chain-too-long', () => {
    const { root, intermediate, leaf } = good();
    expect(reasonOf({ anchors: [root], intermediates: [intermediate], leaf }, { maxPathLength: 2 })).toBe(
      'chain-too-long',
    );
  });

  it('the error is a typed ChainValidationError with depth and subject', () => {
    const { root, intermediate, leaf } = good({ leaf: { signWith: otherKey.privateKey } });
    expect(() => ours({ anchors: [root], intermediates: [intermediate], leaf })).toThrow(
      expect.objectContaining({
        name: 'ChainValidationError',
        reason: 'bad-signature',
        depth: 0,
        subject: 'CN=test-leaf',
      }),
    );
  });
});

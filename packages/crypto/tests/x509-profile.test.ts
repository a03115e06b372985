/**
 * The RFC 5280 profile and the key policy on every certificate of the path (issue 20, issue 12
 * item 5), with this file's own PKI: each rule at each position it applies to, with the reason
 * that names it and the depth of the offending certificate.
 */
import { describe, expect, it } from 'vitest';
import { ext, verdict } from './helpers/chain-case.js';
import {
  type CertOptions,
  createIntermediateCa,
  createLeaf,
  createRootCa,
  der,
  type KeySpec,
  OID,
  sharedKey,
  type TestCert,
} from './helpers/pki.js';
import { opensslVerify } from './helpers/pki-openssl.js';

const rootKey = sharedKey('P-256', 40);
const intKey = sharedKey('P-256', 41);
const leafKey = sharedKey('P-256', 42);
const otherKey = sharedKey('P-256', 43);

type Position = 'leaf' | 'intermediate' | 'root';
const DEPTH: Record<Position, number> = { leaf: 0, intermediate: 1, root: 2 };

/** root -> intermediate -> leaf with the options of one position overridden. */
function chain(at?: Position, options: CertOptions = {}) {
  const root = createRootCa({ key: rootKey, ...(at === 'root' ? options : {}) });
  const intermediate = createIntermediateCa(root, { key: intKey, ...(at === 'intermediate' ? options : {}) });
  const leaf = createLeaf(intermediate, { key: leafKey, ...(at === 'leaf' ? options : {}) });
  return { anchors: [root], intermediates: [intermediate], leaf };
}

function peer(c: { anchors: TestCert[]; intermediates: TestCert[]; leaf: TestCert }): boolean {
  return opensslVerify({ anchors: c.anchors, intermediates: c.intermediates, leaf: c.leaf }).ok;
}

/** Keys that carry no usable security (or that we cannot reason about): refused everywhere. */
const WEAK: readonly KeySpec[] = ['rsa1024', 'P-192', 'P-521', 'ed25519', 'rsa2052' as KeySpec];

describe('the key policy covers every certificate of the path, trust anchor included', () => {
  it('the control chain passes, with allowed keys at each position (P-384, RSA 2048 and 3072, P-256)', () => {
    const root = createRootCa({ key: sharedKey('P-384', 44) });
    const intermediate = createIntermediateCa(root, { key: sharedKey('rsa3072', 45) });
    const leaf = createLeaf(intermediate, { key: sharedKey('rsa2048', 46) });
    expect(verdict({ anchors: [root], intermediates: [intermediate], leaf })).toEqual({ reason: 'ok' });
  });

  for (const position of ['leaf', 'intermediate', 'root'] as const) {
    for (const spec of WEAK) {
      it(`a ${spec} key in the ${position} -> key-policy at depth ${DEPTH[position]}`, () => {
        const c = chain(position, { key: sharedKey(spec, 47) });
        expect(verdict(c)).toMatchObject({ reason: 'key-policy', depth: DEPTH[position] });
      });
    }
  }

  it("an issuer's weak key is refused before its signature is checked (a forged link still says key-policy)", () => {
    const root = createRootCa({ key: rootKey });
    const weakInt = createIntermediateCa(root, { key: sharedKey('rsa1024', 47) });
    const forgedLeaf = createLeaf(weakInt, { key: leafKey, signWith: otherKey.privateKey });
    expect(verdict({ anchors: [root], intermediates: [weakInt], leaf: forgedLeaf })).toMatchObject({
      reason: 'key-policy',
      depth: 1,
    });
  });

  it("a caller's keyPolicy applies to the whole chain: P-521 passes only where listed", () => {
    const c = chain('intermediate', { key: sharedKey('P-521', 47) });
    expect(verdict(c)).toMatchObject({ reason: 'key-policy' });
    expect(verdict(c, { keyPolicy: { ecCurves: ['P-256', 'P-521'] } })).toEqual({ reason: 'ok' });
    expect(verdict(chain(), { keyPolicy: { ecCurves: ['P-384'] } })).toMatchObject({
      reason: 'key-policy',
      depth: 0,
    });
  });
});

describe('criticality (RFC 5280 4.2.1.1, 4.2.1.2, 4.2.2.1, 4.2.1.9, 4.2.1.11)', () => {
  for (const position of ['leaf', 'intermediate', 'root'] as const) {
    const issuerKey = position === 'leaf' ? intKey : rootKey;
    const ownKey = position === 'leaf' ? leafKey : position === 'intermediate' ? intKey : rootKey;
    it(`a critical AKI, SKI or AIA in the ${position} -> extension-criticality at depth ${DEPTH[position]}`, () => {
      const variants = [
        [ext.ski(ownKey, true), ext.aki(issuerKey)],
        [ext.ski(ownKey), ext.aki(issuerKey, { critical: true })],
        [
          ext.ski(ownKey),
          ext.aki(issuerKey),
          {
            oid: OID.authorityInfoAccess,
            critical: true,
            value: der.seq(der.seq(der.oid(OID.ocsp), Buffer.from('\x86\x0ehttp://o.test/', 'latin1'))),
          },
        ],
      ];
      for (const extraExtensions of variants) {
        const c = chain(position, { keyIds: false, extraExtensions });
        expect(verdict(c)).toMatchObject({ reason: 'extension-criticality', depth: DEPTH[position] });
      }
    });
  }

  it('basicConstraints of an intermediate or of the anchor that is not critical -> extension-criticality', () => {
    for (const position of ['intermediate', 'root'] as const) {
      const c = chain(position, { basicConstraints: { ca: true, critical: false } });
      expect(verdict(c)).toMatchObject({ reason: 'extension-criticality', depth: DEPTH[position] });
    }
    // A leaf's non-critical basicConstraints (cA false) is fine.
    expect(verdict(chain('leaf', { basicConstraints: { ca: false, critical: false } }))).toEqual({
      reason: 'ok',
    });
  });

  it('policyConstraints: non-critical -> extension-criticality; critical -> unknown-critical-extension (no policy processing)', () => {
    const pc = (critical: boolean) => ({
      oid: '2.5.29.36',
      critical,
      value: der.seq(Buffer.from([0x80, 1, 0])),
    });
    expect(verdict(chain('intermediate', { extraExtensions: [pc(false)] }))).toMatchObject({
      reason: 'extension-criticality',
      depth: 1,
    });
    expect(verdict(chain('intermediate', { extraExtensions: [pc(true)] }))).toMatchObject({
      reason: 'unknown-critical-extension',
      depth: 1,
    });
  });
});

describe('key identifiers (RFC 5280 4.2.1.1, 4.2.1.2)', () => {
  it('a leaf or an intermediate without AKI -> authority-key-id; a self-signed anchor without AKI passes', () => {
    expect(verdict(chain('leaf', { keyIds: false, extraExtensions: [ext.ski(leafKey)] }))).toMatchObject({
      reason: 'authority-key-id',
      depth: 0,
    });
    expect(
      verdict(chain('intermediate', { keyIds: false, extraExtensions: [ext.ski(intKey)] })),
    ).toMatchObject({
      reason: 'authority-key-id',
      depth: 1,
    });
    expect(verdict(chain('root', { keyIds: false, extraExtensions: [ext.ski(rootKey)] }))).toEqual({
      reason: 'ok',
    });
  });

  it('an anchor issued by another CA (cross-certificate) without AKI -> authority-key-id', () => {
    const other = createRootCa({ key: otherKey, subject: 'Other Root' });
    const crossAnchor = createIntermediateCa(other, {
      key: intKey,
      keyIds: false,
      extraExtensions: [ext.ski(intKey)],
    });
    const leaf = createLeaf(crossAnchor, { key: leafKey });
    expect(verdict({ anchors: [crossAnchor], leaf })).toMatchObject({ reason: 'authority-key-id', depth: 1 });
  });

  it('an AKI without keyIdentifier, or naming another key than the signer -> authority-key-id', () => {
    const serialOnly = chain('leaf', {
      keyIds: false,
      extraExtensions: [ext.ski(leafKey), ext.aki(undefined, { serial: true })],
    });
    expect(verdict(serialOnly)).toMatchObject({ reason: 'authority-key-id', depth: 0 });
    const wrongKey = chain('leaf', { keyIds: false, extraExtensions: [ext.ski(leafKey), ext.aki(otherKey)] });
    expect(verdict(wrongKey)).toMatchObject({ reason: 'authority-key-id', depth: 0 });
    const selfSignedWrong = chain('root', {
      keyIds: false,
      extraExtensions: [ext.ski(rootKey), ext.aki(otherKey)],
    });
    expect(verdict(selfSignedWrong)).toMatchObject({ reason: 'authority-key-id', depth: 2 });
  });

  it('a CA (intermediate or anchor) without SKI -> subject-key-id; a leaf without SKI passes', () => {
    expect(
      verdict(chain('intermediate', { keyIds: false, extraExtensions: [ext.aki(rootKey)] })),
    ).toMatchObject({
      reason: 'subject-key-id',
      depth: 1,
    });
    expect(verdict(chain('root', { keyIds: false }))).toMatchObject({ reason: 'subject-key-id', depth: 2 });
    expect(verdict(chain('leaf', { keyIds: false, extraExtensions: [ext.aki(intKey)] }))).toEqual({
      reason: 'ok',
    });
  });
});

describe('serial numbers, names and key usage', () => {
  it('a serial of zero or longer than 20 octets -> serial-number (plain openssl verify accepts them)', () => {
    for (const position of ['leaf', 'intermediate'] as const) {
      for (const serial of [0n, (1n << 160n) + 1n]) {
        const c = chain(position, { serial });
        expect(verdict(c)).toMatchObject({ reason: 'serial-number', depth: DEPTH[position] });
      }
    }
    // 20 octets with the high bit set (21 in DER with the sign byte) is still 20 octets of serial.
    expect(verdict(chain('leaf', { serial: (1n << 160n) - 1n }))).toEqual({ reason: 'ok' });
    expect(peer(chain('leaf', { serial: 0n }))).toBe(true);
  });

  it('a CA with an empty subject -> empty-name; a leaf with an empty subject needs a critical SAN', () => {
    const root = createRootCa({ key: rootKey });
    const nameless = createIntermediateCa(root, { key: intKey, subject: {} });
    const leaf = createLeaf(nameless, { key: leafKey });
    // Its children then have an empty issuer: refused on the leaf itself, before path building.
    expect(verdict({ anchors: [root], intermediates: [nameless], leaf })).toMatchObject({
      reason: 'empty-name',
      depth: 0,
    });
    // The CA rule on its own: a nameless CA certificate presented as the end entity.
    expect(verdict({ anchors: [root], leaf: nameless })).toMatchObject({ reason: 'empty-name', depth: 0 });
    const san = (critical: boolean) => ({
      oid: OID.subjectAltName,
      critical,
      value: der.seq(Buffer.from('\x86\x0curn:cv:ecu:1', 'latin1')),
    });
    expect(verdict(chain('leaf', { subject: {} }))).toMatchObject({ reason: 'empty-name', depth: 0 });
    expect(verdict(chain('leaf', { subject: {}, extraExtensions: [san(false)] }))).toMatchObject({
      reason: 'extension-criticality',
      depth: 0,
    });
    expect(verdict(chain('leaf', { subject: {}, extraExtensions: [san(true)] }))).toEqual({ reason: 'ok' });
  });

  it('an empty issuer name -> empty-name, before any path building', () => {
    const c = chain('leaf', { issuerName: {} });
    expect(verdict(c)).toMatchObject({ reason: 'empty-name', depth: 0 });
  });

  it('keyCertSign on a certificate without cA (a leaf) -> key-usage', () => {
    const c = chain('leaf', { keyUsage: ['digitalSignature', 'keyCertSign'] });
    expect(verdict(c)).toMatchObject({ reason: 'key-usage', depth: 0 });
  });

  it('a malformed dNSName, rfc822Name or iPAddress in subjectAltName -> subject-alt-name', () => {
    const bad = [
      Buffer.from('\x82\x0ffoo_bar.example', 'latin1'),
      Buffer.from('\x82\x0c.example.com', 'latin1'),
      Buffer.from('\x81\x0ba@b@example', 'latin1'),
      Buffer.from([0x87, 5, 192, 0, 2, 1, 0]),
    ];
    for (const name of bad) {
      const c = chain('leaf', { extraExtensions: [ext.san([name])] });
      expect(verdict(c)).toMatchObject({ reason: 'subject-alt-name', depth: 0 });
    }
    expect(verdict(chain('leaf', { sanDns: ['*.ecu.example', 'gw-1.example'] }))).toEqual({ reason: 'ok' });
  });
});

describe('failure reasons name the rule that failed', () => {
  it("a path cut by the depth limit after a good link reports chain-too-long, not a sibling issuer's bad signature", () => {
    // root -> CA X (key A) -> CA X (self-issued, key B) -> leaf, with room for three certificates.
    const root = createRootCa({ key: rootKey });
    const upper = createIntermediateCa(root, { key: intKey, subject: 'CA X' });
    const lower = createIntermediateCa(upper, { key: otherKey, subject: 'CA X' });
    const leaf = createLeaf(lower, { key: leafKey });
    const c = { anchors: [root], intermediates: [upper, lower], leaf };
    expect(verdict(c, { maxPathLength: 3 })).toMatchObject({ reason: 'chain-too-long' });
    expect(verdict(c)).toEqual({ reason: 'ok' });
  });

  it('more than 16 intermediates presented -> chain-too-long (refused, not silently truncated)', () => {
    const c = chain();
    const strangers = Array.from({ length: 16 }, (_, i) =>
      createRootCa({ key: otherKey, subject: `Stranger ${i}` }),
    );
    expect(verdict({ ...c, intermediates: [...strangers, ...c.intermediates] })).toMatchObject({
      reason: 'chain-too-long',
      depth: 0,
    });
    expect(verdict({ ...c, intermediates: [...strangers.slice(1), ...c.intermediates] })).toEqual({
      reason: 'ok',
    });
  });

  it('validity is judged at whole seconds: 999 ms before notBefore is not yet valid, 999 ms after notAfter is not expired', () => {
    const notBefore = new Date(Date.UTC(2026, 0, 1, 0, 0, 1));
    const notAfter = new Date(Date.UTC(2026, 6, 1));
    const span = { notBefore: new Date(Date.UTC(2025, 0, 1)), notAfter: new Date(Date.UTC(2027, 0, 1)) };
    const root = createRootCa({ key: rootKey, ...span });
    const intermediate = createIntermediateCa(root, { key: intKey, ...span });
    const c = {
      anchors: [root],
      intermediates: [intermediate],
      leaf: createLeaf(intermediate, { key: leafKey, notBefore, notAfter }),
    };
    const at = (ms: number) => verdict(c, { now: new Date(ms), clockSkewSeconds: 0 }).reason;
    expect(at(notBefore.getTime() - 1)).toBe('not-yet-valid');
    expect(at(notBefore.getTime())).toBe('ok');
    expect(at(notAfter.getTime() + 999)).toBe('ok');
    expect(at(notAfter.getTime() + 1000)).toBe('expired');
  });
});

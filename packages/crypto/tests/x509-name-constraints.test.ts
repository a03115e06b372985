/**
 * nameConstraints (RFC 5280 4.2.1.10) for directory names, DNS names, IP addresses, email addresses
 * and URIs, with this file's own PKI: inside/outside/excluded for each form, the attacks on the
 * matching (suffix tricks, wildcards, re-encoded names, unprocessed forms, legacy email in the
 * subject), malformed constraints, and the bound on the work.
 */
import { describe, expect, it } from 'vitest';
import { ext, gn, rawName, verdict } from './helpers/chain-case.js';
import {
  type CertOptions,
  createIntermediateCa,
  createLeaf,
  createRootCa,
  der,
  type RawExtension,
  sharedKey,
  type TestCert,
} from './helpers/pki.js';
import { opensslVerify } from './helpers/pki-openssl.js';

const rootKey = sharedKey('P-256', 50);
const intKey = sharedKey('P-256', 51);
const leafKey = sharedKey('P-256', 52);

const CN = '2.5.4.3';
const O = '2.5.4.10';
const EMAIL = '1.2.840.113549.1.9.1';

/** root -> intermediate (with `constraints`) -> leaf (with `leaf` options). */
function constrained(constraints: RawExtension, leaf: CertOptions = {}) {
  const root = createRootCa({ key: rootKey });
  const intermediate = createIntermediateCa(root, { key: intKey, extraExtensions: [constraints] });
  return {
    anchors: [root],
    intermediates: [intermediate],
    leaf: createLeaf(intermediate, { key: leafKey, ...leaf }),
  };
}

function reason(constraints: RawExtension, leaf: CertOptions = {}): string {
  return verdict(constrained(constraints, leaf)).reason;
}

const sans = (...names: Buffer[]): CertOptions => ({ extraExtensions: [ext.san(names)] });

function peer(c: { anchors: TestCert[]; intermediates: TestCert[]; leaf: TestCert }): boolean {
  return opensslVerify(c).ok;
}

describe('DNS names', () => {
  const permit = ext.nameConstraints({ permitted: [gn.dns('ecu.example')] });

  it('the name itself and names below it pass; siblings, suffix look-alikes and parents fail (openssl agrees)', () => {
    for (const name of ['ecu.example', 'gw.ecu.example', 'A.B.ECU.EXAMPLE']) {
      expect(reason(permit, sans(gn.dns(name)))).toBe('ok');
    }
    for (const name of ['evilecu.example', 'ecu.example.evil', 'example', 'other.example']) {
      expect(reason(permit, sans(gn.dns(name)))).toBe('name-constraints');
    }
    expect(peer(constrained(permit, sans(gn.dns('gw.ecu.example'))))).toBe(true);
    expect(peer(constrained(permit, sans(gn.dns('evilecu.example'))))).toBe(false);
  });

  it('every name of the certificate must pass, not just one of them', () => {
    expect(reason(permit, sans(gn.dns('gw.ecu.example'), gn.dns('attacker.test')))).toBe('name-constraints');
  });

  it('an excluded subtree wins over a permitted one', () => {
    const nc = ext.nameConstraints({ permitted: [gn.dns('example')], excluded: [gn.dns('lab.example')] });
    expect(reason(nc, sans(gn.dns('prod.example')))).toBe('ok');
    expect(reason(nc, sans(gn.dns('x.lab.example')))).toBe('name-constraints');
  });

  it('a wildcard SAN must lie wholly in a permitted subtree and must not overlap an excluded one', () => {
    expect(reason(permit, sans(gn.dns('*.ecu.example')))).toBe('ok');
    expect(
      reason(ext.nameConstraints({ permitted: [gn.dns('gw.ecu.example')] }), sans(gn.dns('*.ecu.example'))),
    ).toBe('name-constraints');
    expect(
      reason(ext.nameConstraints({ excluded: [gn.dns('admin.ecu.example')] }), sans(gn.dns('*.ecu.example'))),
    ).toBe('name-constraints');
  });

  it('a constraint on another form leaves DNS names alone', () => {
    expect(
      reason(ext.nameConstraints({ permitted: [gn.ip(10, 0, 0, 0, 255, 0, 0, 0)] }), sans(gn.dns('x.test'))),
    ).toBe('ok');
  });
});

describe('IP addresses', () => {
  const v4 = ext.nameConstraints({ permitted: [gn.ip(192, 0, 2, 0, 255, 255, 255, 0)] });

  it('IPv4 inside the permitted range passes, outside fails (openssl agrees)', () => {
    expect(reason(v4, sans(gn.ip(192, 0, 2, 77)))).toBe('ok');
    expect(reason(v4, sans(gn.ip(192, 0, 3, 1)))).toBe('name-constraints');
    expect(peer(constrained(v4, sans(gn.ip(192, 0, 3, 1))))).toBe(false);
  });

  it('an IPv6 address is not inside an IPv4-only permitted set; an excluded IPv6 prefix excludes', () => {
    const v6 = [0x20, 0x01, 0x0d, 0xb8, ...Array(12).fill(0)];
    expect(reason(v4, sans(gn.ip(...v6)))).toBe('name-constraints');
    const mask = [...Array(8).fill(0xff), ...Array(8).fill(0)];
    const excluded = ext.nameConstraints({ excluded: [gn.ip(...v6, ...mask)] });
    expect(reason(excluded, sans(gn.ip(0x20, 0x01, 0x0d, 0xb8, ...Array(11).fill(0), 1)))).toBe(
      'name-constraints',
    );
    expect(reason(excluded, sans(gn.ip(0x20, 0x01, 0x0d, 0xb9, ...Array(12).fill(0))))).toBe('ok');
  });
});

describe('email addresses', () => {
  it('a mailbox, a host and a domain constraint each match what RFC 5280 says, case-insensitively in the host', () => {
    const mailbox = ext.nameConstraints({ permitted: [gn.email('ops@supplier.example')] });
    expect(reason(mailbox, sans(gn.email('ops@SUPPLIER.example')))).toBe('ok');
    expect(reason(mailbox, sans(gn.email('Ops@supplier.example')))).toBe('name-constraints');
    const host = ext.nameConstraints({ permitted: [gn.email('supplier.example')] });
    expect(reason(host, sans(gn.email('anyone@supplier.example')))).toBe('ok');
    expect(reason(host, sans(gn.email('anyone@sub.supplier.example')))).toBe('name-constraints');
    const domain = ext.nameConstraints({ permitted: [gn.email('.supplier.example')] });
    expect(reason(domain, sans(gn.email('anyone@sub.supplier.example')))).toBe('ok');
    expect(reason(domain, sans(gn.email('anyone@supplier.example')))).toBe('name-constraints');
  });

  it('an emailAddress in the subject is held to rfc822Name constraints too (legacy placement)', () => {
    const nc = ext.nameConstraints({ excluded: [gn.email('attacker.example')] });
    const subjectDer = rawName([EMAIL, 'x@attacker.example', true], [CN, 'ECU-1']);
    expect(reason(nc, { subjectDer })).toBe('name-constraints');
    expect(reason(nc, { subjectDer: rawName([EMAIL, 'x@supplier.example', true], [CN, 'ECU-1']) })).toBe(
      'ok',
    );
  });
});

describe('URIs', () => {
  it('host and domain forms apply to the URI host; a URI without a host under a URI constraint fails', () => {
    const host = ext.nameConstraints({ permitted: [gn.uri('ecu.example')] });
    expect(reason(host, sans(gn.uri('https://ecu.example/id/1')))).toBe('ok');
    expect(reason(host, sans(gn.uri('https://user@evil.example:443/ecu.example')))).toBe('name-constraints');
    const domain = ext.nameConstraints({ permitted: [gn.uri('.ecu.example')] });
    expect(reason(domain, sans(gn.uri('https://a.ecu.example/')))).toBe('ok');
    expect(reason(domain, sans(gn.uri('https://ecu.example/')))).toBe('name-constraints');
    expect(reason(host, sans(gn.uri('urn:cv:vin:X:ecu:1')))).toBe('name-constraints');
  });
});

describe('directory names', () => {
  const supplierA = rawName([O, 'Supplier A']);

  it('the subject must lie under a permitted DN and outside an excluded one (openssl agrees)', () => {
    const nc = ext.nameConstraints({ permitted: [gn.dn(supplierA)] });
    expect(reason(nc, { subjectDer: rawName([O, 'Supplier A'], [CN, 'ECU-1']) })).toBe('ok');
    expect(reason(nc, { subjectDer: rawName([O, 'Supplier B'], [CN, 'ECU-1']) })).toBe('name-constraints');
    expect(peer(constrained(nc, { subjectDer: rawName([O, 'Supplier B'], [CN, 'ECU-1']) }))).toBe(false);
  });

  it('an excluded DN cannot be dodged by case, spacing or another string type', () => {
    const nc = ext.nameConstraints({ excluded: [gn.dn(supplierA)] });
    expect(reason(nc, { subjectDer: rawName([O, ' SUPPLIER   a ', true], [CN, 'ECU-1']) })).toBe(
      'name-constraints',
    );
  });

  it('a directoryName in subjectAltName is checked as well as the subject', () => {
    const nc = ext.nameConstraints({ permitted: [gn.dn(supplierA)] });
    const ok = { subjectDer: rawName([O, 'Supplier A'], [CN, 'ECU-1']) };
    expect(reason(nc, { ...ok, ...sans(gn.dn(rawName([O, 'Supplier A'], [CN, 'alias']))) })).toBe('ok');
    expect(reason(nc, { ...ok, ...sans(gn.dn(rawName([O, 'Supplier C']))) })).toBe('name-constraints');
  });
});

describe('forms we do not process, placement, malformed constraints, work bound', () => {
  it('a constrained form we do not process refuses a certificate that carries it, and only then', () => {
    const nc = ext.nameConstraints({ excluded: [gn.registeredId()] });
    expect(reason(nc, sans(gn.registeredId()))).toBe('name-constraints');
    expect(reason(ext.nameConstraints({ excluded: [gn.otherName()] }), sans(gn.otherName()))).toBe(
      'name-constraints',
    );
    expect(reason(nc, sans(gn.dns('gw.test')))).toBe('ok');
  });

  it("the anchor's constraints bind the whole path; a self-issued intermediate is exempt, a leaf never", () => {
    const nc = ext.nameConstraints({ permitted: [gn.dns('ecu.example')] });
    const root = createRootCa({ key: rootKey, extraExtensions: [nc] });
    const intermediate = createIntermediateCa(root, { key: intKey, ...sans(gn.dns('ca.other.test')) });
    const leaf = createLeaf(intermediate, { key: leafKey, ...sans(gn.dns('gw.ecu.example')) });
    expect(verdict({ anchors: [root], intermediates: [intermediate], leaf })).toMatchObject({
      reason: 'name-constraints',
      depth: 1,
    });
    // The same CA re-keyed (self-issued: same subject as its issuer) is not checked; its leaf is.
    const rekeyed = createIntermediateCa(root, {
      key: intKey,
      subject: { CN: 'Test Root CA', O: 'cv-security tests' },
      ...sans(gn.dns('ca.other.test')),
    });
    const goodLeaf = createLeaf(rekeyed, { key: leafKey, ...sans(gn.dns('gw.ecu.example')) });
    const badLeaf = createLeaf(rekeyed, { key: leafKey, ...sans(gn.dns('gw.other.test')) });
    expect(verdict({ anchors: [root], intermediates: [rekeyed], leaf: goodLeaf })).toEqual({ reason: 'ok' });
    expect(verdict({ anchors: [root], intermediates: [rekeyed], leaf: badLeaf })).toMatchObject({
      reason: 'name-constraints',
      depth: 0,
    });
  });

  it('nameConstraints in an end-entity certificate -> name-constraints; non-critical in a CA -> extension-criticality', () => {
    const nc = ext.nameConstraints({ permitted: [gn.dns('ecu.example')] });
    const root = createRootCa({ key: rootKey });
    const leaf = createLeaf(root, { key: leafKey, extraExtensions: [nc] });
    expect(verdict({ anchors: [root], leaf })).toMatchObject({ reason: 'name-constraints', depth: 0 });
    const nonCritical = ext.nameConstraints({ permitted: [gn.dns('ecu.example')] }, false);
    expect(verdict(constrained(nonCritical, sans(gn.dns('gw.ecu.example'))))).toMatchObject({
      reason: 'extension-criticality',
      depth: 1,
    });
  });

  it('malformed constraints refuse the chain whatever the leaf carries', () => {
    const malformed: RawExtension[] = [
      { oid: '2.5.29.30', critical: true, value: der.seq() },
      { oid: '2.5.29.30', critical: true, value: der.seq(Buffer.from([0xa0, 0x00])) },
      ext.nameConstraints({ permitted: [gn.dns('*.ecu.example')] }),
      ext.nameConstraints({ permitted: [gn.dns('.ecu.example')] }),
      ext.nameConstraints({ permitted: [gn.ip(192, 0, 2, 0)] }),
      ext.nameConstraints({ permitted: [gn.ip(192, 0, 2, 0, 255, 0, 255, 0)] }),
      ext.nameConstraints({ permitted: [gn.email('a@b@ecu.example')] }),
      ext.nameConstraints({ permitted: [gn.dns('ecu.example')], extra: [Buffer.from([0x80, 0x01, 0x01])] }),
      ext.nameConstraints({ permitted: [gn.dns('ecu.example')], extra: [Buffer.from([0x81, 0x01, 0x02])] }),
    ];
    for (const nc of malformed) expect(reason(nc, sans(gn.dns('gw.ecu.example')))).toBe('name-constraints');
  });

  it('too many names against too many constraints is refused (bounded work), realistic sizes pass', () => {
    const subtrees = Array.from({ length: 300 }, (_, i) => gn.dns(`s${i}.example`));
    const names = Array.from({ length: 300 }, (_, i) => gn.dns(`h.s${i}.example`));
    expect(reason(ext.nameConstraints({ permitted: subtrees }), sans(...names))).toBe('name-constraints');
    expect(
      reason(ext.nameConstraints({ permitted: subtrees.slice(0, 50) }), sans(...names.slice(0, 50))),
    ).toBe('ok');
  });
});

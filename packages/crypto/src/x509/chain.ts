/** @internal RFC 5280 path building and validation. */
import type { KeyObject } from 'node:crypto';
import { type InternalCertificate, internal } from './certificate.js';
import { ChainValidationError } from './errors.js';
import { OIDS } from './oids.js';
import { verifySigned } from './signature.js';
import type {
  Certificate,
  ChainFailureReason,
  ChainValidationOptions,
  KeyUsageFlag,
  ValidatedChain,
} from './types.js';

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
]);

/** Upper bound on signature checks per validation (path building over hostile input). */
const MAX_SIGNATURE_CHECKS = 32;

interface Build {
  checks: number;
  worst: { reason: ChainFailureReason; depth: number; cert: Certificate } | undefined;
  /** Runs the RFC 5280 rules on a complete, signature-checked path; returns the failure, if any. */
  check: (
    path: readonly InternalCertificate[],
    anchor: InternalCertificate,
  ) => ChainValidationError | undefined;
  /** The first complete path's failure: reported when no path passes. */
  pathError: ChainValidationError | undefined;
}

const RANK: Partial<Record<ChainFailureReason, number>> = {
  untrusted: 0,
  'chain-too-long': 1,
  'unsupported-algorithm': 2,
  'bad-signature': 3,
};

function note(state: Build, reason: ChainFailureReason, depth: number, cert: Certificate): void {
  const current = state.worst;
  if (current === undefined || (RANK[reason] ?? 0) > (RANK[current.reason] ?? 0)) {
    state.worst = { reason, depth, cert };
  }
}

function keyOf(cert: InternalCertificate): KeyObject | undefined {
  try {
    return cert.publicKey;
  } catch {
    return undefined;
  }
}

/** Does `issuer` sign `child`? Records why not. */
function signs(
  state: Build,
  issuer: InternalCertificate,
  child: InternalCertificate,
  depth: number,
): boolean {
  if (state.checks >= MAX_SIGNATURE_CHECKS) {
    note(state, 'chain-too-long', depth, child);
    return false;
  }
  state.checks++;
  if (!child.algorithmsMatch) {
    note(state, 'bad-signature', depth, child);
    return false;
  }
  const key = keyOf(issuer);
  if (key === undefined) {
    note(state, 'bad-signature', depth, child);
    return false;
  }
  const outcome = verifySigned(child.signatureAlgorithm, child.tbs, child.signature, key);
  if (outcome === 'ok') return true;
  note(state, outcome === 'unsupported' ? 'unsupported-algorithm' : 'bad-signature', depth, child);
  return false;
}

function akiMismatch(child: InternalCertificate, issuer: InternalCertificate): boolean {
  return (
    child.authorityKeyId !== undefined &&
    issuer.subjectKeyId !== undefined &&
    !child.authorityKeyId.equals(issuer.subjectKeyId)
  );
}

function build(
  state: Build,
  path: InternalCertificate[],
  pool: readonly InternalCertificate[],
  trust: ChainValidationOptions['trust'],
  maxPathLength: number,
): { path: InternalCertificate[]; anchor: InternalCertificate } | undefined {
  const current = path[path.length - 1] as InternalCertificate;
  const depth = path.length - 1;
  const anchors = trust.bySubject(current.issuerDer).map(internal);
  // Anchors are matched by key: the name only selects candidates, the anchor's key must verify.
  for (const anchor of [...anchors].sort(
    (a, b) => Number(akiMismatch(current, a)) - Number(akiMismatch(current, b)),
  )) {
    if (path.length + 1 > maxPathLength) {
      note(state, 'chain-too-long', depth, current);
      return undefined;
    }
    if (signs(state, anchor, current, depth)) {
      // A path that breaks a rule is remembered and the search goes on (e.g. an expired
      // intermediate next to its renewed twin).
      const error = state.check(path, anchor);
      if (error === undefined) return { path, anchor };
      state.pathError ??= error;
    }
  }
  const candidates = pool
    .filter((c) => c.subjectDer.equals(current.issuerDer) && !path.some((p) => p.der.equals(c.der)))
    .sort((a, b) => Number(akiMismatch(current, a)) - Number(akiMismatch(current, b)));
  if (anchors.length === 0 && candidates.length === 0) note(state, 'untrusted', depth, current);
  for (const candidate of candidates) {
    if (path.length + 2 > maxPathLength) {
      note(state, 'chain-too-long', depth, current);
      return undefined;
    }
    if (!signs(state, candidate, current, depth)) continue;
    const found = build(state, [...path, candidate], pool, trust, maxPathLength);
    if (found !== undefined) return found;
  }
  if (state.worst === undefined) note(state, 'untrusted', depth, current);
  return undefined;
}

function fail(reason: ChainFailureReason, message: string, depth: number, cert: Certificate): never {
  throw new ChainValidationError(reason, message, { depth, subject: cert.subject });
}

function checkPath(
  path: readonly InternalCertificate[],
  anchor: InternalCertificate,
  rules: {
    now: number;
    skewMs: number;
    leafKeyUsage: readonly KeyUsageFlag[];
    leafExtKeyUsage: string | undefined;
  },
): void {
  const { now, skewMs } = rules;
  const leaf = path[0] as InternalCertificate;
  const all: InternalCertificate[] = [...path, anchor];

  // Per certificate: validity (with skew) and unknown critical extensions. Anchor included.
  all.forEach((cert, depth) => {
    if (now + skewMs < cert.notBefore.getTime()) {
      fail('not-yet-valid', `certificate not valid before ${cert.notBefore.toISOString()}`, depth, cert);
    }
    if (now - skewMs > cert.notAfter.getTime()) {
      fail('expired', `certificate expired at ${cert.notAfter.toISOString()}`, depth, cert);
    }
    const unknown = cert.extensions.find((e) => e.critical && !UNDERSTOOD.has(e.oid));
    if (unknown !== undefined) {
      fail('unknown-critical-extension', `unknown critical extension ${unknown.oid}`, depth, cert);
    }
  });

  // Issuers: CA, keyCertSign, path length.
  for (let depth = 1; depth < all.length; depth++) {
    const cert = all[depth] as InternalCertificate;
    const isAnchor = depth === all.length - 1;
    if (cert.basicConstraints?.ca !== true)
      fail('not-ca', 'issuer is not a CA (basicConstraints)', depth, cert);
    if (cert.keyUsage === undefined ? !isAnchor : !cert.keyUsage.has('keyCertSign')) {
      fail('key-usage', 'issuer lacks keyUsage keyCertSign', depth, cert);
    }
    const pathLen = cert.basicConstraints.pathLen;
    if (pathLen !== undefined) {
      // Intermediate CAs below this one, not counting the leaf or self-issued certificates.
      let below = 0;
      for (let j = 1; j < depth; j++) if (!(all[j] as InternalCertificate).selfIssued) below++;
      if (below > pathLen) {
        fail('path-length', `pathLenConstraint ${pathLen} exceeded (${below} CA below)`, depth, cert);
      }
    }
  }

  // Leaf: not a CA, required keyUsage bits, optional EKU.
  if (leaf.basicConstraints?.ca === true) fail('leaf-is-ca', 'the end-entity certificate is a CA', 0, leaf);
  if (rules.leafKeyUsage.length > 0) {
    const ku = leaf.keyUsage;
    const missing = rules.leafKeyUsage.filter((flag) => ku === undefined || !ku.has(flag));
    if (missing.length > 0) fail('key-usage', `leaf keyUsage lacks ${missing.join(', ')}`, 0, leaf);
  }
  const eku = rules.leafExtKeyUsage;
  if (eku !== undefined && leaf.extKeyUsage !== undefined) {
    if (!leaf.extKeyUsage.includes(eku) && !leaf.extKeyUsage.includes(OIDS.ekuAny)) {
      fail('ext-key-usage', `leaf extKeyUsage lacks ${eku}`, 0, leaf);
    }
  }
}

export function validateChainImpl(options: ChainValidationOptions): ValidatedChain {
  const rules = {
    now: (options.now ?? new Date()).getTime(),
    skewMs: (options.clockSkewSeconds ?? 300) * 1000,
    leafKeyUsage: options.leafKeyUsage ?? (['digitalSignature'] as const),
    leafExtKeyUsage: options.leafExtKeyUsage,
  };
  const maxPathLength = options.maxPathLength ?? 8;
  const leaf = internal(options.leaf);
  const pool = (options.intermediates ?? []).slice(0, 16).map(internal);

  // Path building: name chaining, each link's signature, an anchor matched by key; then the rules.
  const state: Build = {
    checks: 0,
    worst: undefined,
    pathError: undefined,
    check: (path, anchor) => {
      try {
        checkPath(path, anchor, rules);
        return undefined;
      } catch (error) {
        if (error instanceof ChainValidationError) return error;
        throw error;
      }
    },
  };
  const built = build(state, [leaf], pool, options.trust, maxPathLength);
  if (built !== undefined) return { path: built.path, anchor: built.anchor };
  if (state.pathError !== undefined) throw state.pathError;
  const worst = state.worst ?? { reason: 'untrusted' as const, depth: 0, cert: leaf };
  const messages: Record<string, string> = {
    untrusted: 'no path to a trusted anchor',
    'bad-signature': 'a certificate signature does not verify',
    'unsupported-algorithm': 'a certificate uses an unsupported signature algorithm',
    'chain-too-long': 'the chain is too long',
  };
  fail(worst.reason, messages[worst.reason] ?? 'chain rejected', worst.depth, worst.cert);
}

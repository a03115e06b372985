/** @internal RFC 5280 path building and validation. */
import type { KeyObject } from 'node:crypto';
import { type InternalCertificate, internal } from './certificate.js';
import { ChainValidationError } from './errors.js';
import { keyPolicyViolation } from './keys.js';
import { MAX_NAME_CHECKS } from './name-constraints.js';
import { OIDS } from './oids.js';
import { linkViolation, nameConstraintViolation, profileViolation } from './profile.js';
import { verifySigned } from './signature.js';
import type {
  Certificate,
  ChainFailureReason,
  ChainValidationOptions,
  KeyPolicy,
  KeyUsageFlag,
  ValidatedChain,
} from './types.js';

/** Most untrusted intermediates a caller may present (more is refused, not truncated). */
const MAX_INTERMEDIATES = 16;

/** Upper bound on signature checks per validation (path building over hostile input). */
const MAX_SIGNATURE_CHECKS = 32;

interface Build {
  checks: number;
  keyPolicy: KeyPolicy | undefined;
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
  'key-policy': 3,
  'signature-algorithm-mismatch': 4,
  'bad-signature': 5,
};

/**
 * Remembers why a link failed. The failure reported is the one furthest from the leaf (the search
 * got that far), then the most specific: a path that was cut by the depth limit after a good link
 * reports the limit, not a sibling candidate's bad signature.
 */
function note(state: Build, reason: ChainFailureReason, depth: number, cert: Certificate): void {
  const current = state.worst;
  if (
    current === undefined ||
    depth > current.depth ||
    (depth === current.depth && (RANK[reason] ?? 0) > (RANK[current.reason] ?? 0))
  ) {
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
  // A key outside the policy is never used to verify anything (nor a huge RSA modulus, say).
  if (keyPolicyViolation(issuer.keyInfo, state.keyPolicy) !== undefined) {
    note(state, 'key-policy', depth + 1, issuer);
    return false;
  }
  state.checks++;
  if (!child.algorithmsMatch) {
    note(state, 'signature-algorithm-mismatch', depth, child);
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

/** Issuer at `depth`: a CA with keyCertSign, within its pathLenConstraint. */
function issuerRules(all: readonly InternalCertificate[], depth: number): void {
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

interface Rules {
  readonly now: number;
  readonly skewMs: number;
  readonly leafKeyUsage: readonly KeyUsageFlag[];
  readonly leafExtKeyUsage: string | undefined;
  readonly keyPolicy: KeyPolicy | undefined;
  /** Name-constraint comparisons left for this validation, over every path tried. */
  readonly nameChecks: { left: number };
}

function checkPath(path: readonly InternalCertificate[], anchor: InternalCertificate, rules: Rules): void {
  const { now, skewMs } = rules;
  const leaf = path[0] as InternalCertificate;
  const all: InternalCertificate[] = [...path, anchor];

  // Per certificate, anchor included: validity (with skew; certificate times have whole seconds, so
  // the validation time is too), then the RFC 5280 profile and the key policy.
  all.forEach((cert, depth) => {
    if (now + skewMs < cert.notBefore.getTime()) {
      fail('not-yet-valid', `certificate not valid before ${cert.notBefore.toISOString()}`, depth, cert);
    }
    if (now - skewMs > cert.notAfter.getTime()) {
      fail('expired', `certificate expired at ${cert.notAfter.toISOString()}`, depth, cert);
    }
    if (depth === 0) return; // the leaf's profile was checked before path building
    issuerRules(all, depth);
    const violation = profileViolation(cert, depth === all.length - 1, rules.keyPolicy);
    if (violation !== undefined) fail(violation.reason, violation.message, depth, cert);
  });
  for (let depth = 0; depth < all.length - 1; depth++) {
    const cert = all[depth] as InternalCertificate;
    const link = linkViolation(cert, all[depth + 1] as InternalCertificate);
    if (link !== undefined) fail(link.reason, link.message, depth, cert);
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

  // Name constraints last: the costliest rule, and only once everything else holds.
  const nc = nameConstraintViolation(all, rules.nameChecks);
  if (nc !== undefined) fail(nc.reason, nc.message, nc.depth, all[nc.depth] as InternalCertificate);
}

export function validateChainImpl(options: ChainValidationOptions): ValidatedChain {
  const rules: Rules = {
    now: Math.floor((options.now ?? new Date()).getTime() / 1000) * 1000,
    skewMs: (options.clockSkewSeconds ?? 300) * 1000,
    leafKeyUsage: options.leafKeyUsage ?? (['digitalSignature'] as const),
    leafExtKeyUsage: options.leafExtKeyUsage,
    keyPolicy: options.keyPolicy,
    nameChecks: { left: MAX_NAME_CHECKS },
  };
  const maxPathLength = options.maxPathLength ?? 8;
  const leaf = internal(options.leaf);
  const presented = options.intermediates ?? [];
  if (presented.length > MAX_INTERMEDIATES) {
    fail('chain-too-long', `more than ${MAX_INTERMEDIATES} intermediates presented`, 0, leaf);
  }
  const pool = presented.map(internal);
  // The leaf's own rules first (its key policy, serial, extensions): they hold whatever its path.
  const leafRules = profileViolation(leaf, false, rules.keyPolicy);
  if (leafRules !== undefined) fail(leafRules.reason, leafRules.message, 0, leaf);

  // Path building: name chaining, each link's signature, an anchor matched by key; then the rules.
  const state: Build = {
    checks: 0,
    keyPolicy: rules.keyPolicy,
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
    'key-policy': "an issuer's key is outside the key policy",
    'signature-algorithm-mismatch': 'signatureAlgorithm differs from tbsCertificate.signature',
  };
  fail(worst.reason, messages[worst.reason] ?? 'chain rejected', worst.depth, worst.cert);
}

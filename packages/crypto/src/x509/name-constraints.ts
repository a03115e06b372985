/**
 * @internal nameConstraints (RFC 5280 4.2.1.10, 6.1.3 (b)(c), 6.1.4 (g)) for directory names, DNS
 * names, IP addresses, email addresses and URIs. A name form we cannot process (otherName,
 * x400Address, ediPartyName, registeredID) that is constrained and appears in a certificate below
 * refuses the chain, as RFC 5280 requires of a validator that does not process it.
 */
import { DerError, type DerNode, readRoot, readSmallInt, seq } from './der.js';
import {
  type GeneralName,
  isHostName,
  isMailbox,
  type Rdn,
  readGeneralName,
  uriHost,
} from './general-names.js';

export interface NameConstraints {
  readonly permitted: readonly GeneralName[];
  readonly excluded: readonly GeneralName[];
}

/** Upper bound on name-against-subtree comparisons per validation (hostile constraint lists). */
export const MAX_NAME_CHECKS = 1 << 16;

/** Thrown for a malformed constraint or a name that breaks one; the message names the rule. */
export class NameConstraintViolation extends Error {}

function validIpConstraint(bytes: Buffer): boolean {
  if (bytes.length !== 8 && bytes.length !== 32) return false;
  const mask = bytes.subarray(bytes.length / 2);
  // The mask is a run of ones then zeros (CIDR form).
  let zero = false;
  for (const byte of mask) {
    for (let bit = 7; bit >= 0; bit--) {
      const one = ((byte >> bit) & 1) === 1;
      if (one && zero) return false;
      if (!one) zero = true;
    }
  }
  return true;
}

function checkBase(base: GeneralName): void {
  switch (base.kind) {
    case 'dns':
      // RFC 5280: "host.example.com"; no wildcard, no leading period. Empty means every name.
      if (base.value !== '' && !isHostName(base.value)) throw new DerError('malformed dNSName constraint');
      return;
    case 'email': {
      const v = base.value;
      const ok = v.includes('@') ? isMailbox(v) : isHostName(v.startsWith('.') ? v.slice(1) : v);
      if (!ok) throw new DerError('malformed rfc822Name constraint');
      return;
    }
    case 'uri': {
      const v = base.value;
      if (!isHostName(v.startsWith('.') ? v.slice(1) : v)) throw new DerError('malformed URI constraint');
      return;
    }
    case 'ip':
      if (!validIpConstraint(base.bytes)) throw new DerError('malformed iPAddress constraint');
      return;
    default:
      return;
  }
}

function readSubtrees(node: DerNode, what: string): GeneralName[] {
  const subtrees = seq(node, what, node.tag);
  if (subtrees.length === 0) throw new DerError(`empty ${what}`);
  return subtrees.map((subtree) => {
    const [baseNode, ...rest] = seq(subtree, 'GeneralSubtree');
    if (baseNode === undefined) throw new DerError('empty GeneralSubtree');
    // minimum MUST be zero (absent), maximum MUST be absent (RFC 5280 4.2.1.10).
    for (const field of rest) {
      if (field.tag !== 0x80 || readSmallInt(field, 'minimum', 0x80) !== 0 || rest.length > 1) {
        throw new DerError('GeneralSubtree minimum/maximum are not allowed');
      }
    }
    const base = readGeneralName(baseNode);
    checkBase(base);
    return base;
  });
}

/** Parses the extension value; throws DerError for anything malformed or empty. */
export function decodeNameConstraints(value: Buffer): NameConstraints {
  let permitted: GeneralName[] = [];
  let excluded: GeneralName[] = [];
  const fields = seq(readRoot(value), 'NameConstraints');
  if (fields.length === 0) throw new DerError('empty NameConstraints');
  for (const [i, field] of fields.entries()) {
    if (field.tag === 0xa0 && i === 0) permitted = readSubtrees(field, 'permittedSubtrees');
    else if (field.tag === 0xa1 && i === fields.length - 1)
      excluded = readSubtrees(field, 'excludedSubtrees');
    else throw new DerError('bad NameConstraints');
  }
  return { permitted, excluded };
}

// ---------------------------------------------------------------- matching

/** Is DNS name `name` (lowercase) equal to `base` or below it? */
function dnsWithin(name: string, base: string): boolean {
  return base === '' || name === base || name.endsWith(`.${base}`);
}

/** A `*.x` SAN stands for every child of `x`: within a subtree only if `x` is; touching it if either contains the other. */
function dnsMatches(san: string, base: string, mode: 'permit' | 'exclude'): boolean {
  const name = san.toLowerCase();
  const b = base.toLowerCase();
  if (!name.startsWith('*.')) return dnsWithin(name, b);
  const parent = name.slice(2);
  return mode === 'permit' ? dnsWithin(parent, b) : dnsWithin(parent, b) || b.endsWith(`.${parent}`);
}

function hostMatches(host: string, base: string): boolean {
  const b = base.toLowerCase();
  return b.startsWith('.') ? host.endsWith(b) : host === b;
}

function emailMatches(mailbox: string, base: string): boolean {
  const at = mailbox.indexOf('@');
  const host = mailbox.slice(at + 1).toLowerCase();
  if (base.includes('@')) {
    const bAt = base.indexOf('@');
    return mailbox.slice(0, at) === base.slice(0, bAt) && host === base.slice(bAt + 1).toLowerCase();
  }
  return hostMatches(host, base);
}

function ipMatches(address: Buffer, base: Buffer): boolean {
  if (address.length * 2 !== base.length) return false;
  for (let i = 0; i < address.length; i++) {
    const mask = base[address.length + i] as number;
    if (((address[i] as number) & mask) !== ((base[i] as number) & mask)) return false;
  }
  return true;
}

function dnWithin(name: readonly Rdn[], base: readonly Rdn[]): boolean {
  if (base.length > name.length) return false;
  return base.every((rdn, i) => {
    const other = name[i] as Rdn;
    return rdn.length === other.length && rdn.every((attr, j) => attr === other[j]);
  });
}

/** Whether `name` falls in subtree `base`; undefined when the forms differ. */
function matches(name: GeneralName, base: GeneralName, mode: 'permit' | 'exclude'): boolean | undefined {
  if (name.kind !== base.kind) return undefined;
  switch (name.kind) {
    case 'dns':
      return dnsMatches(name.value, (base as { value: string }).value, mode);
    case 'email':
      return emailMatches(name.value, (base as { value: string }).value);
    case 'uri': {
      const host = uriHost(name.value);
      if (host === undefined) throw new NameConstraintViolation('a constrained URI has no host name');
      return hostMatches(host, (base as { value: string }).value);
    }
    case 'ip':
      return ipMatches(name.bytes, (base as { bytes: Buffer }).bytes);
    case 'dn':
      return dnWithin(name.rdns, (base as { rdns: readonly Rdn[] }).rdns);
    default:
      throw new NameConstraintViolation('a constrained name form that is not processed appears below');
  }
}

const describe = (name: GeneralName): string => (name.kind === 'other' ? 'other' : name.kind);

/**
 * Checks each of a certificate's names against one CA's constraints. `budget.left` counts
 * comparisons down; exhausted, the chain is refused (quadratic blow-up by design of the input).
 */
export function checkNames(
  names: readonly GeneralName[],
  constraints: NameConstraints,
  budget: { left: number },
): void {
  budget.left -= names.length * (constraints.permitted.length + constraints.excluded.length);
  if (budget.left < 0) throw new NameConstraintViolation('too many names against too many constraints');
  for (const name of names) {
    for (const base of constraints.excluded) {
      if (matches(name, base, 'exclude') === true) {
        throw new NameConstraintViolation(`${describe(name)} name is in an excluded subtree`);
      }
    }
    const sameForm = constraints.permitted.filter((base) => base.kind === name.kind);
    if (sameForm.length > 0 && !sameForm.some((base) => matches(name, base, 'permit') === true)) {
      throw new NameConstraintViolation(`${describe(name)} name is outside the permitted subtrees`);
    }
  }
}

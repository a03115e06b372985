/**
 * Issue 12 item 5: the key policy (EC P-256/P-384 on a named curve, RSA 2048 to 4096) covers the
 * attestation certificate and every certificate of its chain, trust anchors included, not only the
 * CSR. The manufacturer PKI here is made by the openssl CLI with this file's own keys: a weak key
 * anywhere in the chain -> 403, nothing issued, registry untouched.
 */
import { execFileSync } from 'node:child_process';
import { createHash, createPrivateKey, randomBytes, sign } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { CA_ARN, fakePca, fakeRegistry, LEDGER_TABLE, REGISTRY_TABLE, TEMPLATE_ARN } from './helpers/aws.js';
import { pemToDer } from './helpers/pki.js';
import {
  buildWorld,
  ECU_ID,
  ecuBoundTo,
  freshCsr,
  httpEvent,
  lambdaContext,
  type Response,
  toResponse,
  type World,
} from './helpers/world.js';

type Spec = 'P-256' | 'P-384' | 'P-192' | 'RSA-1024' | 'RSA-2048';

interface OsslCert {
  readonly pem: string;
  readonly certPath: string;
  readonly keyPath: string;
}

const dir = mkdtempSync(join(tmpdir(), 'cv-keypolicy-'));
let serial = 0;

function openssl(args: readonly string[]): void {
  execFileSync('openssl', args, { stdio: 'pipe' });
}

function genKey(name: string, spec: Spec): string {
  const path = join(dir, `${name}.key`);
  const opts = spec.startsWith('RSA')
    ? ['-algorithm', 'RSA', '-pkeyopt', `rsa_keygen_bits:${spec.slice(4)}`]
    : [
        '-algorithm',
        'EC',
        '-pkeyopt',
        `ec_paramgen_curve:${spec === 'P-192' ? 'prime192v1' : spec}`,
        '-pkeyopt',
        'ec_param_enc:named_curve',
      ];
  openssl(['genpkey', ...opts, '-out', path]);
  return path;
}

/**
 * A certificate with RFC 5280's CA or end-entity profile, signed by `issuer` (self-signed without).
 * `ext` replaces the extension lines (profile violations).
 */
function issue(
  name: string,
  subject: string,
  spec: Spec,
  issuer?: OsslCert,
  ca = false,
  ext?: readonly string[],
): OsslCert {
  const keyPath = genKey(name, spec);
  const certPath = join(dir, `${name}.pem`);
  const config = join(dir, `${name}.cnf`);
  writeFileSync(
    config,
    [
      '[req]',
      'distinguished_name = dn',
      '[dn]',
      '[ext]',
      ...(ext ?? [
        ca ? 'basicConstraints = critical, CA:TRUE' : 'basicConstraints = critical, CA:FALSE',
        ca ? 'keyUsage = critical, keyCertSign, cRLSign' : 'keyUsage = critical, digitalSignature',
        'subjectKeyIdentifier = hash',
        'authorityKeyIdentifier = keyid:always',
      ]),
      '',
    ].join('\n'),
  );
  serial += 1;
  const serialArg = `0x${randomBytes(12).toString('hex')}${serial.toString(16).padStart(4, '0')}`;
  const common = ['-days', '30', '-sha256', '-set_serial', serialArg];
  if (issuer === undefined) {
    openssl([
      'req',
      '-x509',
      '-new',
      '-key',
      keyPath,
      '-subj',
      subject,
      '-config',
      config,
      '-extensions',
      'ext',
      ...common,
      '-out',
      certPath,
    ]);
  } else {
    const csr = join(dir, `${name}.csr`);
    openssl(['req', '-new', '-key', keyPath, '-subj', subject, '-config', config, '-out', csr]);
    openssl([
      'x509',
      '-req',
      '-in',
      csr,
      '-CA',
      issuer.certPath,
      '-CAkey',
      issuer.keyPath,
      '-extfile',
      config,
      '-extensions',
      'ext',
      ...common,
      '-out',
      certPath,
    ]);
  }
  return { pem: readFileSync(certPath, 'utf8'), certPath, keyPath };
}

/** The attestation proof (docs/architecture.md §4) signed with the leaf's key (ECDSA DER or RSASSA-PSS, SHA-256). */
function proof(csrPem: string, leaf: OsslCert): { signedAt: string; signature: string } {
  const signedAt = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
  const digest = createHash('sha256').update(pemToDer(csrPem)).digest('base64url');
  const message = Buffer.from(`cv-cert-broker/v1\n${signedAt}\n${digest}`, 'utf8');
  const key = createPrivateKey(readFileSync(leaf.keyPath, 'utf8'));
  const signature =
    key.asymmetricKeyType === 'rsa'
      ? sign('sha256', message, { key, padding: 6 /* PSS */, saltLength: 32 })
      : sign('sha256', message, key);
  return { signedAt, signature: signature.toString('base64') };
}

/** A manufacturer chain: root -> intermediate -> attestation leaf of ECU_ID, keys as given. */
function chain(label: string, keys: { root: Spec; intermediate: Spec; leaf: Spec }) {
  const root = issue(`${label}-root`, `/O=Key Policy Supplier/CN=${label} Root`, keys.root, undefined, true);
  const intermediate = issue(
    `${label}-int`,
    `/O=Key Policy Supplier/CN=${label} Intermediate`,
    keys.intermediate,
    root,
    true,
  );
  const leaf = issue(`${label}-leaf`, `/O=Key Policy Supplier/CN=${ECU_ID}`, keys.leaf, intermediate);
  return { root, intermediate, leaf };
}

const good = chain('good', { root: 'P-384', intermediate: 'RSA-2048', leaf: 'P-256' });
const weak = {
  'an RSA-1024 attestation leaf': chain('weakleaf', {
    root: 'P-256',
    intermediate: 'P-256',
    leaf: 'RSA-1024',
  }),
  'an RSA-1024 intermediate': chain('rsaint', { root: 'P-256', intermediate: 'RSA-1024', leaf: 'P-256' }),
  'a P-192 intermediate': chain('p192int', { root: 'P-256', intermediate: 'P-192', leaf: 'P-256' }),
  'an RSA-1024 root (trust anchor)': chain('rsaroot', {
    root: 'RSA-1024',
    intermediate: 'P-256',
    leaf: 'P-256',
  }),
  'a P-192 root (trust anchor)': chain('p192root', { root: 'P-192', intermediate: 'P-256', leaf: 'P-256' }),
} as const;

/** Allowed keys, but a certificate outside RFC 5280's profile (the same 403 path as a weak key). */
const profileRoot = issue('profroot', '/O=Profile Supplier/CN=Profile Root', 'P-256', undefined, true);
const nonConforming = {
  'an intermediate whose basicConstraints is not critical': (() => {
    const intermediate = issue(
      'profint',
      '/O=Profile Supplier/CN=Profile Intermediate',
      'P-256',
      profileRoot,
      true,
      [
        'basicConstraints = CA:TRUE',
        'keyUsage = critical, keyCertSign, cRLSign',
        'subjectKeyIdentifier = hash',
        'authorityKeyIdentifier = keyid:always',
      ],
    );
    return {
      root: profileRoot,
      intermediate,
      leaf: issue('profleaf1', `/O=Profile Supplier/CN=${ECU_ID}`, 'P-256', intermediate),
    };
  })(),
  'an attestation leaf without authorityKeyIdentifier': (() => {
    const intermediate = issue(
      'profint2',
      '/O=Profile Supplier/CN=Profile Intermediate 2',
      'P-256',
      profileRoot,
      true,
    );
    const leaf = issue('profleaf2', `/O=Profile Supplier/CN=${ECU_ID}`, 'P-256', intermediate, false, [
      'basicConstraints = critical, CA:FALSE',
      'keyUsage = critical, digitalSignature',
      'subjectKeyIdentifier = hash',
      'authorityKeyIdentifier = none',
    ]);
    return { root: profileRoot, intermediate, leaf };
  })(),
} as const;

let world: World;
let handler: typeof import('../src/handler.js').handler;
let pca: ReturnType<typeof fakePca>;
let registry: ReturnType<typeof fakeRegistry>;

beforeAll(async () => {
  world = await buildWorld();
  process.env.ECU_REGISTRY_TABLE = REGISTRY_TABLE;
  process.env.REPLAY_LEDGER_TABLE = LEDGER_TABLE;
  process.env.ISSUED_CERTIFICATES_TABLE = 'cv-security-dev-issued-certificates';
  process.env.PCA_CA_ARN = CA_ARN;
  process.env.PCA_TEMPLATE_ARN = TEMPLATE_ARN;
  // The broker trusts every root above: the weak ones too, as a careless supplier onboarding would.
  process.env.ATTESTATION_TRUST_BUNDLE = [
    good,
    ...Object.values(weak),
    nonConforming['an intermediate whose basicConstraints is not critical'],
  ]
    .map((c) => c.root.pem)
    .join('');
  process.env.AWS_REGION = 'eu-west-1';
  ({ handler } = await import('../src/handler.js'));
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

beforeEach(() => {
  pca = fakePca(world.opIssuing, world.opChainPem);
  // Bound to the supplier whose intermediate issued the good chain's leaf.
  registry = fakeRegistry([ecuBoundTo(good.intermediate.pem)]);
});

async function post(body: unknown, clientCertPem?: string): Promise<Response> {
  return toResponse(await handler(httpEvent(JSON.stringify(body), clientCertPem), lambdaContext));
}

describe('the key policy and the RFC 5280 profile cover the whole attestation chain', () => {
  it('control: the same openssl-made PKI with allowed keys (P-384 root, RSA-2048 intermediate, P-256 leaf) enrols', async () => {
    const csr = await freshCsr();

    const viaTls = await post({ csr: csr.pem }, good.leaf.pem + good.intermediate.pem);
    const viaBody = await post({
      csr: csr.pem,
      attestation: { certificate: good.leaf.pem + good.intermediate.pem, ...proof(csr.pem, good.leaf) },
    });

    expect(viaTls.status).toBe(201);
    expect(viaBody.status).toBe(201);
  });

  for (const [name, c] of [...Object.entries(weak), ...Object.entries(nonConforming)]) {
    it(`${name} -> 403 attestation_not_trusted, nothing issued, registry untouched (mutual TLS and signed body)`, async () => {
      // The ECU is bound to this chain's issuing CA, so only the chain's own defect can refuse it.
      registry = fakeRegistry([ecuBoundTo(c.intermediate.pem)]);
      const csr = await freshCsr();
      const before = structuredClone(registry.table.get(ECU_ID));

      const viaTls = await post({ csr: csr.pem }, c.leaf.pem + c.intermediate.pem);
      const viaBody = await post({
        csr: csr.pem,
        attestation: { certificate: c.leaf.pem + c.intermediate.pem, ...proof(csr.pem, c.leaf) },
      });

      for (const res of [viaTls, viaBody]) {
        expect(res.status).toBe(403);
        expect(res.body.error).toBe('attestation_not_trusted');
        expect(JSON.stringify(res.body)).not.toMatch(/key-policy|RSA|P-192|depth|critical|authority/);
      }
      expect(pca.requests).toEqual([]);
      expect(registry.updates).toEqual([]);
      expect(registry.table.get(ECU_ID)).toEqual(before);
    });
  }
});

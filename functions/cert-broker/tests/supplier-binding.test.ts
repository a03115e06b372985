/**
 * Issue 12 item 8: the registry row binds each ECU to the CA allowed to issue its attestation
 * (`attestationIssuerKeySha256`, SHA-256 of that CA's SubjectPublicKeyInfo). Two suppliers are
 * trusted here; an attestation from any issuer other than the bound one is refused with nothing
 * issued and the registry untouched, and a row without a binding fails closed.
 */
import 'reflect-metadata';
import * as x509 from '@peculiar/x509';
import { beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { fakePca, fakeRegistry } from './helpers/aws.js';
import {
  expectNothingIssued,
  type Handler,
  int1Attestation,
  postTo,
  signedBodyFor,
  startBroker,
} from './helpers/broker.js';
import { captureLogs } from './helpers/logs.js';
import { type Issued, issueCert } from './helpers/pki.js';
import {
  buildWorld,
  ECU_ID,
  ecuBoundTo,
  freshCsr,
  issuerKeySha256,
  THING_NAME,
  unboundEcu,
  type World,
} from './helpers/world.js';

let world: World;
/** Supplier B: its own trusted root and issuing CA, and a valid attestation for ECU_ID. */
let supplierB: { root: Issued; issuing: Issued; attestation: Issued };
let handler: Handler;
let pca: ReturnType<typeof fakePca>;
let registry: ReturnType<typeof fakeRegistry>;

beforeAll(async () => {
  world = await buildWorld();
  const root = await issueCert({
    subject: 'O=Supplier B,CN=Supplier B Attestation Root',
    ca: true,
    pathLength: 1,
  });
  const issuing = await issueCert({
    subject: 'O=Supplier B,CN=Supplier B Issuing CA',
    ca: true,
    pathLength: 0,
    issuer: root,
  });
  const attestation = await issueCert({ subject: `O=Supplier B,CN=${ECU_ID}`, issuer: issuing });
  supplierB = { root, issuing, attestation };
  handler = await startBroker(world.trustBundlePem + root.pem);
});

beforeEach(() => {
  pca = fakePca(world.opIssuing, world.opChainPem);
  registry = fakeRegistry([world.activeEcu]);
});

const byB = () => ({
  chainPem: supplierB.attestation.pem + supplierB.issuing.pem,
  key: supplierB.attestation.keys.privateKey,
});

async function refused(body: unknown, reason: string, clientCertPem?: string): Promise<void> {
  const before = structuredClone([...registry.table.entries()]);

  const { result: res, lines } = await captureLogs(() => postTo(handler, body, clientCertPem));

  expect(res.status).toBe(403);
  expect(res.body).toEqual({ error: 'ecu_not_allowed', message: 'This ECU may not obtain a certificate' });
  expectNothingIssued(pca, registry);
  expect([...registry.table.entries()]).toEqual(before);
  expect(lines.filter((l) => l.message === 'certificate request rejected')).toEqual([
    expect.objectContaining({ reason }),
  ]);
}

describe('supplier binding: only the bound attestation issuer may enrol an ECU', () => {
  it('ECU bound to supplier A, valid attestation from trusted supplier B (signed proof) -> 403, nothing issued, registry untouched', async () => {
    await refused(signedBodyFor((await freshCsr()).pem, byB()), 'supplier-mismatch');
  });

  it('the same over mutual TLS (supplier B leaf and its issuing CA as the client chain) -> 403', async () => {
    await refused(
      { csr: (await freshCsr()).pem },
      'supplier-mismatch',
      supplierB.attestation.pem + supplierB.issuing.pem,
    );
  });

  it("supplier B copies A's issuing CA name and subjectKeyIdentifier into its own CA -> 403 (the binding is the key, not a label)", async () => {
    const ski = world.mfrInt1.cert.getExtension(x509.SubjectKeyIdentifierExtension)?.keyId;
    expect(ski).toMatch(/^[0-9a-f]{40}$/);
    const lookalike = await issueCert({
      subject: world.mfrInt1.cert.subject,
      subjectKeyIdHex: ski,
      ca: true,
      pathLength: 0,
      issuer: supplierB.root,
    });
    const leaf = await issueCert({ subject: `O=Example ECU Manufacturer,CN=${ECU_ID}`, issuer: lookalike });

    // Whichever check stops it first (the chain profile, since the look-alike's identifiers no
    // longer match its real issuer's, or the binding), nothing is issued and nothing moves.
    const before = structuredClone([...registry.table.entries()]);
    const res = await postTo(
      handler,
      signedBodyFor((await freshCsr()).pem, {
        chainPem: leaf.pem + lookalike.pem,
        key: leaf.keys.privateKey,
      }),
    );
    expect(res.status).toBe(403);
    expect(['ecu_not_allowed', 'attestation_not_trusted']).toContain(res.body.error);
    expectNothingIssued(pca, registry);
    expect([...registry.table.entries()]).toEqual(before);
  });

  it("another issuing CA of the same supplier (int2, under the same root) -> 403: the binding names the ECU's issuing CA", async () => {
    await refused(
      signedBodyFor((await freshCsr()).pem, {
        chainPem: world.attestationViaInt2.pem + world.mfrInt2.pem,
        key: world.attestationViaInt2.keys.privateKey,
      }),
      'supplier-mismatch',
    );
  });

  it("a row bound to the supplier's root while the attestation is issued by int2 -> 403 (not any CA on the path)", async () => {
    registry = fakeRegistry([ecuBoundTo(world.mfrRoot)]);
    await refused(
      signedBodyFor((await freshCsr()).pem, {
        chainPem: world.attestationViaInt2.pem + world.mfrInt2.pem,
        key: world.attestationViaInt2.keys.privateKey,
      }),
      'supplier-mismatch',
    );
  });

  it.each([
    ['no binding attribute', {}],
    ['an empty binding', { attestationIssuerKeySha256: '' }],
    ['a subjectKeyIdentifier-sized value (40 hex)', { attestationIssuerKeySha256: 'ab'.repeat(20) }],
    ['a binding with non-hex characters', { attestationIssuerKeySha256: `${'ab'.repeat(31)}zz` }],
    ['a binding that is not a string', { attestationIssuerKeySha256: 42 }],
  ])('a row with %s fails closed -> 403, nothing issued', async (_name, binding) => {
    registry = fakeRegistry([{ ...unboundEcu, ...binding }]);
    await refused(signedBodyFor((await freshCsr()).pem, int1Attestation(world)), 'supplier-unbound');
  });

  it('an ECU bound to supplier B is enrolled by supplier B (the rule is the binding, not supplier A)', async () => {
    registry = fakeRegistry([ecuBoundTo(supplierB.issuing)]);

    const res = await postTo(handler, signedBodyFor((await freshCsr()).pem, byB()));

    expect(res.status).toBe(201);
    expect(res.body.thingName).toBe(THING_NAME);
    expect(registry.table.get(ECU_ID)?.certificateSerial).toBe(res.body.serialNumber);
  });

  it('the binding is compared case-insensitively (operators may paste uppercase hex)', async () => {
    registry = fakeRegistry([
      { ...unboundEcu, attestationIssuerKeySha256: issuerKeySha256(world.mfrInt1).toUpperCase() },
    ]);

    const res = await postTo(handler, signedBodyFor((await freshCsr()).pem, int1Attestation(world)));

    expect(res.status).toBe(201);
  });
});

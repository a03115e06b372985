/**
 * Issue 12 item 7, through the handler: every PEM input (csr, attestation.certificate, the
 * mutual-TLS client certificate) is strict PEM or a 400 with nothing issued, and the reason
 * code and failing check are logged at INFO, never returned. No PEM reaches the logs, not even
 * a private key an attacker (or a careless client) put in the request.
 */
import { webcrypto } from 'node:crypto';
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
import { derToPem, issueCert, pemToDer } from './helpers/pki.js';
import { buildWorld, freshCsr, THING_NAME, type World } from './helpers/world.js';

let world: World;
let handler: Handler;
let pca: ReturnType<typeof fakePca>;
let registry: ReturnType<typeof fakeRegistry>;

beforeAll(async () => {
  world = await buildWorld();
  handler = await startBroker(world.trustBundlePem);
});

beforeEach(() => {
  pca = fakePca(world.opIssuing, world.opChainPem);
  registry = fakeRegistry([world.activeEcu]);
});

/** A CSR whose base64 ends in padding, with one padding bit set (same DER under lax decoders). */
async function csrWithPaddingBits(): Promise<string> {
  for (;;) {
    const b64 = pemToDer((await freshCsr()).pem).toString('base64');
    const at = b64.indexOf('=') - 1;
    if (at < 0) continue;
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
    const bumped = alphabet[alphabet.indexOf(b64[at] ?? 'A') + 1] ?? 'B';
    const body = `${b64.slice(0, at)}${bumped}${b64.slice(at + 1)}`;
    return `-----BEGIN CERTIFICATE REQUEST-----\n${body.match(/.{1,64}/g)?.join('\n')}\n-----END CERTIFICATE REQUEST-----\n`;
  }
}

async function pkcs8Pem(key: webcrypto.CryptoKey): Promise<string> {
  return derToPem(Buffer.from(await webcrypto.subtle.exportKey('pkcs8', key)), 'PRIVATE KEY');
}

interface Case {
  readonly name: string;
  readonly check: string;
  readonly field: string;
  readonly request: () => Promise<{ body: unknown; clientCertPem?: string }>;
}

const signed = async (csrPem: string) => signedBodyFor(csrPem, int1Attestation(world));
const mtls = (csr: string) => ({ body: { csr }, clientCertPem: world.attestation.pem });

const cases: Case[] = [
  {
    name: 'two CSR blocks (the second for another key)',
    check: 'pem-block-count',
    field: 'csr',
    request: async () => mtls((await freshCsr()).pem + (await freshCsr()).pem),
  },
  {
    name: 'text after the CSR block',
    check: 'pem-text-outside-blocks',
    field: 'csr',
    request: async () => mtls(`${(await freshCsr()).pem}trailing data\n`),
  },
  {
    name: 'text before the CSR block',
    check: 'pem-text-outside-blocks',
    field: 'csr',
    request: async () => mtls(`Subject: CN=admin\n${(await freshCsr()).pem}`),
  },
  {
    name: 'a certificate after the CSR block',
    check: 'pem-label',
    field: 'csr',
    request: async () => mtls((await freshCsr()).pem + world.mfrRoot.pem),
  },
  {
    name: 'a certificate in place of the CSR',
    check: 'pem-label',
    field: 'csr',
    request: async () => mtls(world.attestation.pem),
  },
  {
    name: 'END label that does not match BEGIN',
    check: 'pem-label-mismatch',
    field: 'csr',
    request: async () => mtls((await freshCsr()).pem.replace('END CERTIFICATE REQUEST', 'END CERTIFICATE')),
  },
  {
    name: 'non-canonical base64 (a padding bit set)',
    check: 'pem-base64',
    field: 'csr',
    request: async () => mtls(await csrWithPaddingBits()),
  },
  {
    name: 'trailing bytes after the CSR DER inside the block',
    check: 'csr-der',
    field: 'csr',
    request: async () =>
      mtls(
        derToPem(
          Buffer.concat([pemToDer((await freshCsr()).pem), Buffer.from([0, 0])]),
          'CERTIFICATE REQUEST',
        ),
      ),
  },
  {
    name: 'text after the attestation chain',
    check: 'pem-text-outside-blocks',
    field: 'attestation.certificate',
    request: async () => {
      const body = await signed((await freshCsr()).pem);
      return {
        body: {
          ...body,
          attestation: { ...body.attestation, certificate: `${body.attestation.certificate}x` },
        },
      };
    },
  },
  {
    name: 'the attestation private key appended to the attestation chain',
    check: 'pem-label',
    field: 'attestation.certificate',
    request: async () => {
      const body = await signed((await freshCsr()).pem);
      const key = await pkcs8Pem(world.attestation.keys.privateKey);
      return {
        body: {
          ...body,
          attestation: { ...body.attestation, certificate: body.attestation.certificate + key },
        },
      };
    },
  },
  {
    name: 'nine certificates in the attestation chain (at most eight)',
    check: 'pem-block-count',
    field: 'attestation.certificate',
    request: async () => {
      const body = await signed((await freshCsr()).pem);
      const chain = world.attestation.pem + world.mfrInt1.pem.repeat(8);
      return { body: { ...body, attestation: { ...body.attestation, certificate: chain } } };
    },
  },
  {
    name: 'text after the mutual-TLS client certificate',
    check: 'pem-text-outside-blocks',
    field: 'clientCert',
    request: async () => ({
      body: { csr: (await freshCsr()).pem },
      clientCertPem: `${world.attestation.pem}junk`,
    }),
  },
];

describe('strict PEM input: 400, nothing issued, reason logged at INFO', () => {
  it.each(cases)('$name -> 400 ($check)', async (c) => {
    const { body, clientCertPem } = await c.request();

    const { result: res, lines } = await captureLogs(() => postTo(handler, body, clientCertPem));

    expect(res.status).toBe(400);
    expect(res.body).toEqual({ error: 'invalid_request', message: expect.any(String) });
    expect(JSON.stringify(res.body)).not.toContain(c.check);
    expectNothingIssued(pca, registry);
    expect(lines.filter((l) => l.message === 'certificate request rejected')).toEqual([
      expect.objectContaining({ level: 'INFO', reason: 'malformed', check: c.check, field: c.field }),
    ]);
    const logged = JSON.stringify(lines);
    expect(logged).not.toContain('-----BEGIN');
    expect(logged).not.toMatch(/MII[A-Za-z0-9+/]{20}/);
  });

  it('whitespace around the block, CRLF line ends and the legacy NEW CERTIFICATE REQUEST label are accepted', async () => {
    const csr = (await freshCsr()).pem;
    const legacy = csr.replace(/CERTIFICATE REQUEST/g, 'NEW CERTIFICATE REQUEST');

    const crlf = await postTo(
      handler,
      { csr: `\r\n  ${csr.replace(/\n/g, '\r\n')}  \n` },
      world.attestation.pem,
    );
    const old = await postTo(handler, { csr: legacy }, world.attestation.pem);

    expect([crlf.status, old.status]).toEqual([201, 201]);
    expect(crlf.body.thingName).toBe(THING_NAME);
  });

  it('an attestation chain with its intermediate is still accepted (leaf first, CERTIFICATE blocks only)', async () => {
    const leaf = await issueCert({ subject: `CN=${'ECU-GW-0001'}`, issuer: world.mfrInt1 });

    const res = await postTo(
      handler,
      signedBodyFor((await freshCsr()).pem, {
        chainPem: `${leaf.pem}\n\n${world.mfrInt1.pem}`,
        key: leaf.keys.privateKey,
      }),
    );

    expect(res.status).toBe(201);
  });
});

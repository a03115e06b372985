import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import {
  assertAllowedHost,
  buildOcspRequest,
  certIdFor,
  checkOcsp,
  createHttpTransport,
  OcspHostNotAllowedError,
  OcspResponseError,
  type OcspResponseFailureReason,
  type OcspTransport,
  OcspTransportError,
  parseOcspResponse,
  verifyOcspResponse,
} from '../src/ocsp/index.js';
import { parseCertificate } from '../src/x509/index.js';
import { createIntermediateCa, createLeaf, createRootCa, sharedKey, type TestCert } from './helpers/pki.js';
import { buildOcspResponse, type ResponseSpec, type SingleSpec } from './helpers/pki-ocsp.js';

const NOW = new Date();
const MIN = 60_000;
const HOUR = 60 * MIN;

const root = createRootCa({ key: sharedKey('P-256', 40) });
const issuer = createIntermediateCa(root, { key: sharedKey('P-256', 41) });
const leaf = createLeaf(issuer, { key: sharedKey('P-256', 42), ocspUrl: 'http://ocsp.example.com/' });
const sibling = createLeaf(issuer, { key: sharedKey('P-256', 43), subject: 'sibling' });
const delegate = createLeaf(issuer, {
  key: sharedKey('P-256', 44),
  subject: 'OCSP Responder',
  extKeyUsage: ['ocspSigning'],
});
const stranger = createRootCa({ key: sharedKey('P-256', 45), subject: 'Stranger' });

const cert = parseCertificate(leaf.der);
const issuerCert = parseCertificate(issuer.der);

function answer(overrides: Partial<SingleSpec> = {}): SingleSpec {
  return {
    cert: leaf,
    issuer,
    status: 'good',
    thisUpdate: new Date(NOW.getTime() - MIN),
    nextUpdate: new Date(NOW.getTime() + HOUR),
    ...overrides,
  };
}

function respond(spec: Partial<ResponseSpec> = {}): Buffer {
  return buildOcspResponse({ responses: [answer()], signerKey: issuer.key.privateKey, ...spec });
}

function verify(
  bytes: Buffer,
  options: { nonce?: Buffer; now?: Date; maxAgeSeconds?: number; issuer?: TestCert } = {},
) {
  return verifyOcspResponse(parseOcspResponse(bytes), {
    cert,
    issuer: options.issuer ? parseCertificate(options.issuer.der) : issuerCert,
    now: options.now ?? NOW,
    ...(options.nonce ? { nonce: options.nonce } : {}),
    ...(options.maxAgeSeconds !== undefined ? { maxAgeSeconds: options.maxAgeSeconds } : {}),
  });
}

function reasonOf(run: () => unknown): OcspResponseFailureReason | 'ok' {
  try {
    run();
    return 'ok';
  } catch (error) {
    if (error instanceof OcspResponseError) return error.reason;
    throw error;
  }
}

describe('requests', () => {
  it('builds a DER OCSPRequest with a SHA-256 or SHA-1 CertID and an optional nonce', () => {
    // Act
    const plain = buildOcspRequest(cert, issuerCert);
    const sha1 = buildOcspRequest(cert, issuerCert, { hashAlgorithm: 'sha1', nonce: true });
    const fixed = buildOcspRequest(cert, issuerCert, { nonce: Buffer.from('0123456789abcdef') });
    // Assess
    expect(plain.certId.hashAlgorithm).toBe('sha256');
    expect(plain.certId.issuerNameHash).toHaveLength(32);
    expect(plain.nonce).toBeUndefined();
    expect(sha1.certId.issuerKeyHash).toHaveLength(20);
    expect(sha1.nonce).toHaveLength(32);
    expect(fixed.nonce?.toString()).toBe('0123456789abcdef');
    expect(plain.certId.serialNumber.equals(leaf.serial)).toBe(true);
    expect(certIdFor(cert, issuerCert, 'sha1')).toEqual(sha1.certId);
    expect(plain.der[0]).toBe(0x30);
  });
});

describe('verifyOcspResponse (hand-built responses)', () => {
  it('good, issuer-signed, ResponderID byName and byKey', () => {
    expect(verify(respond())).toMatchObject({ status: 'good' });
    expect(verify(respond({ responderIdBy: 'key' }))).toMatchObject({ status: 'good' });
  });

  it('revoked with time and reason, and unknown', () => {
    const revokedAt = new Date(Math.floor((NOW.getTime() - HOUR) / 1000) * 1000);
    expect(verify(respond({ responses: [answer({ status: 'revoked', revokedAt, reason: 1 })] }))).toEqual({
      status: 'revoked',
      revokedAt,
      reason: 'keyCompromise',
      thisUpdate: expect.any(Date),
      nextUpdate: expect.any(Date),
    });
    expect(verify(respond({ responses: [answer({ status: 'unknown' })] }))).toMatchObject({
      status: 'unknown',
    });
  });

  it('accepts a SHA-1 CertID answer', () => {
    expect(verify(respond({ responses: [answer({ hash: 'sha1' })] }))).toMatchObject({ status: 'good' });
  });

  it('answers from the SingleResponse that matches this certificate, not the first one', () => {
    const bytes = respond({
      responses: [answer({ cert: sibling, status: 'good' }), answer({ status: 'revoked', reason: 4 })],
    });
    expect(verify(bytes)).toMatchObject({ status: 'revoked', reason: 'superseded' });
  });

  it('delegated responder with id-kp-OCSPSigning issued by the issuer → accepted', () => {
    const bytes = respond({ signerKey: delegate.key.privateKey, responder: delegate, certs: [delegate] });
    expect(verify(bytes)).toMatchObject({ status: 'good' });
    const byKey = respond({
      signerKey: delegate.key.privateKey,
      responder: delegate,
      responderIdBy: 'key',
      certs: [delegate],
    });
    expect(verify(byKey)).toMatchObject({ status: 'good' });
  });

  it('wrong-signer: delegate without OCSPSigning, delegate from another CA, forged delegate, expired delegate, absent signer', () => {
    const noEku = createLeaf(issuer, {
      key: sharedKey('P-256', 46),
      subject: 'Not a responder',
      extKeyUsage: ['clientAuth'],
    });
    const foreign = createLeaf(stranger, {
      key: sharedKey('P-256', 46),
      subject: 'Foreign responder',
      extKeyUsage: ['ocspSigning'],
    });
    const forged = createLeaf(issuer, {
      key: sharedKey('P-256', 46),
      subject: 'Forged responder',
      extKeyUsage: ['ocspSigning'],
      signWith: stranger.key.privateKey,
    });
    const expired = createLeaf(issuer, {
      key: sharedKey('P-256', 46),
      subject: 'Old responder',
      extKeyUsage: ['ocspSigning'],
      notBefore: new Date(NOW.getTime() - 48 * HOUR),
      notAfter: new Date(NOW.getTime() - 24 * HOUR),
    });
    for (const responder of [noEku, foreign, forged, expired]) {
      const bytes = respond({ signerKey: responder.key.privateKey, responder, certs: [responder] });
      expect(reasonOf(() => verify(bytes))).toBe('wrong-signer');
    }
    // Named responder not included in the response.
    expect(reasonOf(() => verify(respond({ signerKey: delegate.key.privateKey, responder: delegate })))).toBe(
      'wrong-signer',
    );
  });

  it('bad-signature: signed by another key under the issuer name, or tampered after signing', () => {
    expect(reasonOf(() => verify(respond({ signerKey: stranger.key.privateKey })))).toBe('bad-signature');
    const flipped = respond({
      responses: [answer({ status: 'revoked', revokedAt: new Date(NOW.getTime() - HOUR) })],
      // Move nextUpdate by one second: flip the last seconds digit before the final 'Z'.
      tamper: (tbs) => {
        const copy = Buffer.from(tbs);
        const i = copy.lastIndexOf(0x5a) - 1;
        copy[i] = copy[i] === 0x30 ? 0x31 : 0x30;
        return copy;
      },
    });
    expect(reasonOf(() => verify(flipped))).toBe('bad-signature');
  });

  it('SHA-1 response signatures → unsupported-algorithm', () => {
    expect(reasonOf(() => verify(respond({ hash: 'sha1' })))).toBe('unsupported-algorithm');
  });

  it('wrong-certificate: the response is for another serial or another issuer', () => {
    expect(reasonOf(() => verify(respond({ responses: [answer({ cert: sibling })] })))).toBe(
      'wrong-certificate',
    );
    expect(reasonOf(() => verify(respond({ responses: [answer({ serial: Buffer.from([0x01]) })] })))).toBe(
      'wrong-certificate',
    );
    // Same serial, but the CertID names another issuer key.
    const otherIssuer = respond({ responder: issuer, responses: [answer({ issuer: stranger })] });
    expect(reasonOf(() => verify(otherIssuer))).toBe('wrong-certificate');
    // And the caller passing an issuer that did not issue the certificate.
    expect(reasonOf(() => verify(respond(), { issuer: stranger }))).toBe('wrong-certificate');
  });

  it('stale: nextUpdate passed; or no nextUpdate and thisUpdate older than maxAge; future thisUpdate → not-yet-valid', () => {
    const past = answer({
      thisUpdate: new Date(NOW.getTime() - 3 * HOUR),
      nextUpdate: new Date(NOW.getTime() - HOUR),
    });
    expect(reasonOf(() => verify(respond({ responses: [past] })))).toBe('stale');
    const noNext = answer({ thisUpdate: new Date(NOW.getTime() - 2 * HOUR), nextUpdate: undefined });
    expect(reasonOf(() => verify(respond({ responses: [noNext] })))).toBe('stale');
    expect(reasonOf(() => verify(respond({ responses: [noNext] }), { maxAgeSeconds: 3 * 3600 }))).toBe('ok');
    const future = answer({ thisUpdate: new Date(NOW.getTime() + HOUR) });
    expect(reasonOf(() => verify(respond({ responses: [future] })))).toBe('not-yet-valid');
    // Within the 5-minute skew both ways.
    const edge = answer({
      thisUpdate: new Date(NOW.getTime() + 4 * MIN),
      nextUpdate: new Date(NOW.getTime() - 4 * MIN),
    });
    expect(reasonOf(() => verify(respond({ responses: [edge] })))).toBe('malformed'); // nextUpdate before thisUpdate
    const edge2 = answer({
      thisUpdate: new Date(NOW.getTime() + 4 * MIN),
      nextUpdate: new Date(NOW.getTime() + 5 * MIN),
    });
    expect(reasonOf(() => verify(respond({ responses: [edge2] })))).toBe('ok');
  });

  it('nonce: must be echoed exactly when sent', () => {
    const nonce = Buffer.from('a'.repeat(32));
    expect(reasonOf(() => verify(respond({ nonce }), { nonce }))).toBe('ok');
    expect(reasonOf(() => verify(respond(), { nonce }))).toBe('nonce-mismatch');
    expect(reasonOf(() => verify(respond({ nonce: Buffer.from('b'.repeat(32)) }), { nonce }))).toBe(
      'nonce-mismatch',
    );
  });

  it('malformed: truncated, garbage, trailing bytes; unsuccessful statuses carry the status', () => {
    const bytes = respond();
    expect(reasonOf(() => parseOcspResponse(bytes.subarray(0, bytes.length - 10)))).toBe('malformed');
    expect(reasonOf(() => parseOcspResponse(Buffer.from('<html>503</html>')))).toBe('malformed');
    expect(reasonOf(() => parseOcspResponse(Buffer.concat([bytes, Buffer.from([0])])))).toBe('malformed');
    expect(reasonOf(() => parseOcspResponse(Buffer.alloc(0)))).toBe('malformed');
    for (const [code, name] of [
      [1, 'malformedRequest'],
      [2, 'internalError'],
      [3, 'tryLater'],
      [5, 'sigRequired'],
      [6, 'unauthorized'],
    ] as const) {
      expect(() => parseOcspResponse(buildOcspResponse({ status: code }))).toThrow(
        expect.objectContaining({ reason: 'unsuccessful', responseStatus: name }),
      );
    }
    expect(reasonOf(() => parseOcspResponse(buildOcspResponse({ status: 0 })))).toBe('malformed');
  });
});

describe('assertAllowedHost', () => {
  it('accepts exact hosts (case-insensitive) and rejects everything else before any request', () => {
    expect(assertAllowedHost('http://OCSP.example.com/x', ['ocsp.example.com']).hostname).toBe(
      'ocsp.example.com',
    );
    for (const url of [
      'http://ocsp.example.com.evil.net/',
      'http://evil.net/?ocsp.example.com',
      'http://ocsp.example.com@evil.net/',
      'ftp://ocsp.example.com/',
      'file:///etc/passwd',
      'not a url',
      'http://user:pw@ocsp.example.com/',
    ]) {
      expect(() => assertAllowedHost(url, ['ocsp.example.com'])).toThrow(OcspHostNotAllowedError);
    }
  });
});

describe('checkOcsp with an injected transport', () => {
  const base = { cert, issuer: issuerCert, allowedHosts: ['ocsp.example.com'], now: NOW };

  it('uses the AIA URL, posts the request and returns the verified answer', async () => {
    // Prepare
    const transport = vi.fn<OcspTransport>(async () => respond());
    // Act
    const result = await checkOcsp({ ...base, transport });
    // Assess
    expect(result.status).toBe('good');
    expect(transport).toHaveBeenCalledTimes(1);
    const call = transport.mock.calls[0]?.[0];
    expect(call?.url.href).toBe('http://ocsp.example.com/');
    expect(call?.timeoutMs).toBe(5000);
    expect(call?.maxResponseBytes).toBe(65536);
  });

  it('sends a nonce when asked and requires the echo', async () => {
    const transport: OcspTransport = async () => respond();
    await expect(checkOcsp({ ...base, transport, nonce: true })).rejects.toMatchObject({
      reason: 'nonce-mismatch',
    });
  });

  it('host not allowed: rejects before calling the transport', async () => {
    const transport = vi.fn<OcspTransport>(async () => respond());
    await expect(checkOcsp({ ...base, url: 'http://evil.example.net/', transport })).rejects.toBeInstanceOf(
      OcspHostNotAllowedError,
    );
    await expect(checkOcsp({ ...base, allowedHosts: [], transport })).rejects.toBeInstanceOf(
      OcspHostNotAllowedError,
    );
    expect(transport).not.toHaveBeenCalled();
  });

  it('no URL at all → no-responder-url, nothing sent', async () => {
    const transport = vi.fn<OcspTransport>(async () => respond());
    const noAia = parseCertificate(sibling.der);
    await expect(checkOcsp({ ...base, cert: noAia, transport })).rejects.toMatchObject({
      reason: 'no-responder-url',
    });
    expect(transport).not.toHaveBeenCalled();
  });

  it('a transport that never answers → timeout, and its signal is aborted', async () => {
    let signal: AbortSignal | undefined;
    const transport: OcspTransport = (req) => {
      signal = req.signal;
      return new Promise(() => {});
    };
    await expect(checkOcsp({ ...base, transport, timeoutMs: 20 })).rejects.toMatchObject({
      reason: 'timeout',
    });
    expect(signal?.aborted).toBe(true);
  });

  it('an oversized body from a lax transport → too-large; a throwing transport → network', async () => {
    await expect(checkOcsp({ ...base, transport: async () => Buffer.alloc(70_000) })).rejects.toMatchObject({
      reason: 'too-large',
    });
    await expect(
      checkOcsp({
        ...base,
        transport: async () => {
          throw new Error('ECONNRESET');
        },
      }),
    ).rejects.toMatchObject({ reason: 'network' });
  });

  it('revoked and invalid answers surface as results and typed errors', async () => {
    const revoked = await checkOcsp({
      ...base,
      transport: async () => respond({ responses: [answer({ status: 'revoked' })] }),
    });
    expect(revoked.status).toBe('revoked');
    await expect(
      checkOcsp({ ...base, transport: async () => respond({ signerKey: stranger.key.privateKey }) }),
    ).rejects.toMatchObject({
      reason: 'bad-signature',
    });
  });
});

describe('createHttpTransport (loopback server)', () => {
  let server: Server;
  let baseUrl: string;
  const seen: { method?: string; type?: string; length: number }[] = [];

  beforeAll(async () => {
    server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        seen.push({
          method: req.method,
          type: req.headers['content-type'],
          length: Buffer.concat(chunks).length,
        });
        if (req.url === '/good') {
          res.writeHead(200, { 'content-type': 'application/ocsp-response' }).end(respond());
        } else if (req.url === '/big') {
          res.writeHead(200, { 'content-length': '1000000' });
          res.end(Buffer.alloc(1_000_000));
        } else if (req.url === '/chunked-big') {
          res.writeHead(200);
          for (let i = 0; i < 100; i++) res.write(Buffer.alloc(1000));
          res.end();
        } else if (req.url === '/error') {
          res.writeHead(500).end('oops');
        } else if (req.url === '/redirect') {
          res.writeHead(302, { location: 'http://evil.example.net/' }).end();
        }
        // '/hang': never answers.
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  afterAll(async () => {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  const opts = {
    ...{ cert, issuer: issuerCert, allowedHosts: ['127.0.0.1'], now: NOW },
    transport: createHttpTransport(),
  };

  it('POSTs application/ocsp-request and returns the body', async () => {
    const result = await checkOcsp({ ...opts, url: `${baseUrl}/good` });
    expect(result.status).toBe('good');
    expect(seen.at(-1)).toMatchObject({ method: 'POST', type: 'application/ocsp-request' });
    expect(seen.at(-1)?.length).toBeGreaterThan(50);
  });

  it('caps the response size by content-length and by streamed bytes', async () => {
    await expect(checkOcsp({ ...opts, url: `${baseUrl}/big` })).rejects.toMatchObject({
      reason: 'too-large',
    });
    await expect(
      checkOcsp({ ...opts, url: `${baseUrl}/chunked-big`, maxResponseBytes: 10_000 }),
    ).rejects.toMatchObject({
      reason: 'too-large',
    });
  });

  it('times out on a silent responder', async () => {
    await expect(checkOcsp({ ...opts, url: `${baseUrl}/hang`, timeoutMs: 100 })).rejects.toBeInstanceOf(
      OcspTransportError,
    );
    await expect(checkOcsp({ ...opts, url: `${baseUrl}/hang`, timeoutMs: 100 })).rejects.toMatchObject({
      reason: 'timeout',
    });
  });

  it('non-200 and redirects are errors (redirects are never followed)', async () => {
    await expect(checkOcsp({ ...opts, url: `${baseUrl}/error` })).rejects.toMatchObject({
      reason: 'http-status',
      statusCode: 500,
    });
    await expect(checkOcsp({ ...opts, url: `${baseUrl}/redirect` })).rejects.toMatchObject({
      reason: 'http-status',
      statusCode: 302,
    });
  });

  it('connection refused → network', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    await expect(checkOcsp({ ...opts, url: `http://127.0.0.1:${port}/` })).rejects.toMatchObject({
      reason: 'network',
    });
  });
});

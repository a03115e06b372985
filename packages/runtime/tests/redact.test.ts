import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isSensitiveKey, REDACTED, redact, redactingReplacer, redactString } from '../src/index.js';
import { makeSecrets, pemBody } from './secrets.js';

const secrets = makeSecrets();

describe('redactString', () => {
  it('removes every flavour of PEM private key, keeping the surrounding text', () => {
    for (const pem of [secrets.pkcs8Pem, secrets.sec1Pem, secrets.pkcs1Pem, secrets.encryptedPem]) {
      const out = redactString(`before ${pem} after`);
      expect(out.replace(/\s+/g, ' ')).toBe(`before ${REDACTED} after`);
      expect(out).not.toContain(pemBody(pem));
      expect(out).not.toContain('PRIVATE KEY');
    }
  });

  it('removes a truncated private key up to the end of the text', () => {
    const truncated = secrets.pkcs8Pem.slice(0, 80);
    expect(redactString(`key: ${truncated}`)).toBe(`key: ${REDACTED}`);
  });

  it('keeps public keys and certificates, which are not secret', () => {
    expect(redactString(secrets.publicPem)).toBe(secrets.publicPem);
  });

  it('removes JWTs and bearer credentials', () => {
    expect(redactString(`token ${secrets.jwt} used`)).toBe(`token ${REDACTED} used`);
    expect(redactString(`Authorization: Bearer ${secrets.opaque}`)).toBe(`Authorization: Bearer ${REDACTED}`);
    expect(redactString(`bearer ${secrets.jwt}`)).not.toContain(secrets.jwt.split('.')[2]);
  });

  it('removes key=value secrets in free text', () => {
    const out = redactString(`connect password=${secrets.opaque}; api_key: "${secrets.opaque}"`);
    expect(out).not.toContain(secrets.opaque);
    expect(out).toContain(`password=${REDACTED}`);
  });

  it('leaves ordinary operational text alone', () => {
    const text =
      'thing 1HGCM82633A004352_gw-01 cert arn:aws:iot:eu-west-1:123456789012:cert/abc host a1b2-ats.iot.eu-west-1.amazonaws.com';
    expect(redactString(text)).toBe(text);
  });
});

describe('isSensitiveKey', () => {
  it.each([
    'password',
    'Password',
    'client_secret',
    'secretAccessKey',
    'accessToken',
    'Authorization',
    'plaintext',
    'privateKey',
    'private_key',
    'ciphertext',
    'CiphertextBlob',
    'esdk',
    'cookie',
    'x-api-key',
  ])('%s is sensitive', (key) => {
    expect(isSensitiveKey(key)).toBe(true);
  });

  it.each(['thingName', 'vin', 'certificateId', 'keyId', 'commandId', 'status'])('%s is not', (key) => {
    expect(isSensitiveKey(key)).toBe(false);
  });
});

describe('redact / redactingReplacer', () => {
  it('redacts sensitive fields at any depth, whatever their type', () => {
    const value = {
      headers: { Authorization: `Bearer ${secrets.jwt}`, 'content-type': 'application/json' },
      body: { nested: [{ privateKey: { d: secrets.opaque } }, { plaintext: 42 }] },
      esdk: 'AYADeJ...',
    };
    const json = JSON.stringify(value, redactingReplacer);
    expect(json).not.toContain(secrets.jwt);
    expect(json).not.toContain(secrets.opaque);
    expect(JSON.parse(json)).toEqual({
      headers: { Authorization: REDACTED, 'content-type': 'application/json' },
      body: { nested: [{ privateKey: REDACTED }, { plaintext: REDACTED }] },
      esdk: REDACTED,
    });
    expect(redact(value)).toEqual(JSON.parse(json));
  });

  it('copies errors and cycles safely', () => {
    const cyclic: Record<string, unknown> = { name: 'a' };
    cyclic.self = cyclic;
    expect(redact(cyclic)).toEqual({ name: 'a', self: '[Circular]' });
    expect(redact(new Error(`failed with ${secrets.jwt}`))).toEqual({
      name: 'Error',
      message: `failed with ${REDACTED}`,
    });
  });

  it('never lets a secret under a sensitive key through, whatever the surrounding structure (property)', () => {
    const sensitiveKey = fc.constantFrom(
      'password',
      'clientSecret',
      'idToken',
      'authorization',
      'plaintext',
      'privateKey',
      'ciphertext',
      'esdk',
    );
    const marker = `S3CR3T-${secrets.opaque}`;
    const tree = fc.letrec<{ node: unknown }>((tie) => ({
      node: fc.oneof(
        { depthSize: 'small', withCrossShrink: true },
        fc.jsonValue({ maxDepth: 1 }),
        fc.array(tie('node'), { maxLength: 3 }),
        fc.dictionary(fc.string({ maxLength: 8 }), tie('node'), { maxKeys: 3 }),
      ),
    })).node;
    fc.assert(
      fc.property(
        tree,
        sensitiveKey,
        fc.array(fc.string({ minLength: 1, maxLength: 6 }), { maxLength: 4 }),
        (base, key, path) => {
          // Plant the secret at `path` (creating objects as needed) under the sensitive key.
          let root: Record<string, unknown> = { base };
          let cursor = root;
          for (const segment of path) {
            const next: Record<string, unknown> = {};
            cursor[`p_${segment}`] = next;
            cursor = next;
          }
          cursor[key] = { deeper: marker, list: [marker] };
          root = JSON.parse(JSON.stringify(root)) as Record<string, unknown>;
          expect(JSON.stringify(root, redactingReplacer)).not.toContain(marker);
          expect(JSON.stringify(redact(root))).not.toContain(marker);
        },
      ),
    );
  });

  it('never lets an embedded private key or JWT through in any string (property)', () => {
    const secret = fc.constantFrom(secrets.pkcs8Pem, secrets.sec1Pem, secrets.pkcs1Pem, secrets.jwt);
    fc.assert(
      fc.property(fc.string({ maxLength: 40 }), secret, fc.string({ maxLength: 40 }), (before, s, after) => {
        const out = JSON.stringify({ message: `${before} ${s} ${after}` }, redactingReplacer);
        const tell = s.includes('PRIVATE KEY') ? pemBody(s) : (s.split('.')[2] ?? s);
        expect(out).not.toContain(tell);
      }),
    );
  });
});

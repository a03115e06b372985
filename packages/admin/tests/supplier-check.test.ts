/** checkSupplierCa on real certificates (made and signed here): what is trusted, what is refused and why. */
import { describe, expect, it } from 'vitest';
import { AdminError, InvalidInputError, RefusedError } from '../src/errors.js';
import { checkSupplierCa } from '../src/suppliers/check.js';
import { makeCa } from './supplier-fakes.js';

const NOW = new Date();
const DAY = 86_400_000;

describe('checkSupplierCa', () => {
  it.each(['P-256', 'P-384', 'RSA-2048'] as const)(
    'trusts a %s CA with cA and keyCertSign, valid now',
    async (key) => {
      const pem = await makeCa({ key });

      const cert = checkSupplierCa(pem, NOW);

      expect(cert.basicConstraints?.ca).toBe(true);
    },
  );

  it.each([
    ['not a CA (cA false)', { ca: false }, 'ca_not_ca'],
    ['no keyCertSign', { keyCertSign: false }, 'ca_no_keycertsign'],
    ['a P-521 key (outside the key policy)', { key: 'P-521' as const }, 'ca_key_not_allowed'],
    ['an RSA-1024 key', { key: 'RSA-1024' as const }, 'ca_key_not_allowed'],
    [
      'expired',
      { notBefore: new Date(Date.now() - 20 * DAY), notAfter: new Date(Date.now() - DAY) },
      'ca_expired',
    ],
    ['not yet valid', { notBefore: new Date(Date.now() + DAY) }, 'ca_not_yet_valid'],
  ])('refuses a CA that is %s', async (_, options, code) => {
    const pem = await makeCa(options);

    let error: unknown;
    try {
      checkSupplierCa(pem, NOW);
    } catch (e) {
      error = e;
    }

    expect(error).toBeInstanceOf(RefusedError);
    expect(error).toMatchObject({ code });
  });

  it('refuses a file that is not exactly one certificate: two CAs, a CA with its private key, garbage, empty', async () => {
    const a = await makeCa();
    const b = await makeCa();
    const key =
      '-----BEGIN PRIVATE KEY-----\nMIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQg\n-----END PRIVATE KEY-----\n';
    const corrupt = a.replace(/[A-Za-z]{8}\n/, 'AAAAAAAA\n');

    for (const pem of [`${a}\n${b}`, `${a}\n${key}`, 'hello', '', `${a}`.repeat(30)]) {
      expect(() => checkSupplierCa(pem, NOW), pem.slice(0, 40)).toThrow(InvalidInputError);
    }
    // Bytes changed inside the certificate: unparseable, or parseable but not a usable anchor; never trusted.
    expect(() => checkSupplierCa(corrupt, NOW)).toThrow(AdminError);
  });
});

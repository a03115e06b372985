import { generateKeyPairSync, randomBytes, sign, verify } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { DerSignatureError, derToJose, joseToDer } from '../src/command/index.js';
import { derSignature } from './command-helpers.js';

const hex = (s: string) => new Uint8Array(Buffer.from(s.replace(/\s/g, ''), 'hex'));
const N256 = 'ffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551';

describe('derToJose', () => {
  it('left-pads a short R (31 bytes) and keeps a full-width S', () => {
    const r = hex(`7f${'11'.repeat(30)}`); // 31 bytes, high bit clear
    const s = hex(`22${'33'.repeat(31)}`);
    const der = derSignature(r, s);
    expect(der[3]).toBe(31);

    const raw = derToJose(der, 32);

    expect(raw.length).toBe(64);
    expect(raw[0]).toBe(0);
    expect(Buffer.from(raw.subarray(1, 32))).toEqual(Buffer.from(r));
    expect(Buffer.from(raw.subarray(32))).toEqual(Buffer.from(s));
  });

  it('drops the sign byte of a 33-byte INTEGER (leading zero before a high bit)', () => {
    const r = hex(`80${'44'.repeat(31)}`);
    const sBelow = hex(`7f${'55'.repeat(31)}`);
    const der = derSignature(r, sBelow);
    expect(der[3]).toBe(33);
    expect(der[4]).toBe(0);

    const raw = derToJose(der, 32);

    expect(Buffer.from(raw.subarray(0, 32))).toEqual(Buffer.from(r));
    expect(Buffer.from(raw.subarray(32))).toEqual(Buffer.from(sBelow));
  });

  it('handles a short S together with a padded R, and a very short R (30 bytes)', () => {
    const r = hex(`9a${'01'.repeat(31)}`);
    const s = hex(`00${'02'.repeat(31)}`); // 31 significant bytes
    const raw = derToJose(derSignature(r, s), 32);
    expect(Buffer.from(raw)).toEqual(Buffer.concat([r, s]));

    const shortR = hex(`0000${'03'.repeat(30)}`);
    const raw2 = derToJose(derSignature(shortR, s), 32);
    expect(Buffer.from(raw2)).toEqual(Buffer.concat([shortR, s]));
  });

  it('round-trips with joseToDer', () => {
    const raw = hex(`00${'61'.repeat(31)}80${'62'.repeat(31)}`);
    expect(Buffer.from(derToJose(joseToDer(raw), 32))).toEqual(Buffer.from(raw));
  });

  it('converts real node:crypto P-256 signatures, including one with a short R or S (bounded search)', () => {
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    let seenShort = false;
    let seenPadded = false;
    for (let i = 0; i < 20_000 && !(seenShort && seenPadded); i++) {
      const data = randomBytes(16);
      const der = new Uint8Array(sign('sha256', data, privateKey));
      const rLen = der[3] ?? 0;
      const sLen = der[4 + rLen + 1] ?? 0;
      const short = rLen < 32 || sLen < 32;
      const padded = rLen === 33 || sLen === 33;
      if (!(short && !seenShort) && !(padded && !seenPadded) && i > 0) continue;
      seenShort ||= short;
      seenPadded ||= padded;

      const raw = derToJose(der, 32);

      expect(raw.length).toBe(64);
      expect(verify('sha256', data, { key: publicKey, dsaEncoding: 'ieee-p1363' }, raw)).toBe(true);
    }
    expect(seenShort).toBe(true);
    expect(seenPadded).toBe(true);
  });

  it('converts P-384 signatures to 96 bytes', () => {
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-384' });
    const der = new Uint8Array(sign('sha384', Buffer.from('x'), privateKey));
    const raw = derToJose(der, 48);
    expect(raw.length).toBe(96);
    expect(verify('sha384', Buffer.from('x'), { key: publicKey, dsaEncoding: 'ieee-p1363' }, raw)).toBe(true);
  });

  const valid = derSignature(hex(`11${'22'.repeat(31)}`), hex(`33${'44'.repeat(31)}`));
  const cases: Array<[string, Uint8Array]> = [
    ['empty input', new Uint8Array()],
    ['wrong outer tag', Uint8Array.from([0x31, ...valid.subarray(1)])],
    ['outer length too long', Uint8Array.from([0x30, (valid[1] ?? 0) + 1, ...valid.subarray(2)])],
    ['trailing byte after SEQUENCE', Uint8Array.from([...valid, 0])],
    [
      'trailing bytes inside SEQUENCE',
      Uint8Array.from([0x30, (valid[1] ?? 0) + 2, ...valid.subarray(2), 0x05, 0x00]),
    ],
    ['non-minimal long-form length', Uint8Array.from([0x30, 0x81, ...valid.subarray(1)])],
    ['indefinite length', Uint8Array.from([0x30, 0x80, ...valid.subarray(2), 0, 0])],
    ['INTEGER with wrong tag', Uint8Array.from([0x30, valid[1] ?? 0, 0x03, ...valid.subarray(3)])],
    [
      'superfluous leading zero',
      derSigRaw([0x00, 0x11, ...Array(31).fill(0x22)], [0x33, ...Array(31).fill(0x44)]),
    ],
    ['negative INTEGER', derSigRaw([0x91, ...Array(31).fill(0x22)], [0x33, ...Array(31).fill(0x44)])],
    ['zero R', derSigRaw([0x00], [0x33, ...Array(31).fill(0x44)])],
    ['empty INTEGER', derSigRaw([], [0x33])],
    ['R equal to the group order', derSigRaw([0x00, ...hex(N256)], [0x33])],
    ['R wider than the curve', derSigRaw([0x01, ...Array(32).fill(0x22)], [0x33])],
    ['truncated S', valid.subarray(0, valid.length - 1)],
  ];
  it.each(cases)('rejects %s with DerSignatureError', (_name, der) => {
    expect(() => derToJose(der, 32)).toThrow(DerSignatureError);
  });

  it('rejects an unsupported coordinate size', () => {
    expect(() => derToJose(valid, 33)).toThrow(DerSignatureError);
  });
});

function derSigRaw(r: number[], s: number[]): Uint8Array {
  const body = [0x02, r.length, ...r, 0x02, s.length, ...s];
  return Uint8Array.from([0x30, body.length, ...body]);
}

/**
 * Command build cost in-process: `pnpm vitest bench --run --project @cv/crypto bench/command.bench.ts`.
 * The signer is a local P-256 key behind the KMS-style digest interface (tests/command-helpers.ts);
 * encryption is local AES-GCM, so the figures exclude KMS and network latency.
 */
import { sign } from 'node:crypto';
import { bench, describe } from 'vitest';
import {
  buildCommandMessage,
  commandClaims,
  createCommandDecoder,
  derToJose,
  type ReplayCache,
} from '../src/command/index.js';
import {
  ENCRYPTION_KEY_ARN,
  localKey,
  localKms,
  SIGNING_KEY_ARN,
  THING,
  VIN,
} from '../tests/command-helpers.js';

const key = localKey('ES256');
const kms = localKms();
const signer = {
  alg: 'ES256' as const,
  keyId: SIGNING_KEY_ARN,
  sign: async (d: Uint8Array) => key.signDigest(d),
};
const claims = () =>
  commandClaims({
    stage: 'bench',
    thingName: THING,
    vin: VIN,
    sub: 'user',
    cmd: 'door.lock',
    args: {},
    ttlSeconds: 120,
  });
const der = new Uint8Array(sign('sha256', Buffer.from('x'), key.privateKey));
const digest = new Uint8Array(32).fill(7);
const noReplay: ReplayCache = { has: () => false, add: () => undefined };
const decode = createCommandDecoder({
  thingName: THING,
  keys: [{ keyId: SIGNING_KEY_ARN, publicKey: key.spki }],
  decrypt: kms.decrypt,
  replayCache: noReplay,
});
const sample = await buildCommandMessage({
  claims: claims(),
  signer,
  encrypt: kms.encrypt,
  encryptionKeyId: ENCRYPTION_KEY_ARN,
});

describe('command message (P-256)', () => {
  bench('raw crypto.sign(sha256, 300 B) [baseline]', () => {
    sign('sha256', Buffer.alloc(300, 1), key.privateKey);
  });
  bench('buildCommandMessage (claims + JWS + DER->JOSE + local AES-GCM)', async () => {
    await buildCommandMessage({
      claims: claims(),
      signer,
      encrypt: kms.encrypt,
      encryptionKeyId: ENCRYPTION_KEY_ARN,
    });
  });
  bench('local digest signer alone (stand-in for KMS Sign)', () => {
    key.signDigest(digest);
  });
  bench('derToJose alone', () => {
    derToJose(der, 32);
  });
  bench('ECU decode (parse + decrypt + verify + claims)', async () => {
    await decode(sample.payload);
  });
});

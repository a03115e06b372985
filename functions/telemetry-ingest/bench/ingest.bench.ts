/**
 * Messages per second per core through the ingest use case (envelope + rule fields, context-pinned decrypt with a
 * cached data key, schema, conditional-write port) with zero-latency stubs for KMS and DynamoDB, beside bare
 * AES-256-GCM decrypt + JSON.parse of the same plaintext, in the same run: with the in-process decryptor (production)
 * and with the Encryption SDK reference decryptor.
 * Run: `pnpm bench --project @cv/telemetry-ingest`.
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import {
  createEsdkTelemetryDecryptor,
  createTelemetryDecryptor,
  createTelemetryEncryptor,
  createTelemetryMaterialsManager,
  type EsdkKmsClient,
  telemetryKmsKeyring,
} from '@cv/crypto/telemetry';
import { bench, describe } from 'vitest';
import { type IngestDeps, ingestMessage } from '../src/ingest.js';

const KEY_ARN = 'arn:aws:kms:eu-west-1:111122223333:key/11111111-2222-4333-8444-555555555555';
const THING = '1HGCM82633A004352_gw-01';
const reading = {
  status: { speedKmh: 87.5, odometerKm: 123456.7, fuelPercent: 61, doorsLocked: true, ignition: 'ON' },
  location: { lat: 48.137154, lon: 11.576124, headingDeg: 271.5, accuracyM: 4.2 },
};

// Zero-latency KMS stub: the "blob" is the data key itself (benchmark only).
const kmsStub = {
  async generateDataKey(args: { NumberOfBytes?: number }) {
    const key = new Uint8Array(randomBytes(args.NumberOfBytes ?? 32));
    return { KeyId: KEY_ARN, Plaintext: key, CiphertextBlob: new Uint8Array(key) };
  },
  async decrypt(args: { CiphertextBlob: Uint8Array }) {
    return { KeyId: KEY_ARN, Plaintext: new Uint8Array(args.CiphertextBlob) };
  },
  async encrypt() {
    throw new Error('unused');
  },
} as unknown as EsdkKmsClient;

const keyring = telemetryKmsKeyring({ keyId: KEY_ARN, client: kmsStub });
const encryptor = createTelemetryEncryptor({
  materials: createTelemetryMaterialsManager(keyring, { capacity: 2, maxAgeMs: 3_600_000 }),
});
const { envelope } = await encryptor.encrypt({ thingName: THING, kind: 'telemetry', data: reading });
const event = { ...envelope, thingName: THING, topicKind: 'telemetry' };

const deps: IngestDeps = {
  decryptor: createTelemetryDecryptor({ keyring }),
  telemetry: {
    async put() {
      return 'stored';
    },
  },
  commands: {
    async applyResult() {
      return 'applied';
    },
  },
  now: () => new Date(),
  ttlDays: 30,
  maxPayloadBytes: 65_536,
};
const esdkDeps: IngestDeps = {
  ...deps,
  decryptor: createEsdkTelemetryDecryptor({ materials: createTelemetryMaterialsManager(keyring) }),
};
await ingestMessage(event, deps); // warm the data-key caches
await ingestMessage(event, esdkDeps);

const key = randomBytes(32);
const iv = randomBytes(12);
const cipher = createCipheriv('aes-256-gcm', key, iv);
const body = Buffer.concat([cipher.update(JSON.stringify(reading)), cipher.final()]);
const tag = cipher.getAuthTag();
const bare = { ...event, esdk: body.toString('base64') };

describe('telemetry-ingest per message (zero-latency KMS and DynamoDB stubs)', () => {
  bench('bare AES-256-GCM decrypt + JSON.parse (baseline)', () => {
    const d = createDecipheriv('aes-256-gcm', key, iv);
    d.setAuthTag(tag);
    JSON.parse(Buffer.concat([d.update(Buffer.from(bare.esdk, 'base64')), d.final()]).toString('utf8'));
  });

  bench('ingestMessage: parse + in-process decrypt (cached data key) + schema + store', async () => {
    const outcome = await ingestMessage(event, deps);
    if (outcome.result !== 'stored') throw new Error(`unexpected ${outcome.result}`);
  });

  bench('ingestMessage: parse + ESDK reference decrypt (cached data key) + schema + store', async () => {
    const outcome = await ingestMessage(event, esdkDeps);
    if (outcome.result !== 'stored') throw new Error(`unexpected ${outcome.result}`);
  });
});

/**
 * Cloud-side decrypt cost per message with a cached data key, beside bare AES-256-GCM decrypt + JSON.parse of the
 * same plaintext, in the same run. Run: `pnpm bench --project @cv/crypto` (or `pnpm vitest bench --run --project @cv/crypto`).
 */
import { createCipheriv, createDecipheriv, randomBytes, randomUUID } from 'node:crypto';
import {
  buildClient,
  CommitmentPolicy,
  RawAesKeyringNode,
  RawAesWrappingSuiteIdentifier,
} from '@aws-crypto/client-node';
import { bench, describe } from 'vitest';
import {
  createTelemetryDecryptor,
  createTelemetryEncryptor,
  createTelemetryMaterialsManager,
  parseTelemetryEnvelope,
} from '../src/telemetry/index.js';

const thing = '1HGCM82633A004352_gw-01';
const reading = {
  status: { speedKmh: 87.5, odometerKm: 123456.7, fuelPercent: 61, doorsLocked: true, ignition: 'ON' },
  location: { lat: 48.137154, lon: 11.576124, headingDeg: 271.5, accuracyM: 4.2 },
};
const keyring = new RawAesKeyringNode({
  keyNamespace: 'cv-bench',
  keyName: 'telemetry',
  unencryptedMasterKey: new Uint8Array(randomBytes(32)),
  wrappingSuite: RawAesWrappingSuiteIdentifier.AES256_GCM_IV12_TAG16_NO_PADDING,
});
const encryptor = createTelemetryEncryptor({ materials: keyring });
const decryptor = createTelemetryDecryptor({ materials: createTelemetryMaterialsManager(keyring) });
const { payload } = await encryptor.encrypt({
  thingName: thing,
  kind: 'telemetry',
  data: reading,
  messageId: randomUUID(),
});
const expected = { thing, kind: 'telemetry' as const };
await decryptor.decrypt(parseTelemetryEnvelope(payload), expected); // warm the data-key cache

// Reference: the Encryption SDK alone (same caching materials manager kind, no envelope or context checks).
const sdk = buildClient(CommitmentPolicy.REQUIRE_ENCRYPT_REQUIRE_DECRYPT);
const sdkMaterials = createTelemetryMaterialsManager(keyring);
const esdkBytes = Buffer.from(parseTelemetryEnvelope(payload).esdk, 'base64');
await sdk.decrypt(sdkMaterials, esdkBytes);

// Baseline: the same plaintext under bare AES-256-GCM, base64 in a JSON envelope like the real one.
const key = randomBytes(32);
const iv = randomBytes(12);
const cipher = createCipheriv('aes-256-gcm', key, iv);
const body = Buffer.concat([cipher.update(JSON.stringify(reading)), cipher.final()]);
const tag = cipher.getAuthTag();
const barePayload = JSON.stringify({
  v: 1,
  messageId: randomUUID(),
  sentAt: new Date().toISOString(),
  c: body.toString('base64'),
});

describe('telemetry decrypt per message', () => {
  bench('bare AES-256-GCM decrypt + JSON.parse (baseline)', () => {
    const env = JSON.parse(barePayload) as { c: string };
    const d = createDecipheriv('aes-256-gcm', key, iv);
    d.setAuthTag(tag);
    JSON.parse(Buffer.concat([d.update(Buffer.from(env.c, 'base64')), d.final()]).toString('utf8'));
  });

  bench('AWS Encryption SDK decrypt alone (cached data key) + JSON.parse', async () => {
    const { plaintext } = await sdk.decrypt(sdkMaterials, esdkBytes);
    JSON.parse(plaintext.toString('utf8'));
  });

  bench('@cv/crypto telemetry: parse envelope + ESDK decrypt (cached data key) + JSON.parse', async () => {
    await decryptor.decrypt(parseTelemetryEnvelope(payload), expected);
  });
});

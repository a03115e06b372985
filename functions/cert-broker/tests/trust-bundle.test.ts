import { GetParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { beforeEach, describe, expect, it } from 'vitest';
import { SsmTrustBundle } from '../src/adapters/trust-bundle.js';
import { type AnyStub, mockAws } from './helpers/mock.js';

const NAME = '/cv-security/dev/attestation-trust-bundle';
const PEM_A = '-----BEGIN CERTIFICATE-----\nA\n-----END CERTIFICATE-----\n';
const PEM_B = '-----BEGIN CERTIFICATE-----\nB\n-----END CERTIFICATE-----\n';

let ssm: AnyStub;
let now = 0;
const bundle = () =>
  new SsmTrustBundle(new SSMClient({ region: 'eu-west-1' }), NAME, {
    ttlMs: 60_000,
    maxStaleMs: 600_000,
    now: () => now,
  });

beforeEach(() => {
  ssm = mockAws(SSMClient);
  now = 1_000_000;
});

describe('SsmTrustBundle', () => {
  it('reads the parameter with decryption once per TTL', async () => {
    ssm
      .on(GetParameterCommand as never)
      .resolvesOnce({ Parameter: { Value: PEM_A } })
      .resolves({ Parameter: { Value: PEM_B } });
    const source = bundle();

    const first = await source.get();
    now += 59_000;
    const cached = await source.get();
    now += 2_000;
    const refreshed = await source.get();

    expect([first, cached, refreshed]).toEqual([PEM_A, PEM_A, PEM_B]);
    expect(source.fetches).toBe(2);
    expect(ssm.calls()[0]?.args[0].input).toEqual({ Name: NAME, WithDecryption: true });
  });

  it('shares one request between concurrent cold callers', async () => {
    ssm.on(GetParameterCommand as never).resolves({ Parameter: { Value: PEM_A } });
    const source = bundle();

    const results = await Promise.all([source.get(), source.get(), source.get()]);

    expect(results).toEqual([PEM_A, PEM_A, PEM_A]);
    expect(source.fetches).toBe(1);
  });

  it('serves the previous bundle while SSM fails, up to maxStale, then fails', async () => {
    ssm
      .on(GetParameterCommand as never)
      .resolvesOnce({ Parameter: { Value: PEM_A } })
      .rejects(new Error('ThrottlingException'));
    const source = bundle();
    await source.get();

    now += 120_000;
    await expect(source.get()).resolves.toBe(PEM_A);
    now += 600_000;
    await expect(source.get()).rejects.toThrow('ThrottlingException');
  });

  it('refuses an empty parameter', async () => {
    ssm.on(GetParameterCommand as never).resolves({ Parameter: { Value: '' } });

    await expect(bundle().get()).rejects.toThrow(/empty/);
  });
});

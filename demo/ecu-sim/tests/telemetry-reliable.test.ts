/**
 * `sendTelemetryReliably` keeps its promise through a failed reconnect: a reconnect that fails is
 * one more failed attempt (backed off like the others), never the end of the send, and the same
 * envelope is resent once connected.
 */
import { describe, expect, it, vi } from 'vitest';
import type { RetryPolicy } from '../src/index.js';
import { offlineEcu } from './offline-ecu.js';

const gateway = { url: 'mqtts://127.0.0.1:1', serverCaPem: 'server CA (not read: connect is replaced)' };

function simulator() {
  const ecu = offlineEcu('TELEMATICS-1');
  const internals = ecu as unknown as {
    encryptor: { encrypt: (input: unknown) => Promise<{ payload: Buffer }> };
    client: unknown;
  };
  // The envelope's encryption is the Encryption SDK's (tested elsewhere); here one fixed envelope.
  internals.encryptor = { encrypt: async () => ({ payload: Buffer.from('envelope-1') }) };
  const published: string[] = [];
  const online = () => {
    internals.client = {
      connected: true,
      publishAsync: async (_topic: string, payload: Buffer) => {
        published.push(payload.toString());
      },
      endAsync: async () => undefined,
    };
  };
  return { ecu, online, published };
}

const policy = (retries: string[]): RetryPolicy => ({
  attempts: 4,
  baseDelayMs: 10,
  maxDelayMs: 100,
  sleep: async () => undefined,
  onRetry: (what) => retries.push(what),
});

describe('sendTelemetryReliably', () => {
  it('treats a failed reconnect as one more attempt and sends the same envelope once connected', async () => {
    const { ecu, online, published } = simulator();
    let connects = 0;
    vi.spyOn(ecu, 'connect').mockImplementation(async () => {
      connects += 1;
      if (connects < 3) throw new Error('connect ETIMEDOUT');
      online();
      return true;
    });
    const retries: string[] = [];

    await ecu.sendTelemetryReliably({ status: { speedKmh: 50 } }, gateway, policy(retries));

    expect(connects).toBe(3);
    expect(retries).toEqual(['publish', 'publish', 'publish']);
    expect(published).toEqual(['envelope-1']);
    expect(ecu.telemetrySent).toBe(1);
  });

  it('gives up after its attempts when every reconnect fails, having sent nothing', async () => {
    const { ecu, published } = simulator();
    const connect = vi.spyOn(ecu, 'connect').mockRejectedValue(new Error('connect ECONNREFUSED'));
    const retries: string[] = [];

    await expect(ecu.sendTelemetryReliably({ status: {} }, gateway, policy(retries))).rejects.toThrow(
      'not connected',
    );

    expect(connect).toHaveBeenCalledTimes(3);
    expect(retries).toHaveLength(3);
    expect(published).toEqual([]);
    expect(ecu.telemetrySent).toBe(0);
  });
});

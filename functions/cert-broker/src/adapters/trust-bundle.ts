import { GetParameterCommand, type SSMClient } from '@aws-sdk/client-ssm';
import type { TrustBundleSource } from '../ports.js';

/** A trust bundle given inline (ATTESTATION_TRUST_BUNDLE). */
export class StaticTrustBundle implements TrustBundleSource {
  constructor(private readonly pem: string) {}
  async get(): Promise<string> {
    return this.pem;
  }
}

/**
 * A trust bundle held in an SSM parameter (ATTESTATION_TRUST_BUNDLE_PARAM), read with
 * decryption and cached for `ttlMs`. Concurrent misses share one request; a failed
 * refresh keeps serving the previous bundle until it is `maxStaleMs` old.
 */
export class SsmTrustBundle implements TrustBundleSource {
  private cached: { pem: string; fetchedAt: number } | undefined;
  private inflight: Promise<string> | undefined;
  /** Number of GetParameter calls made (exposed for tests and metrics). */
  fetches = 0;

  constructor(
    private readonly client: SSMClient,
    private readonly parameterName: string,
    private readonly options: { ttlMs: number; maxStaleMs: number; now?: () => number },
  ) {}

  async get(): Promise<string> {
    const now = (this.options.now ?? Date.now)();
    if (this.cached && now - this.cached.fetchedAt < this.options.ttlMs) return this.cached.pem;
    this.inflight ??= this.fetch(now).finally(() => {
      this.inflight = undefined;
    });
    try {
      return await this.inflight;
    } catch (error) {
      if (this.cached && now - this.cached.fetchedAt < this.options.maxStaleMs) return this.cached.pem;
      throw error;
    }
  }

  private async fetch(now: number): Promise<string> {
    this.fetches += 1;
    const out = await this.client.send(
      new GetParameterCommand({ Name: this.parameterName, WithDecryption: true }),
    );
    const pem = out.Parameter?.Value;
    if (!pem) throw new Error(`SSM parameter ${this.parameterName} is empty`);
    this.cached = { pem, fetchedAt: now };
    return pem;
  }
}

import { type EcuRole, iotPolicyName, renderIotPolicy } from '@cv/policy';
import type { IotControlPlane } from './ports.js';

/**
 * The role policies known to exist, per container: at most one GetPolicy (and one
 * CreatePolicy the very first time in the account) per role and container, never a
 * policy per device. Bounded by the number of roles.
 */
export class RolePolicies {
  private readonly ensured = new Set<string>();

  constructor(
    private readonly iot: IotControlPlane,
    private readonly options: { prefix: string; region: string; accountId: string; roleAlias: string },
  ) {}

  /** The role's policy name (no call: a certificate that already has the policy needs no check). */
  nameOf(role: EcuRole): string {
    return iotPolicyName(role, { prefix: this.options.prefix });
  }

  /** The role's policy name, after making sure the policy exists. */
  async ensure(role: EcuRole): Promise<string> {
    const name = this.nameOf(role);
    if (this.ensured.has(name)) return name;
    if (!(await this.iot.policyExists(name))) {
      const document = renderIotPolicy(role, {
        region: this.options.region,
        accountId: this.options.accountId,
        roleAlias: this.options.roleAlias,
      });
      await this.iot.createPolicy(name, JSON.stringify(document));
    }
    this.ensured.add(name);
    return name;
  }

  /** Number of policies known to exist (a metric). */
  get size(): number {
    return this.ensured.size;
  }
}

/**
 * CA certificates (the OCSP issuer) by CA certificate id, cached with a TTL: a CA
 * certificate never changes for a given id, the TTL only bounds how long a deleted CA is
 * still used. Bounded to `maxEntries`.
 */
export class CaCertificates {
  private readonly entries = new Map<string, { pem: string; fetchedAt: number }>();

  constructor(
    private readonly iot: Pick<IotControlPlane, 'describeCaCertificate'>,
    private readonly options: { ttlMs: number; maxEntries: number; now?: () => number },
  ) {}

  async pem(caCertificateId: string): Promise<string> {
    const now = (this.options.now ?? Date.now)();
    const hit = this.entries.get(caCertificateId);
    if (hit && now - hit.fetchedAt < this.options.ttlMs) return hit.pem;
    const pem = await this.iot.describeCaCertificate(caCertificateId);
    this.entries.delete(caCertificateId);
    this.entries.set(caCertificateId, { pem, fetchedAt: now });
    while (this.entries.size > this.options.maxEntries) {
      const oldest = this.entries.keys().next().value;
      if (oldest === undefined) break;
      this.entries.delete(oldest);
    }
    return pem;
  }
}

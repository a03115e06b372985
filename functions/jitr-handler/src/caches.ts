import { type EcuRole, iotPolicyName } from '@cv/policy';
import type { IotControlPlane } from './ports.js';

/**
 * The role policies. The stack creates one per role (serverless/resources/ecu-policies.yml,
 * generated from `@cv/policy`); this function only attaches them and never creates a policy, so its
 * role has no `iot:CreatePolicy`/`iot:GetPolicy`. A policy the stack did not create makes
 * {@link attach} throw `PolicyNotFoundError`: the invocation fails, the certificate stays
 * `PENDING_ACTIVATION` and the event is retried (then dead-lettered) until the stack is fixed.
 */
export class RolePolicies {
  constructor(private readonly options: { prefix: string }) {}

  /** The role's policy name (no call: a certificate that already has the policy needs no check). */
  nameOf(role: EcuRole): string {
    return iotPolicyName(role, { prefix: this.options.prefix });
  }

  /** Attaches the role's policy to the certificate (one AttachPolicy) and returns its name. */
  async attach(
    iot: Pick<IotControlPlane, 'attachPolicy'>,
    role: EcuRole,
    certificateArn: string,
  ): Promise<string> {
    const name = this.nameOf(role);
    await iot.attachPolicy(name, certificateArn);
    return name;
  }
}

/**
 * CA certificates (the OCSP issuer) by CA certificate id, cached with a TTL: a CA
 * certificate never changes for a given id, the TTL only bounds how long a deleted CA is
 * still used. Bounded to `maxEntries`. A CA whose PEM the configuration gives (`pinned`, from
 * the stack: `OPERATIONAL_CA_CERTIFICATE_PEM`) is never described.
 */
export class CaCertificates {
  private readonly entries = new Map<string, { pem: string; fetchedAt: number }>();

  constructor(
    private readonly iot: Pick<IotControlPlane, 'describeCaCertificate'>,
    private readonly options: {
      ttlMs: number;
      maxEntries: number;
      now?: () => number;
      pinned?: { readonly caCertificateId: string; readonly pem: string } | undefined;
    },
  ) {}

  async pem(caCertificateId: string): Promise<string> {
    const pinned = this.options.pinned;
    if (pinned !== undefined && pinned.caCertificateId === caCertificateId) return pinned.pem;
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

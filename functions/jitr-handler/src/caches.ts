import { type EcuRole, iotPolicyName, renderIotPolicy } from '@cv/policy';
import { PolicyNotFoundError } from './errors.js';
import type { IotControlPlane } from './ports.js';

/**
 * The role policies known to exist, per container. The stack creates them
 * (serverless/resources/cert-lifecycle.yml); {@link attach} attaches first and only when IoT
 * answers that the policy does not exist does it fall back to the run-time path: one GetPolicy
 * (and CreatePolicy) per role and container, never a policy per device. Bounded by the number
 * of roles.
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

  /**
   * Attaches the role's policy to the certificate and returns its name: one AttachPolicy when the policy
   * exists; when it does not (a stack without it), the policy is created from `@cv/policy` and attached again.
   */
  async attach(role: EcuRole, certificateArn: string): Promise<string> {
    const name = this.nameOf(role);
    if (!this.ensured.has(name)) {
      try {
        await this.iot.attachPolicy(name, certificateArn);
        this.ensured.add(name);
        return name;
      } catch (error) {
        if (!(error instanceof PolicyNotFoundError)) throw error;
      }
      await this.ensure(role);
    }
    await this.iot.attachPolicy(name, certificateArn);
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

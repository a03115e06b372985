import {
  AttachPolicyCommand,
  AttachThingPrincipalCommand,
  CreateThingCommand,
  DescribeCACertificateCommand,
  DescribeCertificateCommand,
  DescribeThingCommand,
  DetachPolicyCommand,
  DetachThingPrincipalCommand,
  GetEffectivePoliciesCommand,
  type IoTClient,
  ListThingPrincipalsCommand,
  ResourceAlreadyExistsException,
  ResourceNotFoundException,
  UpdateCertificateCommand,
} from '@aws-sdk/client-iot';
import { CertificateDescriptionError, PolicyNotFoundError, ThingConflictError } from '../errors.js';
import type { CertificateDescription, IotControlPlane, ThingAttributes } from '../ports.js';
import { type RetryOptions, withRetry } from '../retry.js';

/**
 * AWS IoT control plane. Each call goes through the SDK's adaptive retries and, on top,
 * a bounded retry with jittered backoff for throttling (JITR bursts hit IoT's per-account
 * TPS limits when a fleet enrols at once).
 */
export class AwsIotControlPlane implements IotControlPlane {
  /** Control-plane calls made by this adapter, by command (a measured figure). */
  readonly calls = new Map<string, number>();

  constructor(
    private readonly client: IoTClient,
    private readonly retry: RetryOptions,
  ) {}

  private async send<T>(name: string, fn: () => Promise<T>): Promise<T> {
    return withRetry(() => {
      this.calls.set(name, (this.calls.get(name) ?? 0) + 1);
      return fn();
    }, this.retry);
  }

  async describeCertificate(certificateId: string): Promise<CertificateDescription> {
    const out = await this.send('DescribeCertificate', () =>
      this.client.send(new DescribeCertificateCommand({ certificateId })),
    );
    const d = out.certificateDescription;
    if (!d) throw new CertificateDescriptionError(certificateId, 'empty description');
    return {
      certificateId,
      certificateArn: d.certificateArn ?? '',
      caCertificateId: d.caCertificateId,
      status: d.status ?? '',
      certificatePem: d.certificatePem ?? '',
    };
  }

  async describeCaCertificate(caCertificateId: string): Promise<string> {
    const out = await this.send('DescribeCACertificate', () =>
      this.client.send(new DescribeCACertificateCommand({ certificateId: caCertificateId })),
    );
    const pem = out.certificateDescription?.certificatePem;
    if (!pem) throw new CertificateDescriptionError(caCertificateId, 'CA certificate has no PEM');
    return pem;
  }

  async setCertificateStatus(
    certificateId: string,
    status: 'ACTIVE' | 'INACTIVE' | 'REVOKED',
  ): Promise<void> {
    await this.send('UpdateCertificate', () =>
      this.client.send(new UpdateCertificateCommand({ certificateId, newStatus: status })),
    );
  }

  async ensureThing(thingName: string, attributes: ThingAttributes): Promise<'created' | 'existed'> {
    const wanted = { vin: attributes.vin, ecuId: attributes.ecuId, role: attributes.role };
    try {
      // IoT answers success when the thing exists with the same configuration.
      await this.send('CreateThing', () =>
        this.client.send(new CreateThingCommand({ thingName, attributePayload: { attributes: wanted } })),
      );
      return 'created';
    } catch (error) {
      if (!(error instanceof ResourceAlreadyExistsException)) throw error;
    }
    await this.checkThing(thingName, attributes);
    return 'existed';
  }

  async checkThing(thingName: string, attributes: ThingAttributes): Promise<void> {
    const wanted = { vin: attributes.vin, ecuId: attributes.ecuId, role: attributes.role };
    const existing = await this.send('DescribeThing', () =>
      this.client.send(new DescribeThingCommand({ thingName })),
    );
    const attrs = existing.attributes ?? {};
    for (const [key, value] of Object.entries(wanted)) {
      if (attrs[key] !== value) throw new ThingConflictError(thingName, `attribute ${key}`);
    }
  }

  async attachPolicy(policyName: string, certificateArn: string): Promise<void> {
    try {
      await this.send('AttachPolicy', () =>
        this.client.send(new AttachPolicyCommand({ policyName, target: certificateArn })),
      );
    } catch (error) {
      // The policy (not created by the stack), or the certificate, does not exist: fail the invocation.
      if (error instanceof ResourceNotFoundException) throw new PolicyNotFoundError(policyName);
      throw error;
    }
  }

  async attachThingPrincipalExclusive(thingName: string, certificateArn: string): Promise<void> {
    await this.send('AttachThingPrincipal', () =>
      this.client.send(
        new AttachThingPrincipalCommand({
          thingName,
          principal: certificateArn,
          thingPrincipalType: 'EXCLUSIVE_THING',
        }),
      ),
    );
  }

  async listThingPrincipals(thingName: string): Promise<string[] | undefined> {
    const principals: string[] = [];
    let nextToken: string | undefined;
    do {
      const token = nextToken;
      let out: { principals?: string[]; nextToken?: string };
      try {
        out = await this.send('ListThingPrincipals', () =>
          this.client.send(new ListThingPrincipalsCommand({ thingName, maxResults: 100, nextToken: token })),
        );
      } catch (error) {
        if (error instanceof ResourceNotFoundException) return undefined;
        throw error;
      }
      principals.push(...(out.principals ?? []));
      nextToken = out.nextToken || undefined;
    } while (nextToken !== undefined);
    return principals;
  }

  async certificatePolicyNames(certificateArn: string): Promise<string[]> {
    // Without a thing name, the policies attached to the certificate itself (no thing groups).
    const out = await this.send('GetEffectivePolicies', () =>
      this.client.send(new GetEffectivePoliciesCommand({ principal: certificateArn })),
    );
    return (out.effectivePolicies ?? []).flatMap((p) => (p.policyName ? [p.policyName] : []));
  }

  async certificateStatus(certificateId: string): Promise<string | undefined> {
    try {
      const out = await this.send('DescribeCertificate', () =>
        this.client.send(new DescribeCertificateCommand({ certificateId })),
      );
      return out.certificateDescription?.status ?? '';
    } catch (error) {
      if (error instanceof ResourceNotFoundException) return undefined;
      throw error;
    }
  }

  async detachPolicy(policyName: string, certificateArn: string): Promise<void> {
    try {
      await this.send('DetachPolicy', () =>
        this.client.send(new DetachPolicyCommand({ policyName, target: certificateArn })),
      );
    } catch (error) {
      if (!(error instanceof ResourceNotFoundException)) throw error;
    }
  }

  async detachThingPrincipal(thingName: string, principal: string): Promise<void> {
    try {
      await this.send('DetachThingPrincipal', () =>
        this.client.send(new DetachThingPrincipalCommand({ thingName, principal })),
      );
    } catch (error) {
      if (!(error instanceof ResourceNotFoundException)) throw error;
    }
  }
}

import {
  AddThingToThingGroupCommand,
  AttachPolicyCommand,
  CreateJobCommand,
  CreatePolicyVersionCommand,
  DeletePolicyVersionCommand,
  DescribeCertificateCommand,
  GetPolicyCommand,
  type IoTClient,
  ListPolicyVersionsCommand,
  ListPrincipalThingsCommand,
  ListTargetsForPolicyCommand,
  ListThingGroupsForThingCommand,
  ListThingPrincipalsCommand,
  ResourceAlreadyExistsException,
  ResourceNotFoundException,
  UpdateCertificateCommand,
} from '@aws-sdk/client-iot';
import type { IotPolicyVersion, IotPort } from '../ports.js';

/** Where the ARNs this adapter builds live. */
export interface AwsLocation {
  partition: string;
  region: string;
  accountId: string;
}

const MAX_PAGES = 20;

/** {@link IotPort} on the AWS IoT control plane. */
export class IotAdapter implements IotPort {
  constructor(
    private readonly client: IoTClient,
    private readonly where: AwsLocation,
  ) {}

  private arn(resource: string): string {
    const { partition, region, accountId } = this.where;
    return `arn:${partition}:iot:${region}:${accountId}:${resource}`;
  }

  async thingsForCertificate(certificateId: string): Promise<string[]> {
    const things: string[] = [];
    let nextToken: string | undefined;
    try {
      for (let page = 0; page < MAX_PAGES; page++) {
        const out = await this.client.send(
          new ListPrincipalThingsCommand({ principal: this.arn(`cert/${certificateId}`), nextToken }),
        );
        things.push(...(out.things ?? []));
        nextToken = out.nextToken;
        if (!nextToken) break;
      }
    } catch (error) {
      if (error instanceof ResourceNotFoundException) return [];
      throw error;
    }
    return things;
  }

  async certificatesForThing(thingName: string): Promise<string[]> {
    const certificates: string[] = [];
    let nextToken: string | undefined;
    try {
      for (let page = 0; page < MAX_PAGES; page++) {
        const out = await this.client.send(new ListThingPrincipalsCommand({ thingName, nextToken }));
        for (const principal of out.principals ?? []) {
          const id = /:cert\/([0-9a-f]{64})$/.exec(principal)?.[1];
          if (id !== undefined) certificates.push(id);
        }
        nextToken = out.nextToken;
        if (!nextToken) break;
      }
    } catch (error) {
      if (error instanceof ResourceNotFoundException) return [];
      throw error;
    }
    return certificates;
  }

  async thingGroupsOf(thingName: string): Promise<string[]> {
    const groups: string[] = [];
    let nextToken: string | undefined;
    for (let page = 0; page < MAX_PAGES; page++) {
      const out = await this.client.send(new ListThingGroupsForThingCommand({ thingName, nextToken }));
      for (const g of out.thingGroups ?? []) if (g.groupName) groups.push(g.groupName);
      nextToken = out.nextToken;
      if (!nextToken) break;
    }
    return groups;
  }

  async addThingToGroup(thingName: string, groupName: string): Promise<void> {
    // overrideDynamicGroups: quarantine must win over dynamic groups at the 10-groups-per-thing limit.
    await this.client.send(
      new AddThingToThingGroupCommand({ thingName, thingGroupName: groupName, overrideDynamicGroups: true }),
    );
  }

  async groupHasPolicy(policyName: string, groupName: string): Promise<boolean> {
    // ListTargetsForPolicy is authorised on the policy (ListAttachedPolicies has no resource type in IAM).
    const group = this.arn(`thinggroup/${groupName}`);
    let marker: string | undefined;
    for (let page = 0; page < MAX_PAGES; page++) {
      const out = await this.client.send(new ListTargetsForPolicyCommand({ policyName, marker }));
      if ((out.targets ?? []).includes(group)) return true;
      marker = out.nextMarker;
      if (!marker) break;
    }
    return false;
  }

  async attachPolicyToGroup(policyName: string, groupName: string): Promise<void> {
    await this.client.send(
      new AttachPolicyCommand({ policyName, target: this.arn(`thinggroup/${groupName}`) }),
    );
  }

  async describeCertificate(certificateId: string): Promise<{ status: string; pem: string } | undefined> {
    try {
      const out = await this.client.send(new DescribeCertificateCommand({ certificateId }));
      const d = out.certificateDescription;
      return { status: d?.status ?? 'UNKNOWN', pem: d?.certificatePem ?? '' };
    } catch (error) {
      if (error instanceof ResourceNotFoundException) return undefined;
      throw error;
    }
  }

  async setCertificateStatus(certificateId: string, status: 'INACTIVE' | 'REVOKED'): Promise<void> {
    await this.client.send(new UpdateCertificateCommand({ certificateId, newStatus: status }));
  }

  async createJob(job: {
    jobId: string;
    thingNames: string[];
    document: string;
    description: string;
  }): Promise<'created' | 'exists'> {
    try {
      await this.client.send(
        new CreateJobCommand({
          jobId: job.jobId,
          targets: job.thingNames.map((t) => this.arn(`thing/${t}`)),
          document: job.document,
          description: job.description,
          targetSelection: 'SNAPSHOT',
        }),
      );
      return 'created';
    } catch (error) {
      if (error instanceof ResourceAlreadyExistsException) return 'exists';
      throw error;
    }
  }

  async getPolicy(policyName: string): Promise<{ defaultVersionId: string; document: string }> {
    const out = await this.client.send(new GetPolicyCommand({ policyName }));
    return { defaultVersionId: out.defaultVersionId ?? '', document: out.policyDocument ?? '' };
  }

  async listPolicyVersions(policyName: string): Promise<IotPolicyVersion[]> {
    const out = await this.client.send(new ListPolicyVersionsCommand({ policyName }));
    return (out.policyVersions ?? []).flatMap((v) =>
      v.versionId === undefined
        ? []
        : [
            {
              versionId: v.versionId,
              isDefault: v.isDefaultVersion === true,
              ...(v.createDate === undefined ? {} : { createdAt: v.createDate }),
            },
          ],
    );
  }

  async deletePolicyVersion(policyName: string, versionId: string): Promise<void> {
    try {
      await this.client.send(new DeletePolicyVersionCommand({ policyName, policyVersionId: versionId }));
    } catch (error) {
      if (error instanceof ResourceNotFoundException) return;
      throw error;
    }
  }

  async createDefaultPolicyVersion(policyName: string, document: string): Promise<{ versionId: string }> {
    const out = await this.client.send(
      new CreatePolicyVersionCommand({ policyName, policyDocument: document, setAsDefault: true }),
    );
    return { versionId: out.policyVersionId ?? '' };
  }
}

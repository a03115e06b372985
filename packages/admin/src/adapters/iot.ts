import {
  DescribeCertificateCommand,
  type IoTClient,
  ListThingGroupsForThingCommand,
  ListThingPrincipalsCommand,
  RemoveThingFromThingGroupCommand,
  ResourceNotFoundException,
} from '@aws-sdk/client-iot';
import type { DeviceCertificatesPort, QuarantinePort } from '../ports.js';

const MAX_PAGES = 20;
const CERTIFICATE_ARN = /:cert\/([0-9a-f]{64})$/;

/** The ids of the certificates attached to a thing (every page); none when the thing does not exist. */
export async function certificateIdsOf(client: IoTClient, thingName: string): Promise<string[]> {
  const ids: string[] = [];
  let nextToken: string | undefined;
  try {
    for (let page = 0; page < MAX_PAGES; page++) {
      const out = await client.send(new ListThingPrincipalsCommand({ thingName, nextToken }));
      for (const principal of out.principals ?? []) {
        const id = CERTIFICATE_ARN.exec(principal)?.[1];
        if (id !== undefined) ids.push(id);
      }
      nextToken = out.nextToken;
      if (!nextToken) break;
    }
  } catch (error) {
    if (error instanceof ResourceNotFoundException) return [];
    throw error;
  }
  return ids;
}

/** {@link QuarantinePort} and {@link DeviceCertificatesPort} on the AWS IoT control plane. */
export class IotQuarantine implements QuarantinePort, DeviceCertificatesPort {
  constructor(
    private readonly client: IoTClient,
    private readonly quarantineGroup: string,
  ) {}

  async isQuarantined(thingName: string): Promise<boolean> {
    let nextToken: string | undefined;
    try {
      for (let page = 0; page < MAX_PAGES; page++) {
        const out = await this.client.send(new ListThingGroupsForThingCommand({ thingName, nextToken }));
        if ((out.thingGroups ?? []).some((g) => g.groupName === this.quarantineGroup)) return true;
        nextToken = out.nextToken;
        if (!nextToken) break;
      }
    } catch (error) {
      if (error instanceof ResourceNotFoundException) return false;
      throw error;
    }
    return false;
  }

  async release(thingName: string): Promise<void> {
    await this.client.send(
      new RemoveThingFromThingGroupCommand({ thingName, thingGroupName: this.quarantineGroup }),
    );
  }

  async certificatesOf(thingName: string): Promise<{ certificateId: string; status: string }[]> {
    const ids = await certificateIdsOf(this.client, thingName);
    const certificates: { certificateId: string; status: string }[] = [];
    for (const certificateId of ids) {
      try {
        const out = await this.client.send(new DescribeCertificateCommand({ certificateId }));
        certificates.push({ certificateId, status: out.certificateDescription?.status ?? 'UNKNOWN' });
      } catch (error) {
        if (!(error instanceof ResourceNotFoundException)) throw error;
      }
    }
    return certificates;
  }
}

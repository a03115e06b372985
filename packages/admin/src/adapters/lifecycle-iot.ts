import { X509Certificate } from 'node:crypto';
import {
  AddThingToThingGroupCommand,
  DeleteThingCommand,
  DescribeCertificateCommand,
  DetachThingPrincipalCommand,
  type IoTClient,
  ResourceNotFoundException,
  UpdateCertificateCommand,
} from '@aws-sdk/client-iot';
import type { DeviceCertificate, EcuDevicePort } from '../lifecycle/ports.js';
import { certificateIdsOf, IotQuarantine } from './iot.js';

const gone = (error: unknown) => error instanceof ResourceNotFoundException;

/** {@link EcuDevicePort} on the AWS IoT control plane; "not found" is "already done". */
export class IotEcuDevices implements EcuDevicePort {
  private readonly quarantineGroupOf: IotQuarantine;
  constructor(
    private readonly client: IoTClient,
    private readonly quarantineGroup: string,
  ) {
    this.quarantineGroupOf = new IotQuarantine(client, quarantineGroup);
  }

  principalsOf(thingName: string): Promise<string[]> {
    return certificateIdsOf(this.client, thingName);
  }

  async certificate(certificateId: string): Promise<DeviceCertificate | undefined> {
    try {
      const out = await this.client.send(new DescribeCertificateCommand({ certificateId }));
      const pem = out.certificateDescription?.certificatePem;
      if (pem === undefined) return undefined;
      return {
        certificateId,
        status: out.certificateDescription?.status ?? 'UNKNOWN',
        serialHex: new X509Certificate(pem).serialNumber,
      };
    } catch (error) {
      if (gone(error)) return undefined;
      throw error;
    }
  }

  async setCertificateStatus(certificateId: string, status: 'INACTIVE' | 'REVOKED'): Promise<void> {
    await this.client.send(new UpdateCertificateCommand({ certificateId, newStatus: status }));
  }

  async detach(thingName: string, certificateId: string): Promise<void> {
    const principal = await this.arnOf(certificateId);
    if (principal === undefined) return;
    try {
      await this.client.send(new DetachThingPrincipalCommand({ thingName, principal }));
    } catch (error) {
      if (!gone(error)) throw error;
    }
  }

  async deleteThing(thingName: string): Promise<void> {
    try {
      await this.client.send(new DeleteThingCommand({ thingName }));
    } catch (error) {
      if (!gone(error)) throw error;
    }
  }

  async quarantine(thingName: string): Promise<boolean> {
    try {
      await this.client.send(
        new AddThingToThingGroupCommand({ thingName, thingGroupName: this.quarantineGroup }),
      );
      return true;
    } catch (error) {
      if (gone(error)) return false;
      throw error;
    }
  }

  isQuarantined(thingName: string): Promise<boolean> {
    return this.quarantineGroupOf.isQuarantined(thingName);
  }

  private async arnOf(certificateId: string): Promise<string | undefined> {
    try {
      const out = await this.client.send(new DescribeCertificateCommand({ certificateId }));
      return out.certificateDescription?.certificateArn;
    } catch (error) {
      if (gone(error)) return undefined;
      throw error;
    }
  }
}

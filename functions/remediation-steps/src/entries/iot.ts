/** The IoT client and adapter of the steps that call AWS IoT (quarantine, certificates, policies). */
import { IoTClient } from '@aws-sdk/client-iot';
import { IotAdapter } from '../adapters/iot.js';
import type { StepName } from '../config.js';
import { clientConfig, config, once } from './runtime.js';

const iotClient = once(() => new IoTClient(clientConfig));

export function iot(step: StepName): IotAdapter {
  const c = config(step);
  return new IotAdapter(iotClient(), { partition: c.partition, region: c.region, accountId: c.accountId });
}

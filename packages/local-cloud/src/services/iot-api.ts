/**
 * AWS IoT control plane on the wire (restJson1, signing name `iot`): one route module per
 * sub-service over the state of `IotService` (iot.ts).
 */
import { type Route, restRouter, type ServiceHandler } from '../wire.js';
import type { IotService } from './iot.js';
import { certificateRoutes } from './iot-certificates.js';
import { groupAndJobRoutes } from './iot-groups-jobs.js';
import { policyRoutes } from './iot-policies.js';
import { registryRoutes } from './iot-registry.js';

export function iotControlPlaneHandler(iot: IotService): ServiceHandler {
  const r = (method: string, path: string, name: string, handle: Route['handle']): Route => ({
    method,
    path,
    name,
    handle: (req, params) => {
      iot.calls.set(name, (iot.calls.get(name) ?? 0) + 1);
      return handle(req, params);
    },
  });
  return restRouter([
    ...registryRoutes(iot, r),
    ...certificateRoutes(iot, r),
    ...policyRoutes(iot, r),
    ...groupAndJobRoutes(iot, r),
  ]);
}

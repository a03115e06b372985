/** Helpers shared by the AWS IoT control plane's route modules (iot-*.ts). */
import { AwsApiError } from '../errors.js';
import type { ApiRequest, Route } from '../wire.js';

/** Builds a route that counts its calls by operation name (`IotService.calls`). */
export type IotRoute = (method: string, path: string, name: string, handle: Route['handle']) => Route;

export const param = (params: Record<string, string>, key: string): string => params[key] ?? '';

export const principalHeader = (req: ApiRequest): string => {
  const v = req.headers['x-amzn-principal'];
  if (typeof v !== 'string' || v === '')
    throw new AwsApiError('InvalidRequestException', 'principal is required');
  return v;
};

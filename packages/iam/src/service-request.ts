/** A request an AWS service makes on the platform's behalf, and the service principals that make them. */
import type { IamRequest } from './requests.js';
import { ACCOUNT, PARTITION, REGION } from './template.js';

/** One request a service makes: with a role of the template (`role`), or as the service principal (`principal`). */
export interface ServiceRequest extends IamRequest {
  /** Logical id of the role the service assumes; absent when the service principal itself makes the request. */
  role?: string;
  /** The service principal (`iot.amazonaws.com`, ...): who assumes `role`, or who makes the request. */
  principal: string;
}

export const arn = (service: string, rest: string) =>
  `arn:${PARTITION}:${service}:${REGION}:${ACCOUNT}:${rest}`;

export const SERVICE = {
  states: 'states.amazonaws.com',
  iot: 'iot.amazonaws.com',
  events: 'events.amazonaws.com',
  apigateway: 'apigateway.amazonaws.com',
  logs: `logs.${REGION}.amazonaws.com`,
};

export { IamError, TemplateResolutionError, UnmappedCallError } from './errors.js';
export { evaluate, type Principal, type Verdict } from './evaluate.js';
export { platformRequests } from './platform.js';
export {
  callsOf,
  type FunctionProof,
  type Grant,
  grantsOf,
  proveFunction,
  type RecordedCall,
  readRecordings,
  unusedGrants,
} from './proof.js';
export { type ApiCall, type IamRequest, iamRequests, impliedKms } from './requests.js';
export { proveServices, type ServiceProof, type ServiceRoleProof } from './service-proof.js';
export type { ServiceRequest } from './service-request.js';
export { serviceRequests } from './services.js';
export {
  ACCOUNT,
  type CfnTemplate,
  type LambdaFunction,
  PARTITION,
  type PolicyDocument,
  type PolicyStatement,
  REGION,
  ResolvedTemplate,
  type Role,
} from './template.js';

export { IamError, TemplateResolutionError, UnmappedCallError } from './errors.js';
export { evaluate, type Principal, type Verdict } from './evaluate.js';
export { platformRequests } from './platform.js';
export {
  callsOf,
  type FunctionProof,
  type Grant,
  proveFunction,
  type RecordedCall,
  readRecordings,
} from './proof.js';
export { type ApiCall, type IamRequest, iamRequests, impliedKms } from './requests.js';
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

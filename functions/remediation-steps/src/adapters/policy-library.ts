import {
  analyzeIotPolicy,
  type EcuRole,
  type IotPolicyContext,
  proposeLeastPrivilege,
  roleFromPolicyName,
} from '@cv/policy';
import type { PolicyAnalyzerPort } from '../ports.js';

/** {@link PolicyAnalyzerPort} on @cv/policy, for the stage's managed policies (`<prefix>-ecu-<role>`). */
export function policyLibrary(prefix: string, context: IotPolicyContext): PolicyAnalyzerPort {
  return {
    analyze: (document) => analyzeIotPolicy(document),
    roleFromPolicyName: (name) => roleFromPolicyName(name, prefix),
    proposeLeastPrivilege: (role) => proposeLeastPrivilege(role as EcuRole, context),
  };
}

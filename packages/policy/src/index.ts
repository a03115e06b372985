/**
 * @cv/policy: AWS IoT policy templates per ECU role, the quarantine policy, the IoT
 * credential provider's IAM role, and the analyzer that flags overly permissive IoT
 * policies (Device Defender's IOT_POLICY_OVERLY_PERMISSIVE_CHECK family) and IAM
 * statements (docs/architecture.md §9). Pure functions: no env, no AWS calls.
 *
 * Stable API (used by remediation `fixPolicy`, jitr-handler and the template test):
 * - {@link renderIotPolicy}, {@link iotPolicyName}, {@link roleFromPolicyName}, {@link proposeLeastPrivilege}
 * - {@link renderQuarantinePolicy}
 * - {@link renderCredentialProviderRolePolicy}, {@link renderCredentialProviderTrustPolicy},
 *   {@link renderCredentialProviderResources}
 * - {@link renderIotPolicyResources}, {@link resolveIotPolicyResources} (the stack's per-role IoT policies)
 * - {@link analyzeIotPolicy}, {@link lintIamStatements}, {@link lintCloudFormationIam}, {@link iotPolicySize}
 */
export { analyzeIotPolicy, isThingScoped, severityOf } from './analyzer.js';
export type { CredentialProviderKeys, CredentialProviderResourcesOptions } from './credential-provider.js';
export {
  CREDENTIAL_PROVIDER_PRINCIPAL,
  CREDENTIALS_THING,
  escapePolicyVariablesForCloudFormation,
  renderCredentialProviderResources,
  renderCredentialProviderRolePolicy,
  renderCredentialProviderTrustPolicy,
} from './credential-provider.js';
export * from './errors.js';
export type { IamLintOptions, IamTemplateFinding } from './iam-lint.js';
export { lintCloudFormationIam, lintIamStatements, UNSCOPABLE_ACTIONS } from './iam-lint.js';
export type {
  IotPolicyResource,
  IotPolicyResourcesOptions,
  IotPolicyResourceValues,
} from './iot-policy-resources.js';
export {
  iotPolicyLogicalId,
  renderIotPolicyResources,
  resolveIotPolicyResources,
} from './iot-policy-resources.js';
export {
  iotPolicyName,
  iotPolicySize,
  proposeLeastPrivilege,
  ROLES_WITH_SHADOW,
  renderIotPolicy,
  renderQuarantinePolicy,
  roleFromPolicyName,
  THING,
} from './iot-templates.js';
export type {
  CfnString,
  EcuRole,
  FindingSeverity,
  IamPolicyDocument,
  IamPolicyStatement,
  IotPolicyContext,
  IotPolicyDocument,
  IotPolicyStatement,
  PolicyCondition,
  PolicyFinding,
  PolicyFindingCode,
} from './types.js';
export { ECU_ROLES, IOT_POLICY_MAX_CHARS, POLICY_VERSION } from './types.js';

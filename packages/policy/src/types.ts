/** The ECU roles of docs/architecture.md §3 (`role` attribute of the ECU registry and of the IoT thing). */
export type EcuRole = 'gateway' | 'telematics' | 'infotainment' | 'adas' | 'body';

/** Every {@link EcuRole}, in a stable order. */
export const ECU_ROLES: readonly EcuRole[] = Object.freeze([
  'gateway',
  'telematics',
  'infotainment',
  'adas',
  'body',
] as const);

/** The policy language version that enables policy variables (`${...}`). */
export const POLICY_VERSION = '2012-10-17';

/** AWS IoT Core's limit on a policy document, counted without whitespace. */
export const IOT_POLICY_MAX_CHARS = 2048;

/** A condition block: operator -> condition key -> value(s). */
export type PolicyCondition = Record<string, Record<string, string | boolean | readonly string[]>>;

/** One statement of an AWS IoT policy. */
export interface IotPolicyStatement {
  Sid?: string;
  Effect: 'Allow' | 'Deny';
  Action: string | string[];
  Resource: string | string[];
  Condition?: PolicyCondition;
}

/** An AWS IoT Core policy document as rendered by this library (`JSON.stringify` it for CreatePolicy). */
export interface IotPolicyDocument {
  Version: typeof POLICY_VERSION;
  Statement: IotPolicyStatement[];
}

/**
 * A CloudFormation value: a literal string or an intrinsic function object
 * (`{ "Fn::GetAtt": [...] }`, `{ "Ref": ... }`, `{ "Fn::Sub": ... }`).
 */
export type CfnString = string | { readonly [intrinsic: string]: unknown };

/** One statement of an IAM policy (identity or trust policy); values may be CloudFormation intrinsics. */
export interface IamPolicyStatement {
  Sid?: string;
  Effect: 'Allow' | 'Deny';
  Principal?: Record<string, string | string[]>;
  Action: string | string[];
  Resource?: CfnString | CfnString[];
  Condition?: PolicyCondition;
}

/** An IAM policy document, CloudFormation-ready. */
export interface IamPolicyDocument {
  Version: typeof POLICY_VERSION;
  Statement: IamPolicyStatement[];
}

/** Where the IoT policies are rendered for. */
export interface IotPolicyContext {
  /** AWS region, e.g. `eu-west-1`. */
  region: string;
  /** 12-digit AWS account id. */
  accountId: string;
  /** Name (not ARN) of the IoT role alias of the credential provider, e.g. `cv-security-dev-ecu`. */
  roleAlias: string;
  /** ARN partition; default `aws`. */
  partition?: string;
}

/** How bad a finding is. `high`: another device's data or the account is reachable. */
export type FindingSeverity = 'high' | 'medium' | 'low';

/**
 * Codes reported by {@link analyzeIotPolicy} (IoT policies) and {@link lintIamStatements} (IAM, prefixed `IAM_`).
 * See docs/policies.md for the meaning of each.
 */
export type PolicyFindingCode =
  | 'WILDCARD_ACTION'
  | 'ALLOW_NOT_ACTION'
  | 'ALLOW_NOT_RESOURCE'
  | 'CLIENT_ID_NOT_BOUND_TO_THING'
  | 'CONNECT_WITHOUT_IS_ATTACHED'
  | 'TOPIC_NOT_THING_SCOPED'
  | 'TOPIC_FILTER_NOT_THING_SCOPED'
  | 'SHADOW_NOT_THING_SCOPED'
  | 'JOB_EXECUTION_NOT_THING_SCOPED'
  | 'RETAINED_MESSAGES_NOT_THING_SCOPED'
  | 'CONTROL_PLANE_ACTION'
  | 'ROLE_ALIAS_NOT_SCOPED'
  | 'RESOURCE_WILDCARD_ACCOUNT_OR_REGION'
  | 'POLICY_VARIABLES_NEED_VERSION_2012'
  | 'NON_IOT_ACTION'
  | 'IAM_WILDCARD_ACTION'
  | 'IAM_SERVICE_WILDCARD_ACTION'
  | 'IAM_PARTIAL_WILDCARD_ACTION'
  | 'IAM_WILDCARD_RESOURCE'
  | 'IAM_ALLOW_NOT_ACTION'
  | 'IAM_ALLOW_NOT_RESOURCE';

/** One problem found in one statement of a policy. */
export interface PolicyFinding {
  code: PolicyFindingCode;
  severity: FindingSeverity;
  /** Zero-based index of the statement in `Statement` (a single-object `Statement` is index 0). */
  statement: number;
  /** Human-readable explanation, safe to log and to put in a ticket. */
  reason: string;
  /** The action pattern the finding is about, when there is one. */
  action?: string;
  /** The resource the finding is about, when there is one. */
  resource?: string;
}

import { InvalidPolicyContextError } from './errors.js';
import type { CfnString, IamPolicyDocument } from './types.js';
import { POLICY_VERSION } from './types.js';

/** The IAM policy variable the IoT credential provider sets to the thing name of the caller. */
// biome-ignore lint/suspicious/noTemplateCurlyInString: AWS policy variable, not a JS template
export const CREDENTIALS_THING = '${credentials-iot:ThingName}';

/** Service principal of the AWS IoT credential provider. */
export const CREDENTIAL_PROVIDER_PRINCIPAL = 'credentials.iot.amazonaws.com';

/** Key ARNs (or CloudFormation intrinsics resolving to them) the ECU role may use. */
export interface CredentialProviderKeys {
  /** The symmetric `CommandEncryptionKey` (commands are KMS-encrypted to one thing). */
  commandEncryptionKeyArn: CfnString;
  /** The symmetric `TelemetryKey` (ECUs encrypt telemetry with the Encryption SDK). */
  telemetryKeyArn: CfnString;
}

function checkKey(field: string, value: unknown): CfnString {
  if (typeof value === 'string') {
    if (!/^arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{12}:key\/[A-Za-z0-9-]+$/.test(value)) {
      throw new InvalidPolicyContextError(field, 'must be a KMS key ARN (not an alias, not a wildcard)');
    }
    return value;
  }
  if (
    value !== null &&
    typeof value === 'object' &&
    !Array.isArray(value) &&
    Object.keys(value).length === 1
  ) {
    const [name] = Object.keys(value);
    if (name === 'Ref' || name?.startsWith('Fn::')) return value as CfnString;
  }
  throw new InvalidPolicyContextError(
    field,
    'must be a KMS key ARN or a CloudFormation intrinsic (Ref / Fn::*)',
  );
}

/**
 * The permissions policy of the IAM role behind the credential provider's role alias,
 * i.e. what an ECU can do with the temporary AWS credentials it gets for its certificate.
 *
 * - `kms:Decrypt` on the command encryption key, only for ciphertexts whose encryption
 *   context `aud` is the caller's own thing name (a command for another ECU cannot be
 *   decrypted), and only with the context keys the command sender uses (`aud`, `jti`).
 * - `kms:GenerateDataKey` on the telemetry key, only with encryption context `thing` equal
 *   to the caller's thing name and `kind` one of `telemetry` / `command-result`. That is
 *   all the Encryption SDK needs to encrypt with a KMS keyring holding one generator key
 *   and the committing suite without signature (no `aws-crypto-public-key` in the context).
 *   No `kms:Decrypt` on the telemetry key: ECUs never read telemetry back.
 *
 * `${credentials-iot:ThingName}` is only set when the device sends the
 * `x-amzn-iot-thingname` header to the credential provider; without it the condition
 * cannot match and KMS denies.
 *
 * @throws InvalidPolicyContextError when a key is neither a key ARN nor a CloudFormation intrinsic.
 * @example
 * ```ts
 * renderCredentialProviderRolePolicy({
 *   commandEncryptionKeyArn: { 'Fn::GetAtt': ['CommandEncryptionKey', 'Arn'] },
 *   telemetryKeyArn: { 'Fn::GetAtt': ['TelemetryKey', 'Arn'] },
 * });
 * ```
 */
export function renderCredentialProviderRolePolicy(ctx: CredentialProviderKeys): IamPolicyDocument {
  const commandKey = checkKey('commandEncryptionKeyArn', ctx.commandEncryptionKeyArn);
  const telemetryKey = checkKey('telemetryKeyArn', ctx.telemetryKeyArn);
  return {
    Version: POLICY_VERSION,
    Statement: [
      {
        Sid: 'DecryptOwnCommands',
        Effect: 'Allow',
        Action: 'kms:Decrypt',
        Resource: commandKey,
        Condition: {
          StringEquals: { 'kms:EncryptionContext:aud': CREDENTIALS_THING },
          'ForAllValues:StringEquals': { 'kms:EncryptionContextKeys': ['aud', 'jti'] },
        },
      },
      {
        Sid: 'EncryptOwnTelemetry',
        Effect: 'Allow',
        Action: 'kms:GenerateDataKey',
        Resource: telemetryKey,
        Condition: {
          StringEquals: {
            'kms:EncryptionContext:thing': CREDENTIALS_THING,
            'kms:EncryptionContext:kind': ['telemetry', 'command-result'],
          },
          'ForAllValues:StringEquals': { 'kms:EncryptionContextKeys': ['thing', 'kind'] },
        },
      },
    ],
  };
}

/**
 * The trust policy of that role: only the AWS IoT credential provider may assume it.
 *
 * @example
 * ```ts
 * renderCredentialProviderTrustPolicy().Statement[0]?.Principal; // { Service: 'credentials.iot.amazonaws.com' }
 * ```
 */
export function renderCredentialProviderTrustPolicy(): IamPolicyDocument {
  return {
    Version: POLICY_VERSION,
    Statement: [
      {
        Effect: 'Allow',
        Principal: { Service: CREDENTIAL_PROVIDER_PRINCIPAL },
        Action: 'sts:AssumeRole',
      },
    ],
  };
}

/** Options of {@link renderCredentialProviderResources}. */
export interface CredentialProviderResourcesOptions extends CredentialProviderKeys {
  /** Name of the IoT role alias (referenced by the IoT policies' `iot:AssumeRoleWithCertificate`). */
  roleAliasName: CfnString;
  /** Lifetime of the credentials, 900..43200 seconds; default 3600. */
  credentialDurationSeconds?: number;
  /** Logical ID of the IAM role; default `EcuCredentialProviderRole`. */
  roleLogicalId?: string;
  /** Logical ID of the role alias; default `EcuRoleAlias`. */
  roleAliasLogicalId?: string;
}

/**
 * Makes an IAM policy document safe inside a serverless.yml / CloudFormation template:
 * every string holding an IAM policy variable (`${credentials-iot:ThingName}`) becomes
 * `{ "Fn::Sub": "${!credentials-iot:ThingName}" }`. CloudFormation renders `${!x}` as the
 * literal `${x}`; the Serverless Framework would otherwise try to resolve
 * `${credentials-iot:...}` as one of its own variables and fail with
 * "Unrecognized configuration variable sources".
 */
export function escapePolicyVariablesForCloudFormation(value: unknown): unknown {
  if (typeof value === 'string') {
    return value.includes('${') ? { 'Fn::Sub': value.split('${').join('${!') } : value;
  }
  if (Array.isArray(value)) return value.map(escapePolicyVariablesForCloudFormation);
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value);
    // Leave CloudFormation intrinsics (Ref, Fn::*) as they are.
    if (entries.length === 1 && (entries[0]?.[0] === 'Ref' || entries[0]?.[0].startsWith('Fn::')))
      return value;
    return Object.fromEntries(entries.map(([k, v]) => [k, escapePolicyVariablesForCloudFormation(v)]));
  }
  return value;
}

/**
 * CloudFormation `Resources` (and `Outputs`) for the credential provider: the IAM role
 * with {@link renderCredentialProviderTrustPolicy} and {@link renderCredentialProviderRolePolicy},
 * and the `AWS::IoT::RoleAlias` pointing at it. Policy variables are wrapped with
 * {@link escapePolicyVariablesForCloudFormation}. Rendered into
 * serverless/resources/ecu-credentials.yml by `packages/policy/scripts/render-resources.ts`.
 *
 * @example
 * ```ts
 * const fragment = renderCredentialProviderResources({
 *   roleAliasName: '${self:service}-${sls:stage}-ecu',
 *   commandEncryptionKeyArn: { 'Fn::GetAtt': ['CommandEncryptionKey', 'Arn'] },
 *   telemetryKeyArn: { 'Fn::GetAtt': ['TelemetryKey', 'Arn'] },
 * });
 * ```
 */
export function renderCredentialProviderResources(opts: CredentialProviderResourcesOptions): {
  Resources: Record<string, { Type: string; Properties: Record<string, unknown> }>;
  Outputs: Record<string, { Description: string; Value: unknown }>;
} {
  const duration = opts.credentialDurationSeconds ?? 3600;
  if (!Number.isInteger(duration) || duration < 900 || duration > 43200) {
    throw new InvalidPolicyContextError('credentialDurationSeconds', 'must be an integer in 900..43200');
  }
  const roleId = opts.roleLogicalId ?? 'EcuCredentialProviderRole';
  const aliasId = opts.roleAliasLogicalId ?? 'EcuRoleAlias';
  return {
    Resources: {
      [roleId]: {
        Type: 'AWS::IAM::Role',
        Properties: {
          Description:
            'Assumed by the AWS IoT credential provider for ECUs (role alias); KMS use pinned to the thing',
          MaxSessionDuration: Math.max(3600, duration),
          AssumeRolePolicyDocument: renderCredentialProviderTrustPolicy(),
          Policies: [
            {
              PolicyName: 'ecu-kms',
              PolicyDocument: escapePolicyVariablesForCloudFormation(
                renderCredentialProviderRolePolicy(opts),
              ),
            },
          ],
        },
      },
      [aliasId]: {
        Type: 'AWS::IoT::RoleAlias',
        Properties: {
          RoleAlias: opts.roleAliasName,
          RoleArn: { 'Fn::GetAtt': [roleId, 'Arn'] },
          CredentialDurationSeconds: duration,
        },
      },
    },
    Outputs: {
      [`${aliasId}Name`]: {
        Description: 'IoT role alias of the ECU credential provider',
        Value: { Ref: aliasId },
      },
    },
  };
}

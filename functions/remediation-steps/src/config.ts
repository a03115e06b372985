import { arn, type Env, requireString } from '@cv/runtime';
import { partitionOf } from './scope.js';

export type StepName =
  | 'classify'
  | 'quarantine'
  | 'deactivateCertificate'
  | 'revokeCertificate'
  | 'rotateCertificate'
  | 'fixPolicy'
  | 'notify'
  | 'openTicket'
  | 'closeFinding';

export interface StepConfig {
  region: string;
  partition: string;
  accountId: string;
  quarantineGroup?: string;
  quarantinePolicy?: string;
  pcaCaArn?: string;
  registryTable?: string;
  policyPrefix?: string;
  roleAlias?: string;
  alertTopicArn?: string;
  alertLedgerTable?: string;
  provenanceTable?: string;
}

const TABLE = /^[a-zA-Z0-9_.-]{3,255}$/;
const NAME = /^[a-zA-Z0-9:_-]{1,128}$/;
const POLICY_NAME = /^[\w+=,.@-]{1,128}$/;

/**
 * One step's configuration. Every step needs `AWS_REGION` (set by Lambda) and the account id (read from the
 * invoked function's ARN, so no environment variable and nothing to resolve offline); the others only what they use: quarantine `QUARANTINE_THING_GROUP` + `QUARANTINE_POLICY_NAME`, revokeCertificate `PCA_CA_ARN`,
 * rotateCertificate `ECU_REGISTRY_TABLE`, fixPolicy `IOT_POLICY_PREFIX` + `IOT_ROLE_ALIAS`, notify `ALERT_TOPIC_ARN` +
 * `ALERT_LEDGER_TABLE`, classify `FINDING_PROVENANCE_TABLE`.
 */
/**
 * The account id: from the invoked Lambda function's ARN (`arn:aws:lambda:<region>:<account>:function:<name>`),
 * else from `ACCOUNT_ID` (for `serverless invoke local`, whose context has no function ARN).
 */
export function accountIdOf(functionArn: string | undefined, env: Env): string {
  const fromArn = typeof functionArn === 'string' ? functionArn.split(':')[4] : undefined;
  return fromArn !== undefined && /^\d{12}$/.test(fromArn)
    ? fromArn
    : requireString(env, 'ACCOUNT_ID', /^\d{12}$/);
}

export function loadConfig(step: StepName, env: Env, accountId: string): StepConfig {
  const region = requireString(env, 'AWS_REGION', /^[a-z]{2}(-[a-z]+)+-\d$/);
  const base: StepConfig = {
    region,
    partition: partitionOf(region),
    accountId: requireString({ ACCOUNT_ID: accountId }, 'ACCOUNT_ID', /^\d{12}$/),
  };
  switch (step) {
    case 'quarantine':
      return {
        ...base,
        quarantineGroup: requireString(env, 'QUARANTINE_THING_GROUP', NAME),
        quarantinePolicy: requireString(env, 'QUARANTINE_POLICY_NAME', POLICY_NAME),
      };
    case 'revokeCertificate':
      return { ...base, pcaCaArn: arn(env, 'PCA_CA_ARN', 'acm-pca') };
    case 'rotateCertificate':
      return { ...base, registryTable: requireString(env, 'ECU_REGISTRY_TABLE', TABLE) };
    case 'fixPolicy':
      return {
        ...base,
        policyPrefix: requireString(env, 'IOT_POLICY_PREFIX', /^[\w+=,.@-]{1,100}$/),
        roleAlias: requireString(env, 'IOT_ROLE_ALIAS', /^[\w=,@-]{1,128}$/),
      };
    case 'classify':
      return { ...base, provenanceTable: requireString(env, 'FINDING_PROVENANCE_TABLE', TABLE) };
    case 'notify':
      return {
        ...base,
        alertTopicArn: arn(env, 'ALERT_TOPIC_ARN', 'sns'),
        alertLedgerTable: requireString(env, 'ALERT_LEDGER_TABLE', TABLE),
      };
    default:
      return base;
  }
}

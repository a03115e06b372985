import { type Env, integer, optionalString, requireString } from '@cv/runtime';
import type { DetectorConfig } from './detect.js';

export interface Config extends Omit<DetectorConfig, 'accountId'> {
  table: string;
  provenanceTable: string;
  /** behaviour-detector's table, where failures are counted per ECU and hour; unset: not counted. */
  behaviourTable: string | undefined;
}

const TABLE = /^[a-zA-Z0-9_.-]{3,255}$/;

/**
 * `AUTHZ_FAILURES_TABLE`, `FINDING_PROVENANCE_TABLE`, `AWS_REGION` (Lambda); `AUTHZ_FAILURE_THRESHOLD`
 * (default 20), `AUTHZ_WINDOW_SECONDS` (default 300; also the cool-down after a finding).
 */
export function loadConfig(env: Env): Config {
  const region = requireString(env, 'AWS_REGION', /^[a-z]{2}(-[a-z]+)+-\d$/);
  return {
    table: requireString(env, 'AUTHZ_FAILURES_TABLE', TABLE),
    provenanceTable: requireString(env, 'FINDING_PROVENANCE_TABLE', TABLE),
    behaviourTable: optionalString(env, 'BEHAVIOUR_TABLE', '', TABLE) || undefined,
    region,
    partition: region.startsWith('cn-') ? 'aws-cn' : region.startsWith('us-gov-') ? 'aws-us-gov' : 'aws',
    threshold: integer(env, 'AUTHZ_FAILURE_THRESHOLD', { min: 1, max: 100_000, fallback: 20 }),
    windowSeconds: integer(env, 'AUTHZ_WINDOW_SECONDS', { min: 60, max: 86_400, fallback: 300 }),
  };
}

/**
 * The account id findings are imported to: from the invoked Lambda function's ARN
 * (`arn:aws:lambda:<region>:<account>:function:<name>`), else from `ACCOUNT_ID` (for `serverless invoke local`,
 * whose context has no function ARN).
 */
export function accountIdOf(functionArn: string | undefined, env: Env): string {
  const fromArn = typeof functionArn === 'string' ? functionArn.split(':')[4] : undefined;
  return fromArn !== undefined && /^\d{12}$/.test(fromArn)
    ? fromArn
    : requireString(env, 'ACCOUNT_ID', /^\d{12}$/);
}

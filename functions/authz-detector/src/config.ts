import { ConfigError, type Env, integer, requireString } from '@cv/runtime';
import type { DetectorConfig } from './detect.js';

export interface Config extends Omit<DetectorConfig, 'accountId'> {
  table: string;
}

/**
 * `AUTHZ_FAILURES_TABLE`, `AWS_REGION` (Lambda); `AUTHZ_FAILURE_THRESHOLD` (default 20),
 * `AUTHZ_WINDOW_SECONDS` (default 300), `AUTHZ_BUCKET_SECONDS` (default 60, must divide the window).
 */
export function loadConfig(env: Env): Config {
  const region = requireString(env, 'AWS_REGION', /^[a-z]{2}(-[a-z]+)+-\d$/);
  const windowSeconds = integer(env, 'AUTHZ_WINDOW_SECONDS', { min: 60, max: 86_400, fallback: 300 });
  const bucketSeconds = integer(env, 'AUTHZ_BUCKET_SECONDS', { min: 10, max: windowSeconds, fallback: 60 });
  if (windowSeconds % bucketSeconds !== 0) {
    throw new ConfigError('AUTHZ_BUCKET_SECONDS', 'must divide AUTHZ_WINDOW_SECONDS');
  }
  return {
    table: requireString(env, 'AUTHZ_FAILURES_TABLE', /^[a-zA-Z0-9_.-]{3,255}$/),
    region,
    partition: region.startsWith('cn-') ? 'aws-cn' : region.startsWith('us-gov-') ? 'aws-us-gov' : 'aws',
    threshold: integer(env, 'AUTHZ_FAILURE_THRESHOLD', { min: 1, max: 100_000, fallback: 20 }),
    windowSeconds,
    bucketSeconds,
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

import { type AdminConfig, loadAdminConfig } from '@cv/admin';
import { type Env, optionalString } from '@cv/runtime';

export interface Config {
  readonly admin: AdminConfig;
  readonly logLevel: string;
}

/**
 * The admin API's configuration: the stage (`STAGE`) and region (`AWS_REGION`, set by Lambda) name the resources as
 * they do for the cv-admin CLI; the table and group names can be set explicitly (serverless/functions/admin-api.yml).
 * @example const config = loadConfig(process.env);
 */
export function loadConfig(env: Env): Config {
  return {
    admin: loadAdminConfig({ ...env, CV_STAGE: env.STAGE }, {}),
    logLevel: optionalString(env, 'LOG_LEVEL', 'INFO'),
  };
}

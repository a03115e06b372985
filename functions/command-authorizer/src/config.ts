import { type Env, list, optionalString, requireString } from '@cv/runtime';

export interface Config {
  userPoolId: string;
  clientIds: string[];
  scope: string;
  accessTable: string;
  logLevel: string;
  /**
   * Where to fetch the user pool's JWKS instead of Cognito: only the local cloud sets it
   * (`serverless invoke local --stage local`), and only a loopback http(s) URL is accepted.
   */
  jwksUri: string | undefined;
}

/** `http(s)://127.0.0.1|localhost|[::1][:port]/...`: the local cloud's JWKS, never a remote host. */
const LOOPBACK_URL = /^https?:\/\/(127\.0\.0\.1|localhost|\[::1\])(:\d{1,5})?\/[!-~]*$/;

/**
 * Every variable the authorizer needs, validated once at cold start.
 * @example const config = loadConfig(process.env);
 */
export function loadConfig(env: Env): Config {
  return {
    userPoolId: requireString(env, 'COGNITO_USER_POOL_ID', /^[a-z]{2}(-[a-z]+)+-\d_[A-Za-z0-9]+$/),
    clientIds: list(env, 'COGNITO_CLIENT_IDS', { pattern: /^[A-Za-z0-9]{1,128}$/ }),
    scope: requireString(env, 'COMMAND_SCOPE', /^[\x21\x23-\x5B\x5D-\x7E]{1,256}$/),
    accessTable: requireString(env, 'VEHICLE_ACCESS_TABLE'),
    logLevel: optionalString(env, 'LOG_LEVEL', 'INFO'),
    jwksUri:
      env.COGNITO_JWKS_URI === undefined ? undefined : requireString(env, 'COGNITO_JWKS_URI', LOOPBACK_URL),
  };
}

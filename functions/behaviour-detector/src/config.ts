import { type Env, integer, requireString } from '@cv/runtime';

export interface Config {
  region: string;
  partition: string;
  table: string;
  registryTable: string;
  provenanceTable: string;
  roleSampleModulo: number;
}

const TABLE = /^[a-zA-Z0-9_.-]{3,255}$/;

/**
 * `BEHAVIOUR_TABLE`, `ECU_REGISTRY_TABLE`, `FINDING_PROVENANCE_TABLE`, `AWS_REGION` (Lambda);
 * `ROLE_SAMPLE_MODULO` (default 256: one ECU in 256 feeds its role's baseline).
 */
export function loadConfig(env: Env): Config {
  const region = requireString(env, 'AWS_REGION', /^[a-z]{2}(-[a-z]+)+-\d$/);
  return {
    region,
    partition: region.startsWith('cn-') ? 'aws-cn' : region.startsWith('us-gov-') ? 'aws-us-gov' : 'aws',
    table: requireString(env, 'BEHAVIOUR_TABLE', TABLE),
    registryTable: requireString(env, 'ECU_REGISTRY_TABLE', TABLE),
    provenanceTable: requireString(env, 'FINDING_PROVENANCE_TABLE', TABLE),
    roleSampleModulo: integer(env, 'ROLE_SAMPLE_MODULO', { min: 1, max: 65_536, fallback: 256 }),
  };
}

/** The account id findings are imported to: from the function ARN, else `ACCOUNT_ID` (invoke local). */
export function accountIdOf(functionArn: string | undefined, env: Env): string {
  const fromArn = typeof functionArn === 'string' ? functionArn.split(':')[4] : undefined;
  return fromArn !== undefined && /^\d{12}$/.test(fromArn)
    ? fromArn
    : requireString(env, 'ACCOUNT_ID', /^\d{12}$/);
}

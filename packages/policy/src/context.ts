import { InvalidPolicyContextError } from './errors.js';
import type { EcuRole, IotPolicyContext } from './types.js';
import { ECU_ROLES } from './types.js';

const REGION = /^[a-z]{2}(-[a-z]+)+-\d{1,2}$/;
const ACCOUNT_ID = /^\d{12}$/;
/** CreateRoleAlias: `[\w=,@-]+`, 1..128. */
const ROLE_ALIAS = /^[\w=,@-]{1,128}$/;
/** CreatePolicy name: `[\w+=,.@-]+`, 1..128. */
const POLICY_NAME = /^[\w+=,.@-]{1,128}$/;
const PARTITION = /^aws(-[a-z]+)*$/;

/** Validated rendering context (throws {@link InvalidPolicyContextError}). */
export function checkIotPolicyContext(ctx: IotPolicyContext): Required<IotPolicyContext> {
  const partition = ctx.partition ?? 'aws';
  if (typeof ctx.region !== 'string' || !REGION.test(ctx.region)) {
    throw new InvalidPolicyContextError('region', 'must look like eu-west-1');
  }
  if (typeof ctx.accountId !== 'string' || !ACCOUNT_ID.test(ctx.accountId)) {
    throw new InvalidPolicyContextError('accountId', 'must be 12 digits');
  }
  if (typeof ctx.roleAlias !== 'string' || !ROLE_ALIAS.test(ctx.roleAlias)) {
    throw new InvalidPolicyContextError('roleAlias', 'must match [\\w=,@-]{1,128}');
  }
  if (typeof partition !== 'string' || !PARTITION.test(partition)) {
    throw new InvalidPolicyContextError('partition', 'must be aws, aws-cn, aws-us-gov, ...');
  }
  return { region: ctx.region, accountId: ctx.accountId, roleAlias: ctx.roleAlias, partition };
}

export function checkRole(role: unknown): EcuRole {
  if (typeof role !== 'string' || !(ECU_ROLES as readonly string[]).includes(role)) {
    throw new InvalidPolicyContextError('role', `must be one of ${ECU_ROLES.join(', ')}`);
  }
  return role as EcuRole;
}

export function checkPolicyName(name: string): string {
  if (!POLICY_NAME.test(name)) {
    throw new InvalidPolicyContextError('prefix', 'makes a policy name outside [\\w+=,.@-]{1,128}');
  }
  return name;
}

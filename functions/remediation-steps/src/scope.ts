import { ForeignResourceError, MalformedFindingError } from './errors.js';

/**
 * Where this stack runs: the only partition, region and account whose resources the workflow may act on. The steps
 * know it from their own configuration (region from `AWS_REGION`, partition derived from it, account from the
 * invoked function's ARN), never from the finding.
 */
export interface StackScope {
  partition: string;
  region: string;
  accountId: string;
}

/** The AWS IoT resource types the workflow names, by their ARN resource-type prefix. */
export type IotKind = 'thing' | 'cert' | 'cacert' | 'policy';

export interface Arn {
  partition: string;
  service: string;
  region: string;
  account: string;
  resource: string;
}

/** Splits an ARN (`arn:<partition>:<service>:<region>:<account>:<resource>`); `undefined` when it is not one. */
export function parseArn(value: string): Arn | undefined {
  const m = /^arn:([^:]*):([^:]*):([^:]*):([^:]*):(.*)$/s.exec(value);
  if (m === null) return undefined;
  const [, partition = '', service = '', region = '', account = '', resource = ''] = m;
  return { partition, service, region, account, resource };
}

/** Whether a value claims to be an ARN, whatever its letter case (`ARN:AWS:...` is still an ARN, and not ours). */
export function looksLikeArn(value: string): boolean {
  return /^\s*arn:/i.test(value);
}

/**
 * Refuses an ARN outside this stack: the partition, region and account must be exactly ours (case-sensitive, as AWS
 * compares them). An ARN with an empty region or account (S3, IAM, an AWS product) is not a resource of this stack.
 * @throws ForeignResourceError naming `where` and what differed.
 */
export function requireOwnArn(value: string, scope: StackScope, where: string): Arn {
  const arn = parseArn(value);
  if (arn === undefined) throw new ForeignResourceError(where, 'not a well-formed ARN');
  if (arn.partition !== scope.partition) {
    throw new ForeignResourceError(where, `partition ${printable(arn.partition)} is not ${scope.partition}`);
  }
  if (arn.region !== scope.region) {
    throw new ForeignResourceError(where, `region ${printable(arn.region)} is not ${scope.region}`);
  }
  if (arn.account !== scope.accountId) {
    throw new ForeignResourceError(where, `account ${printable(arn.account)} is not this account`);
  }
  return arn;
}

/**
 * The identifier of an AWS IoT resource of `kind` in this stack, from a field that holds either its bare id/name
 * (the finding's own account and region, already checked to be ours, apply) or its ARN. An ARN must be an `iot` ARN
 * of this partition, region and account, of exactly this resource type, with no path after the id.
 * @throws ForeignResourceError for an ARN of another partition/region/account/service/type (refused with an alert).
 * @throws MalformedFindingError for an id that does not match the AWS IoT pattern.
 */
export function ownIotIdentifier(
  value: string,
  kind: IotKind,
  pattern: RegExp,
  scope: StackScope,
  where: string,
): string {
  let id = value;
  if (looksLikeArn(value)) {
    const arn = requireOwnArn(value, scope, where);
    if (arn.service !== 'iot') {
      throw new ForeignResourceError(where, `an ${printable(arn.service)} ARN, not an AWS IoT ${kind}`);
    }
    const slash = arn.resource.indexOf('/');
    const type = slash < 0 ? arn.resource : arn.resource.slice(0, slash);
    if (type !== kind) {
      throw new ForeignResourceError(where, `an AWS IoT ${printable(type)} ARN, not a ${kind}`);
    }
    id = slash < 0 ? '' : arn.resource.slice(slash + 1);
  }
  if (!pattern.test(id))
    throw new MalformedFindingError(`${where} is not a valid AWS IoT ${kind} identifier`);
  return id;
}

/** Attacker-supplied text in a refusal reason: printable ASCII, bounded. */
export function printable(text: string, max = 64): string {
  return text.replace(/[^\x21-\x7e]/g, '?').slice(0, max);
}

/** The partition of a region (`cn-*` aws-cn, `us-gov-*` aws-us-gov, else aws). */
export function partitionOf(region: string): string {
  return region.startsWith('cn-') ? 'aws-cn' : region.startsWith('us-gov-') ? 'aws-us-gov' : 'aws';
}

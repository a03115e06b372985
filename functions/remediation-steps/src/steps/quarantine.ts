import { MissingTargetError } from '../errors.js';
import type { StepResult } from '../plan.js';
import type { IotPort } from '../ports.js';
import { deviceTargets, result, type StepInput } from './common.js';

export interface QuarantineDeps {
  iot: Pick<
    IotPort,
    | 'thingsForCertificate'
    | 'certificatesForThing'
    | 'thingGroupsOf'
    | 'addThingToGroup'
    | 'groupHasPolicy'
    | 'attachPolicyToGroup'
  >;
  quarantineGroup: string;
  quarantinePolicy: string;
}

/**
 * Adds the finding's thing (or the things its certificate is attached to) to the quarantine thing group, after
 * making sure the group carries the deny-all quarantine policy (CloudFormation cannot attach a policy to a thing
 * group). Membership and attachment are checked first, so a second run changes nothing.
 */
export async function quarantine(input: StepInput, deps: QuarantineDeps): Promise<StepResult> {
  const { plan } = input;
  if (plan.thingName === undefined && plan.certificateId === undefined) {
    throw new MissingTargetError('quarantine', 'a thing name or a certificate id');
  }
  const { things } = await deviceTargets(plan, deps.iot, { things: true });
  const attachedPolicy = !(await deps.iot.groupHasPolicy(deps.quarantinePolicy, deps.quarantineGroup));
  if (attachedPolicy) await deps.iot.attachPolicyToGroup(deps.quarantinePolicy, deps.quarantineGroup);

  const added: string[] = [];
  const already: string[] = [];
  for (const thing of things) {
    const groups = await deps.iot.thingGroupsOf(thing);
    if (groups.includes(deps.quarantineGroup)) {
      already.push(thing);
      continue;
    }
    await deps.iot.addThingToGroup(thing, deps.quarantineGroup);
    added.push(thing);
  }
  const data = { added, alreadyQuarantined: already, group: deps.quarantineGroup };
  if (things.length === 0) {
    return result(
      'quarantine',
      'unchanged',
      'no thing is attached to the certificate; nothing to quarantine',
      data,
    );
  }
  if (added.length === 0 && !attachedPolicy) {
    return result(
      'quarantine',
      'unchanged',
      `already in ${deps.quarantineGroup}: ${already.join(', ')}`,
      data,
    );
  }
  const policyNote = attachedPolicy ? ` (attached ${deps.quarantinePolicy} to the group)` : '';
  return result(
    'quarantine',
    'changed',
    `added to ${deps.quarantineGroup}: ${added.join(', ') || 'none'}${policyNote}`,
    data,
  );
}

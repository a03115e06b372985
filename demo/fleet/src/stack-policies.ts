/**
 * The stack's per-role IoT policies in the local cloud: read from serverless/resources/ecu-policies.yml
 * (the file CloudFormation deploys, generated from @cv/policy) and resolved as CloudFormation and the
 * framework would for the local stage, so jitr-handler finds the same policies it finds deployed.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { LocalCloud } from '@cv/local-cloud';
import { resolveIotPolicyResources } from '@cv/policy';
import { parse as parseYaml } from 'yaml';

/** The prefix the template writes in each PolicyName (jitr-handler's IOT_POLICY_PREFIX before resolution). */
// biome-ignore lint/suspicious/noTemplateCurlyInString: the framework's variables, literally
const TEMPLATE_PREFIX = '${self:service}-${sls:stage}';

/**
 * Creates every `AWS::IoT::Policy` of serverless/resources/ecu-policies.yml in the local cloud.
 * @example createStackPolicies(cloud, root, { stage: 'local', roleAlias: 'cv-security-local-ecu' });
 */
export function createStackPolicies(
  cloud: LocalCloud,
  root: string,
  opts: { stage: string; roleAlias: string },
): string[] {
  const file = parseYaml(readFileSync(join(root, 'serverless/resources/ecu-policies.yml'), 'utf8'), {
    logLevel: 'error',
  }) as { Resources: Record<string, unknown> };
  const policies = resolveIotPolicyResources(
    file.Resources,
    {
      partition: 'aws',
      region: cloud.region,
      accountId: cloud.account,
      roleAlias: opts.roleAlias,
      policyNamePrefix: `cv-security-${opts.stage}`,
    },
    TEMPLATE_PREFIX,
  );
  for (const { policyName, document } of policies)
    cloud.iot.createPolicy(policyName, JSON.stringify(document));
  return policies.map((p) => p.policyName);
}

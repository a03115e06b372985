// biome-ignore-all lint/suspicious/noTemplateCurlyInString: Serverless Framework variables are literal ${...} strings
import { renderIotPolicyResources } from '../src/index.js';

/** The policy name prefix as serverless/resources/ecu-policies.yml writes it (jitr-handler's IOT_POLICY_PREFIX). */
export const TEMPLATE_POLICY_PREFIX = '${self:service}-${sls:stage}';

/** The per-role IoT policies of this service, as serverless/resources/ecu-policies.yml holds them. */
export function ecuPolicyResources(): ReturnType<typeof renderIotPolicyResources> {
  return renderIotPolicyResources({
    policyNamePrefix: TEMPLATE_POLICY_PREFIX,
    roleAliasLogicalId: 'EcuRoleAlias',
  });
}

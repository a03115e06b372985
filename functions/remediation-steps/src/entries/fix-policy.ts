/** Entry of the fixPolicy step (AWS IoT only; the policy library is local code). */
import { policyLibrary } from '../adapters/policy-library.js';
import type { RemediationState } from '../plan.js';
import { advance } from '../state.js';
import { fixPolicy as fixPolicyUseCase } from '../steps/fix-policy.js';
import { iot } from './iot.js';
import { config, on, record } from './runtime.js';

export const fixPolicy = on<unknown, RemediationState>((input) =>
  advance('fixPolicy', input, async (state) => {
    const c = config('fixPolicy');
    const policies = policyLibrary(c.policyPrefix ?? '', {
      region: c.region,
      accountId: c.accountId,
      roleAlias: c.roleAlias ?? '',
      partition: c.partition,
    });
    return record(await fixPolicyUseCase(state, { iot: iot('fixPolicy'), policies }));
  }),
);

/** Entry of the closeFinding step (Security Hub only). */
import { SecurityHubClient } from '@aws-sdk/client-securityhub';
import { MetricUnit } from '@cv/runtime';
import { SecurityHubFindings } from '../adapters/findings.js';
import { asStepError, failureOf, parseState } from '../state.js';
import { closeFinding as closeFindingUseCase } from '../steps/close-finding.js';
import { clientConfig, config, logger, metrics, on, once } from './runtime.js';

const securityHubClient = once(() => new SecurityHubClient(clientConfig));

/** closeFinding: RESOLVED (or NOTIFIED) with a note; on the Catch path always NOTIFIED with what failed. */
export const closeFinding = on<unknown, unknown>(async (input) => {
  config('closeFinding');
  const state = parseState('closeFinding', input);
  const failure = failureOf(input);
  const closed = await asStepError('closeFinding', () =>
    closeFindingUseCase(
      { plan: state.plan, results: state.results, ...(failure === undefined ? {} : { failure }) },
      { findings: new SecurityHubFindings(securityHubClient()) },
    ),
  );
  logger.info('finding closed', { findingId: state.plan.findingId, status: closed.status });
  metrics.addMetric(`Finding_${closed.status}`, MetricUnit.Count, 1);
  return { ...state, closed };
});

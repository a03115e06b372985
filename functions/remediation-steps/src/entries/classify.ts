/** Entry of the classify step: its only AWS call reads a finding's provenance record (DynamoDB). */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { MetricUnit } from '@cv/runtime';
import { DynamoProvenance } from '../adapters/provenance.js';
import type { RemediationState } from '../plan.js';
import { triage } from '../steps/classify.js';
import { clientConfig, config, logger, metrics, on, once } from './runtime.js';

const dynamoClient = once(() => new DynamoDBClient(clientConfig));

/**
 * classify: Security Hub event -> `{ plan, remaining, results }` (skipped findings: `skipped: true`; refused ones:
 * notify only, `plan.refusal` says why). Findings claiming to be our own detectors' are checked against the
 * provenance table first.
 */
export const classify = on<unknown, RemediationState>(async (event) => {
  const c = config('classify');
  const state = await triage(
    event,
    { partition: c.partition, region: c.region, accountId: c.accountId },
    { provenance: new DynamoProvenance(dynamoClient(), c.provenanceTable ?? '') },
  );
  logger.info('finding classified', {
    findingId: state.plan.findingId,
    check: state.plan.check,
    actions: state.plan.actions,
    skipReason: state.skipReason,
    refusal: state.plan.refusal,
  });
  if (state.plan.refusal !== undefined)
    metrics.addMetric(`Refused_${state.plan.refusal.code}`, MetricUnit.Count, 1);
  return state;
});

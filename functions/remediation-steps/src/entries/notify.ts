/** Entry of the notify step: SNS (the alert) and DynamoDB (the alert ledger, one alert per finding). */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SNSClient } from '@aws-sdk/client-sns';
import { DynamoAlertLedger } from '../adapters/alert-ledger.js';
import { SnsAlerts } from '../adapters/alerts.js';
import { InvalidStepInputError } from '../errors.js';
import { advance, asStepError, failureOf, parseState, unclassifiedIds } from '../state.js';
import { notify as notifyUseCase } from '../steps/notify.js';
import { clientConfig, clock, config, on, once, record } from './runtime.js';

const snsClient = once(() => new SNSClient(clientConfig));
const dynamoClient = once(() => new DynamoDBClient(clientConfig));

/**
 * notify: on the normal path it is one of the plan's actions; on the Catch path (`$.error` present) it reports the
 * failure, and when classify itself failed (no plan) it reports the unclassifiable finding.
 */
export const notify = on<unknown, unknown>(async (input) => {
  const c = config('notify');
  const deps = {
    alerts: new SnsAlerts(snsClient(), c.alertTopicArn ?? ''),
    ledger: new DynamoAlertLedger(dynamoClient(), c.alertLedgerTable ?? ''),
    clock,
  };
  const failure = failureOf(input);
  const hasPlan = typeof input === 'object' && input !== null && 'plan' in input;
  if (!hasPlan) {
    if (failure === undefined)
      throw new InvalidStepInputError('notify', ['neither a plan nor a caught error']);
    const r = await asStepError('notify', () =>
      notifyUseCase({ results: [], failure, unclassified: unclassifiedIds(input) }, deps),
    );
    return { error: failure, unclassified: unclassifiedIds(input), notified: record(r) };
  }
  if (failure !== undefined) {
    const state = parseState('notify', input);
    const r = await asStepError('notify', () =>
      notifyUseCase({ plan: state.plan, results: state.results, failure }, deps),
    );
    return { ...state, results: [...state.results, record(r)] };
  }
  return advance('notify', input, async (state) =>
    record(await notifyUseCase({ plan: state.plan, results: state.results }, deps)),
  );
});

/**
 * Composition root of the remediation steps: one Lambda handler per Step Functions task (SPEC section 8).
 * AWS clients live at module scope but are constructed on first use: the nine step functions share this bundle, and each
 * step's cold start builds only the client(s) its own step calls. Each step's configuration is read and validated once per
 * container, on its first invocation, so each function's environment carries only what its own step needs.
 */
import { ACMPCAClient } from '@aws-sdk/client-acm-pca';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { IoTClient } from '@aws-sdk/client-iot';
import { SecurityHubClient } from '@aws-sdk/client-securityhub';
import { SNSClient } from '@aws-sdk/client-sns';
import { SSMClient } from '@aws-sdk/client-ssm';
import {
  awsClientConfig,
  createLogger,
  createMetrics,
  type Env,
  eventHandler,
  MetricUnit,
} from '@cv/runtime';
import { DynamoAlertLedger } from './adapters/alert-ledger.js';
import { SnsAlerts } from './adapters/alerts.js';
import { SecurityHubFindings } from './adapters/findings.js';
import { IotAdapter } from './adapters/iot.js';
import { PrivateCaAdapter } from './adapters/pca.js';
import { policyLibrary } from './adapters/policy-library.js';
import { DynamoProvenance } from './adapters/provenance.js';
import { RegistryAdapter } from './adapters/registry.js';
import { OpsCenterTickets } from './adapters/tickets.js';
import { accountIdOf, loadConfig, type StepName } from './config.js';
import { InvalidStepInputError } from './errors.js';
import type { RemediationState, StepResult } from './plan.js';
import { advance, asStepError, failureOf, parseState, unclassifiedIds } from './state.js';
import { triage } from './steps/classify.js';
import { closeFinding as closeFindingUseCase } from './steps/close-finding.js';
import { deactivateCertificate as deactivateUseCase } from './steps/deactivate-certificate.js';
import { fixPolicy as fixPolicyUseCase } from './steps/fix-policy.js';
import { notify as notifyUseCase } from './steps/notify.js';
import { openTicket as openTicketUseCase } from './steps/open-ticket.js';
import { quarantine as quarantineUseCase } from './steps/quarantine.js';
import { revokeCertificate as revokeUseCase } from './steps/revoke-certificate.js';
import { rotateCertificate as rotateUseCase } from './steps/rotate-certificate.js';

const env: Env = process.env;
const logger = createLogger({ serviceName: 'remediation-steps', logLevel: env.LOG_LEVEL });
const metrics = createMetrics({ serviceName: 'remediation-steps', logger });
const obs = { logger, metrics };

const clientConfig = awsClientConfig({ region: env.AWS_REGION });
/** A module-scope singleton built on first call (then reused for the container's lifetime). */
function once<T>(make: () => T): () => T {
  let value: T | undefined;
  return () => {
    value ??= make();
    return value;
  };
}
const iotClient = once(() => new IoTClient(clientConfig));
const pcaClient = once(() => new ACMPCAClient(clientConfig));
const dynamoClient = once(() => new DynamoDBClient(clientConfig));
const snsClient = once(() => new SNSClient(clientConfig));
const ssmClient = once(() => new SSMClient(clientConfig));
const securityHubClient = once(() => new SecurityHubClient(clientConfig));
const clock = { now: () => new Date() };

const configs = new Map<StepName, ReturnType<typeof loadConfig>>();
let invokedArn: string | undefined;
/** The step's configuration, validated once per container (throws ConfigError naming the variable). */
function config(step: StepName) {
  let c = configs.get(step);
  if (c === undefined) {
    c = loadConfig(step, env, accountIdOf(invokedArn, env));
    configs.set(step, c);
  }
  return c;
}

/** Every handler records the function ARN first: the account id comes from it. */
function on<E, R>(fn: (event: E) => Promise<R>) {
  return eventHandler<E, R>(async (event, context) => {
    invokedArn = context.invokedFunctionArn;
    return fn(event);
  }, obs);
}

function iot(step: StepName): IotAdapter {
  const c = config(step);
  return new IotAdapter(iotClient(), { partition: c.partition, region: c.region, accountId: c.accountId });
}

function record(result: StepResult): StepResult {
  logger.info('remediation step done', {
    action: result.action,
    outcome: result.outcome,
    detail: result.detail,
  });
  metrics.addMetric(`Step_${result.action}_${result.outcome}`, MetricUnit.Count, 1);
  return result;
}

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

export const quarantine = on<unknown, RemediationState>((input) =>
  advance('quarantine', input, async (state) => {
    const c = config('quarantine');
    return record(
      await quarantineUseCase(state, {
        iot: iot('quarantine'),
        quarantineGroup: c.quarantineGroup ?? '',
        quarantinePolicy: c.quarantinePolicy ?? '',
      }),
    );
  }),
);

export const deactivateCertificate = on<unknown, RemediationState>((input) =>
  advance('deactivateCertificate', input, async (state) =>
    record(await deactivateUseCase(state, { iot: iot('deactivateCertificate') })),
  ),
);

export const revokeCertificate = on<unknown, RemediationState>((input) =>
  advance('revokeCertificate', input, async (state) => {
    const c = config('revokeCertificate');
    const pca = new PrivateCaAdapter(pcaClient(), c.pcaCaArn ?? '');
    return record(await revokeUseCase(state, { iot: iot('revokeCertificate'), pca }));
  }),
);

export const rotateCertificate = on<unknown, RemediationState>((input) =>
  advance('rotateCertificate', input, async (state) => {
    const c = config('rotateCertificate');
    const registry = new RegistryAdapter(dynamoClient(), c.registryTable ?? '');
    return record(await rotateUseCase(state, { iot: iot('rotateCertificate'), registry, clock }));
  }),
);

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

export const openTicket = on<unknown, RemediationState>((input) =>
  advance('openTicket', input, async (state) =>
    record(await openTicketUseCase(state, { tickets: new OpsCenterTickets(ssmClient()) })),
  ),
);

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

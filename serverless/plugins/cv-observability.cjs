'use strict';

/**
 * CloudWatch alarms (on the alert topic) and one dashboard, generated from the packaged template so that
 * every function and every dead-letter queue is covered, including the ones added later:
 * - each Lambda function: Errors, and Throttles, except for a function queued by design (reserved
 *   concurrency and asynchronous invocation): the age of its oldest queued event and dropped events;
 * - each dead-letter queue (a queue some other resource sends its failures to): messages visible;
 * - the remediation state machine: ExecutionsFailed;
 * - metric filters on the functions' structured logs: AWS Private CA and KMS throttling, JITR refusals
 *   (certificates left unchanged or revoked by OCSP) and OCSP failures (jitr-handler's failed invocations).
 * Runs after cv-packaging (same hook, later plugin) on `before:aws:package:finalize:saveServiceState`.
 */
const NAMESPACE = 'cv-security';
const THROTTLING_PATTERN = '?ThrottlingException ?TooManyRequestsException ?RequestThrottled ?RateExceeded';

const FILTERS = [
  {
    id: 'PcaThrottling',
    functions: ['CertBrokerLambdaFunction', 'RemediationRevokeCertificateLambdaFunction'],
    pattern: THROTTLING_PATTERN,
    description: 'AWS Private CA throttled cert-broker or the revoke step',
  },
  {
    id: 'KmsThrottling',
    functions: [
      'CommandSenderLambdaFunction',
      'TelemetryIngestLambdaFunction',
      'TelemetryIngestBatchLambdaFunction',
    ],
    pattern: THROTTLING_PATTERN,
    description: 'AWS KMS throttled command signing or telemetry decryption',
  },
  {
    id: 'JitrRefusals',
    functions: ['JitrHandlerLambdaFunction'],
    pattern: '{ $.message = "certificate left unchanged" || $.message = "certificate revoked by OCSP" }',
    description:
      'jitr-handler refused to activate a certificate (other CA, wrong status, not registered, revoked)',
  },
  {
    id: 'OcspFailures',
    functions: ['JitrHandlerLambdaFunction'],
    pattern: '{ $.message = "invocation failed" && ($.error.name = "Ocsp*" || $.error.message = "*OCSP*") }',
    description: 'jitr-handler could not get a valid OCSP answer (the certificate stays PENDING_ACTIVATION)',
  },
];

const ref = (id) => ({ Ref: id });

class CvObservability {
  constructor(serverless) {
    this.serverless = serverless;
    this.hooks = { 'before:aws:package:finalize:saveServiceState': () => this.addAlarmsAndDashboard() };
  }

  addAlarmsAndDashboard() {
    const resources = this.serverless.service.provider.compiledCloudFormationTemplate.Resources;
    if (!resources.AlertTopic) return;
    const prefix = `${this.serverless.service.service}-${this.serverless.service.provider.stage}`;
    const alarm = (id, props) => {
      resources[id] = {
        Type: 'AWS::CloudWatch::Alarm',
        Properties: {
          AlarmName: `${prefix}-${id}`,
          ActionsEnabled: true,
          AlarmActions: [ref('AlertTopic')],
          OKActions: [ref('AlertTopic')],
          EvaluationPeriods: 1,
          DatapointsToAlarm: 1,
          Period: 300,
          ComparisonOperator: 'GreaterThanThreshold',
          Threshold: 0,
          TreatMissingData: 'notBreaching',
          ...props,
        },
      };
    };
    const functions = Object.keys(resources).filter((id) => resources[id].Type === 'AWS::Lambda::Function');
    // Asynchronous invocation settings by function (serverless's `…LambdaEvConf`).
    const invokeConfigs = new Map(
      Object.values(resources)
        .filter((r) => r.Type === 'AWS::Lambda::EventInvokeConfig')
        .map((r) => [r.Properties?.FunctionName?.Ref, r.Properties]),
    );
    for (const fn of functions) {
      const base = fn.replace(/LambdaFunction$/, '');
      const dimensions = [{ Name: 'FunctionName', Value: ref(fn) }];
      alarm(`${base}ErrorsAlarm`, {
        AlarmDescription: `Errors of ${fn}`,
        Namespace: 'AWS/Lambda',
        MetricName: 'Errors',
        Dimensions: dimensions,
        Statistic: 'Sum',
      });
      const asyncConfig = invokeConfigs.get(fn);
      if (resources[fn].Properties?.ReservedConcurrentExecutions !== undefined && asyncConfig) {
        // Queued by design: a burst beyond the reserved concurrency waits in Lambda's asynchronous
        // queue (a JITR wave is served at the IoT quota), so throttles are expected. Alarm when an
        // event has waited half its maximum age, and when one was dropped.
        const maxAgeSeconds = asyncConfig.MaximumEventAgeInSeconds ?? 21600;
        alarm(`${base}AsyncEventAgeAlarm`, {
          AlarmDescription: `Events of ${fn} waited over ${maxAgeSeconds / 2} s in Lambda's asynchronous queue (dropped at ${maxAgeSeconds} s)`,
          Namespace: 'AWS/Lambda',
          MetricName: 'AsyncEventAge',
          Dimensions: dimensions,
          Statistic: 'Maximum',
          Threshold: (maxAgeSeconds / 2) * 1000,
        });
        alarm(`${base}AsyncEventsDroppedAlarm`, {
          AlarmDescription: `Events of ${fn} dropped from Lambda's asynchronous queue`,
          Namespace: 'AWS/Lambda',
          MetricName: 'AsyncEventsDropped',
          Dimensions: dimensions,
          Statistic: 'Sum',
        });
      } else {
        alarm(`${base}ThrottlesAlarm`, {
          AlarmDescription: `Throttles of ${fn}`,
          Namespace: 'AWS/Lambda',
          MetricName: 'Throttles',
          Dimensions: dimensions,
          Statistic: 'Sum',
        });
      }
    }
    const queues = this.deadLetterQueues(resources);
    for (const queue of queues) {
      alarm(`${queue}DepthAlarm`, {
        AlarmDescription: `Messages waiting in dead-letter queue ${queue}`,
        Namespace: 'AWS/SQS',
        MetricName: 'ApproximateNumberOfMessagesVisible',
        Dimensions: [{ Name: 'QueueName', Value: { 'Fn::GetAtt': [queue, 'QueueName'] } }],
        Statistic: 'Maximum',
      });
    }
    const stateMachine = Object.keys(resources).find(
      (id) => resources[id].Type === 'AWS::StepFunctions::StateMachine',
    );
    if (stateMachine) {
      alarm('RemediationExecutionsFailedAlarm', {
        AlarmDescription: 'Remediation executions failed (the alert and the finding note say which step)',
        Namespace: 'AWS/States',
        MetricName: 'ExecutionsFailed',
        Dimensions: [{ Name: 'StateMachineArn', Value: ref(stateMachine) }],
        Statistic: 'Sum',
      });
    }
    for (const filter of FILTERS) {
      const present = filter.functions.filter((fn) => resources[fn]);
      if (present.length === 0) continue;
      for (const fn of present) {
        const logGroup = this.logGroupOf(resources, fn);
        if (!logGroup) continue;
        resources[`${fn.replace(/LambdaFunction$/, '')}${filter.id}MetricFilter`] = {
          Type: 'AWS::Logs::MetricFilter',
          Properties: {
            LogGroupName: ref(logGroup),
            FilterPattern: filter.pattern,
            MetricTransformations: [
              {
                MetricNamespace: NAMESPACE,
                MetricName: `${filter.id}-${this.serverless.service.provider.stage}`,
                MetricValue: '1',
                DefaultValue: 0,
              },
            ],
          },
        };
      }
      alarm(`${filter.id}Alarm`, {
        AlarmDescription: filter.description,
        Namespace: NAMESPACE,
        MetricName: `${filter.id}-${this.serverless.service.provider.stage}`,
        Statistic: 'Sum',
      });
    }
    resources.OperationsDashboard = {
      Type: 'AWS::CloudWatch::Dashboard',
      Properties: {
        DashboardName: `${prefix}-operations`,
        DashboardBody: this.dashboardBody(functions, queues, stateMachine),
      },
    };
  }

  /** Queues something sends its failures to: redrive targets, Lambda destinations, rule DLQs and error actions. */
  deadLetterQueues(resources) {
    const queues = Object.keys(resources).filter((id) => resources[id].Type === 'AWS::SQS::Queue');
    const text = JSON.stringify(
      Object.values(resources).map((r) => [
        r.Properties?.RedrivePolicy,
        r.Properties?.DestinationConfig,
        r.Properties?.Targets?.map((t) => t.DeadLetterConfig),
        r.Properties?.TopicRulePayload?.ErrorAction,
      ]),
    );
    return queues.filter((id) => text.includes(`"${id}"`));
  }

  logGroupOf(resources, fn) {
    const name = resources[fn].Properties?.FunctionName;
    return Object.keys(resources).find(
      (id) =>
        resources[id].Type === 'AWS::Logs::LogGroup' &&
        resources[id].Properties?.LogGroupName === `/aws/lambda/${name}`,
    );
  }

  dashboardBody(functions, queues, stateMachine) {
    // ${Token} placeholders filled by Fn::Sub; the JSON itself has no other "${".
    const values = {};
    const token = (kind, id) => {
      const key = `${kind}${id}`;
      values[key] = kind === 'Fn' ? ref(id) : kind === 'Q' ? { 'Fn::GetAtt': [id, 'QueueName'] } : ref(id);
      return `\${${key}}`;
    };
    const widget = (title, metrics, x, y) => ({
      type: 'metric',
      x,
      y,
      width: 12,
      height: 6,
      // biome-ignore lint/suspicious/noTemplateCurlyInString: a CloudFormation Fn::Sub placeholder
      properties: { title, region: '${AWS::Region}', stat: 'Sum', period: 300, view: 'timeSeries', metrics },
    });
    const widgets = [
      widget(
        'Lambda errors',
        functions.map((fn) => ['AWS/Lambda', 'Errors', 'FunctionName', token('Fn', fn)]),
        0,
        0,
      ),
      widget(
        'Lambda throttles',
        functions.map((fn) => ['AWS/Lambda', 'Throttles', 'FunctionName', token('Fn', fn)]),
        12,
        0,
      ),
      widget(
        'Dead-letter queues (messages visible)',
        queues.map((q) => [
          'AWS/SQS',
          'ApproximateNumberOfMessagesVisible',
          'QueueName',
          token('Q', q),
          { stat: 'Maximum' },
        ]),
        0,
        6,
      ),
      widget(
        'Remediation executions',
        stateMachine
          ? ['ExecutionsStarted', 'ExecutionsSucceeded', 'ExecutionsFailed'].map((m) => [
              'AWS/States',
              m,
              'StateMachineArn',
              token('Sm', stateMachine),
            ])
          : [],
        12,
        6,
      ),
      widget(
        'Throttling, JITR refusals, OCSP failures',
        FILTERS.map((f) => [NAMESPACE, `${f.id}-${this.serverless.service.provider.stage}`]),
        0,
        12,
      ),
    ];
    return { 'Fn::Sub': [JSON.stringify({ widgets }), values] };
  }
}

module.exports = CvObservability;

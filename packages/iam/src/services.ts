/**
 * The requests AWS services make on the platform's behalf, derived from the template's own resources (not a list
 * typed by hand): what the state machine's Tasks invoke, what each IoT topic rule action sends, what each EventBridge
 * rule target starts or dead-letters, where IoT logging, Device Defender and CloudWatch Logs write, and which service
 * invokes which function. A request is made either with a service role (the role named by the resource's RoleArn) or
 * by the service principal itself, authorised by the resource's policy alone (Lambda permissions, queue policies,
 * key policies).
 */
import { UnmappedCallError } from './errors.js';
import { invokerRequests, logGroupKeyRequests } from './invokers.js';
import { type IamRequest, impliedKms } from './requests.js';
import { arn, SERVICE, type ServiceRequest } from './service-request.js';
import { ACCOUNT, type ResolvedTemplate } from './template.js';

/** A request made with `roleArn`; `undefined` role ARNs (a role outside the template) are unmapped. */
function withRole(
  template: ResolvedTemplate,
  roleArn: unknown,
  principal: string,
  origin: string,
): (r: IamRequest) => ServiceRequest {
  const role = typeof roleArn === 'string' ? template.roleIdOfArn(roleArn) : undefined;
  if (role === undefined)
    throw new UnmappedCallError(origin, `RoleArn ${String(roleArn)} is not a role of the template`);
  return (r) => ({ ...r, role, principal });
}

const queueArn = (url: string) => arn('sqs', url.split('/').pop() ?? '');

/** sqs:SendMessage on a queue, with the KMS requests SQS makes with the same credentials for an encrypted queue. */
const sendTo = (template: ResolvedTemplate, queue: string, origin: string): IamRequest[] => [
  { action: 'sqs:SendMessage', resource: queue, context: {}, origin },
  ...impliedKms('sqs:SendMessage', queue, template, origin),
];
const publishTo = (template: ResolvedTemplate, topic: string, origin: string): IamRequest[] => [
  { action: 'sns:Publish', resource: topic, context: {}, origin },
  ...impliedKms('sns:Publish', topic, template, origin),
];

/** The Task states of an ASL definition, branches and map iterators included. */
function tasks(
  states: Record<string, Record<string, unknown>>,
  path = '',
): Array<[string, Record<string, unknown>]> {
  return Object.entries(states).flatMap(([name, state]) => {
    const inner = [
      ...((state.Branches as Array<{ States: Record<string, Record<string, unknown>> }> | undefined) ?? []),
      ...[state.Iterator, state.ItemProcessor].filter((x) => x !== undefined),
    ] as Array<{ States: Record<string, Record<string, unknown>> }>;
    const own: Array<[string, Record<string, unknown>]> =
      state.Type === 'Task' ? [[`${path}${name}`, state]] : [];
    return [...own, ...inner.flatMap((b) => tasks(b.States, `${path}${name}/`))];
  });
}

/** The function a Task invokes: its Resource (a function ARN) or the lambda:invoke integration's FunctionName. */
function invokedFunction(state: Record<string, unknown>, origin: string): string {
  const resource = String(state.Resource);
  if (/^arn:[^:]+:lambda:[^:]+:\d{12}:function:/.test(resource)) return resource;
  if (/^arn:[^:]+:states:::lambda:invoke(\.waitForTaskToken)?$/.test(resource)) {
    const name = (state.Parameters as Record<string, unknown> | undefined)?.FunctionName;
    if (typeof name === 'string') return name.startsWith('arn:') ? name : arn('lambda', `function:${name}`);
    throw new UnmappedCallError(origin, 'lambda:invoke without a literal FunctionName');
  }
  throw new UnmappedCallError(
    origin,
    `Task resource ${resource} is not a Lambda function (add its service integration)`,
  );
}

/** Step Functions: each Task's invocation, log delivery for its logging configuration, X-Ray when tracing is on. */
function stateMachineRequests(template: ResolvedTemplate): ServiceRequest[] {
  return template.ofType('AWS::StepFunctions::StateMachine').flatMap(([id, r]) => {
    const p = template.resolve(r.Properties, id) as {
      RoleArn: string;
      DefinitionString?: string;
      Definition?: unknown;
      LoggingConfiguration?: { Destinations?: unknown[] };
      TracingConfiguration?: { Enabled?: boolean };
    };
    const as = withRole(template, p.RoleArn, SERVICE.states, id);
    const definition = (p.Definition ?? JSON.parse(p.DefinitionString ?? '{}')) as {
      States: Record<string, Record<string, unknown>>;
    };
    const out = tasks(definition.States).map(([name, state]) =>
      as({
        action: 'lambda:InvokeFunction',
        resource: invokedFunction(state, `${id} ${name}`),
        context: {},
        origin: `Step Functions ${id}: Task ${name}`,
      }),
    );
    // What the Step Functions guide ("IAM policies for logging to CloudWatch Logs") has the role do for vended logs.
    if ((p.LoggingConfiguration?.Destinations ?? []).length > 0) {
      for (const a of [
        'CreateLogDelivery',
        'GetLogDelivery',
        'UpdateLogDelivery',
        'DeleteLogDelivery',
        'ListLogDeliveries',
        'PutResourcePolicy',
        'DescribeResourcePolicies',
        'DescribeLogGroups',
      ]) {
        out.push(
          as({
            action: `logs:${a}`,
            resource: '*',
            context: {},
            origin: `Step Functions ${id}: log delivery`,
          }),
        );
      }
    }
    if (p.TracingConfiguration?.Enabled === true) {
      for (const a of ['PutTraceSegments', 'PutTelemetryRecords', 'GetSamplingRules', 'GetSamplingTargets']) {
        out.push(
          as({
            action: `xray:${a}`,
            resource: '*',
            context: {},
            origin: `Step Functions ${id}: X-Ray tracing`,
          }),
        );
      }
    }
    return out;
  });
}

/** One IoT rule action (or error action): its requests, with its RoleArn or as the IoT service principal. */
function ruleActionRequests(
  template: ResolvedTemplate,
  ruleArn: string,
  kind: string,
  action: Record<string, unknown>,
  origin: string,
): ServiceRequest[] {
  const as = () => withRole(template, action.RoleArn, SERVICE.iot, origin);
  switch (kind) {
    case 'Lambda':
      return [
        {
          action: 'lambda:InvokeFunction',
          resource: String(action.FunctionArn),
          context: { 'aws:SourceArn': ruleArn, 'aws:SourceAccount': ACCOUNT },
          origin,
          principal: SERVICE.iot,
        },
      ];
    case 'Sqs':
      return sendTo(template, queueArn(String(action.QueueUrl)), origin).map(as());
    case 'Sns':
      return publishTo(template, String(action.TargetArn), origin).map(as());
    case 'Republish': {
      const topic = String(action.Topic);
      if (topic.includes('${'))
        throw new UnmappedCallError(origin, `republish topic ${topic} is a substitution template`);
      return [as()({ action: 'iot:Publish', resource: arn('iot', `topic/${topic}`), context: {}, origin })];
    }
    case 'StepFunctions':
      return [
        as()({
          action: 'states:StartExecution',
          resource: arn('states', `stateMachine:${String(action.StateMachineName)}`),
          context: {},
          origin,
        }),
      ];
    default:
      throw new UnmappedCallError(
        origin,
        `IoT rule action ${kind} is not modelled: add the requests it makes`,
      );
  }
}

/** IoT topic rules: every action and the error action. */
function topicRuleRequests(template: ResolvedTemplate): ServiceRequest[] {
  return template.ofType('AWS::IoT::TopicRule').flatMap(([id, r]) => {
    const p = template.resolve(r.Properties, id) as {
      TopicRulePayload: {
        Actions?: Array<Record<string, Record<string, unknown>>>;
        ErrorAction?: Record<string, Record<string, unknown>>;
      };
    };
    const ruleArn = template.getAtt(id, 'Arn', id);
    const all = [
      ...(p.TopicRulePayload.Actions ?? []).map((a, i) => [a, `action ${i}`] as const),
      ...(p.TopicRulePayload.ErrorAction === undefined
        ? []
        : [[p.TopicRulePayload.ErrorAction, 'error action'] as const]),
    ];
    return all.flatMap(([a, which]) =>
      Object.entries(a).flatMap(([kind, action]) =>
        ruleActionRequests(template, ruleArn, kind, action, `IoT rule ${id}: ${which} (${kind})`),
      ),
    );
  });
}

/** EventBridge rules: each target (with its role, or as events.amazonaws.com) and its dead-letter queue. */
function eventRuleRequests(template: ResolvedTemplate): ServiceRequest[] {
  return template.ofType('AWS::Events::Rule').flatMap(([id, r]) => {
    const p = template.resolve(r.Properties, id) as {
      Targets?: Array<{ Arn: string; Id: string; RoleArn?: string; DeadLetterConfig?: { Arn?: string } }>;
    };
    const ruleArn = template.getAtt(id, 'Arn', id);
    const source = { 'aws:SourceArn': ruleArn, 'aws:SourceAccount': ACCOUNT };
    return (p.Targets ?? []).flatMap((t) => {
      const origin = `EventBridge ${id}: target ${t.Id}`;
      const out: ServiceRequest[] = [];
      if (t.Arn.includes(':states:') && t.Arn.includes(':stateMachine:')) {
        out.push(
          withRole(
            template,
            t.RoleArn,
            SERVICE.events,
            origin,
          )({ action: 'states:StartExecution', resource: t.Arn, context: {}, origin }),
        );
      } else if (t.Arn.includes(':lambda:')) {
        out.push({
          action: 'lambda:InvokeFunction',
          resource: t.Arn,
          context: source,
          origin,
          principal: SERVICE.events,
        });
      } else {
        throw new UnmappedCallError(origin, `target ${t.Arn} is not modelled: add the requests it makes`);
      }
      const dlq = t.DeadLetterConfig?.Arn;
      if (dlq !== undefined) {
        // EventBridge sends to the DLQ as its service principal: the queue policy and the key policy must allow it.
        const key = template.encryptionKeyOf(dlq);
        out.push({
          action: 'sqs:SendMessage',
          resource: dlq,
          context: source,
          origin: `${origin} dead-letter queue`,
          principal: SERVICE.events,
        });
        for (const action of key === undefined ? [] : ['kms:GenerateDataKey', 'kms:Decrypt']) {
          out.push({
            action,
            resource: key ?? '',
            context: source,
            origin: `${origin} dead-letter queue (its key)`,
            principal: SERVICE.events,
          });
        }
      }
      return out;
    });
  });
}

/** IoT v2 logging, Device Defender audit notifications and Detect alerts: each with the role its resource names. */
function iotAccountRequests(template: ResolvedTemplate): ServiceRequest[] {
  const out: ServiceRequest[] = [];
  for (const [id, r] of template.ofType('AWS::IoT::Logging')) {
    const p = template.resolve(r.Properties, id) as { RoleArn: string };
    const as = withRole(template, p.RoleArn, SERVICE.iot, id);
    // AWS IoT writes to the log group AWSIotLogsV2 (the group CloudWatch Logs authorises as `log-group:<name>:*`).
    const stream = arn('logs', 'log-group:AWSIotLogsV2:log-stream:0123456789abcdef');
    for (const [action, resource] of [
      ['logs:CreateLogStream', stream],
      ['logs:PutLogEvents', stream],
      ['logs:DescribeLogStreams', arn('logs', 'log-group:AWSIotLogsV2:*')],
    ] as const) {
      out.push(as({ action, resource, context: {}, origin: `IoT logging ${id}` }));
    }
  }
  for (const [id, r] of template.ofType('AWS::IoT::AccountAuditConfiguration')) {
    const p = template.resolve(r.Properties, id) as {
      AuditNotificationTargetConfigurations?: {
        Sns?: { Enabled?: boolean; RoleArn: string; TargetArn: string };
      };
    };
    const sns = p.AuditNotificationTargetConfigurations?.Sns;
    if (sns !== undefined && sns.Enabled !== false) {
      const origin = `Device Defender audit ${id}: SNS notification`;
      out.push(
        ...publishTo(template, sns.TargetArn, origin).map(
          withRole(template, sns.RoleArn, SERVICE.iot, origin),
        ),
      );
    }
  }
  for (const [id, r] of template.ofType('AWS::IoT::SecurityProfile')) {
    const p = template.resolve(r.Properties, id) as {
      AlertTargets?: Record<string, { AlertTargetArn: string; RoleArn: string }>;
    };
    for (const [kind, target] of Object.entries(p.AlertTargets ?? {})) {
      const origin = `Device Defender Detect ${id}: ${kind} alert`;
      out.push(
        ...publishTo(template, target.AlertTargetArn, origin).map(
          withRole(template, target.RoleArn, SERVICE.iot, origin),
        ),
      );
    }
  }
  return out;
}

/**
 * Every request the template's services make, or the derivation errors (an integration this module does not model).
 * @example const { requests } = serviceRequests(template); // lambda:InvokeFunction by the state machine's role, ...
 */
export function serviceRequests(template: ResolvedTemplate): {
  requests: ServiceRequest[];
  unmapped: string[];
} {
  const requests: ServiceRequest[] = [];
  const unmapped: string[] = [];
  for (const derive of [
    stateMachineRequests,
    topicRuleRequests,
    eventRuleRequests,
    iotAccountRequests,
    invokerRequests,
    logGroupKeyRequests,
  ]) {
    try {
      requests.push(...derive(template));
    } catch (error) {
      unmapped.push(error instanceof Error ? error.message : String(error));
    }
  }
  return { requests, unmapped };
}

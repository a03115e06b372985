/**
 * Requests AWS makes with a function's role on the function's behalf, derived from the function's configuration in the
 * template (not from its code): log delivery, X-Ray segments, the on-failure destination, the SQS event source.
 */
import { type IamRequest, impliedKms } from './requests.js';
import { ACCOUNT, type LambdaFunction, PARTITION, REGION, type ResolvedTemplate } from './template.js';

const streamArn = (fn: LambdaFunction) =>
  `arn:${PARTITION}:logs:${REGION}:${ACCOUNT}:log-group:/aws/lambda/${fn.name}:log-stream:2026/01/01/[$LATEST]0`;

function sqs(actions: string[], queueArn: string, origin: string, template: ResolvedTemplate): IamRequest[] {
  return actions.flatMap((action) => [
    { action, resource: queueArn, context: {}, origin },
    ...impliedKms(action, queueArn, template, origin),
  ]);
}

/**
 * @example platformRequests(fn, template) // logs:PutLogEvents on its log stream, xray:PutTraceSegments, ...
 */
export function platformRequests(fn: LambdaFunction, template: ResolvedTemplate): IamRequest[] {
  const out: IamRequest[] = [
    { action: 'logs:CreateLogStream', resource: streamArn(fn), context: {}, origin: 'Lambda: log delivery' },
    { action: 'logs:PutLogEvents', resource: streamArn(fn), context: {}, origin: 'Lambda: log delivery' },
  ];
  if (fn.tracing) {
    for (const action of ['xray:PutTraceSegments', 'xray:PutTelemetryRecords']) {
      out.push({ action, resource: '*', context: {}, origin: 'Lambda: active tracing' });
    }
  }
  for (const [id, r] of template.ofType('AWS::Lambda::EventInvokeConfig')) {
    const p = template.resolve(r.Properties, id) as {
      FunctionName: string;
      DestinationConfig?: { OnFailure?: { Destination?: string }; OnSuccess?: { Destination?: string } };
    };
    if (p.FunctionName !== fn.name) continue;
    for (const [when, dest] of Object.entries(p.DestinationConfig ?? {})) {
      const arn = dest?.Destination ?? '';
      if (arn.includes(':sqs:'))
        out.push(...sqs(['sqs:SendMessage'], arn, `Lambda: ${when} destination`, template));
    }
  }
  for (const [id, r] of template.ofType('AWS::Lambda::EventSourceMapping')) {
    const p = template.resolve(r.Properties, id) as { FunctionName: string; EventSourceArn: string };
    if (!p.FunctionName.endsWith(`:function:${fn.name}`) && p.FunctionName !== fn.name) continue;
    if (p.EventSourceArn.includes(':sqs:')) {
      out.push(
        ...sqs(
          ['sqs:ReceiveMessage', 'sqs:DeleteMessage', 'sqs:GetQueueAttributes'],
          p.EventSourceArn,
          'Lambda: SQS event source',
          template,
        ),
      );
    }
  }
  return out;
}

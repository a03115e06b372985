/**
 * The service-role proof is not vacuous: on copies of the packaged template with a mistake put in (a statement
 * removed, a Task the role cannot invoke, a rule role without the queue key's permission, a queue, key or Lambda
 * permission that does not let the service in), the derived requests are denied with the role, action and reason.
 */
import { describe, expect, it } from 'vitest';
import { type CfnTemplate, type PolicyStatement, proveServices, ResolvedTemplate } from '../src/index.js';
import { packagedTemplate } from './support.js';

const { raw } = packagedTemplate();

type Props = Record<string, unknown>;
/** A copy of the packaged template with `edit` applied to its resources. */
function mutated(
  edit: (resources: Record<string, { Type: string; Properties: Props }>) => void,
): ResolvedTemplate {
  const copy = structuredClone(raw) as CfnTemplate;
  edit(copy.Resources as Record<string, { Type: string; Properties: Props }>);
  return new ResolvedTemplate(copy);
}
const statementsOf = (props: Props) =>
  (props.Policies as Array<{ PolicyDocument: { Statement: PolicyStatement[] } }>)[0]?.PolicyDocument ?? {
    Statement: [],
  };
const keyPolicy = (props: Props) => props.KeyPolicy as { Statement: PolicyStatement[] };
const actions = (s: PolicyStatement) => [s.Action ?? []].flat();

async function deniedOf(template: ResolvedTemplate) {
  const proof = await proveServices(template);
  return [
    ...proof.roles.flatMap((r) =>
      r.denied.map((v) => ({
        role: r.role.logicalId,
        action: v.request.action,
        resource: v.request.resource,
        reason: v.reason,
      })),
    ),
    ...proof.principalDenied.map((v) => ({
      role: '(service)',
      action: v.request.action,
      resource: v.request.resource,
      reason: v.reason,
    })),
  ];
}

describe('the service-role proof on a template with a mistake', () => {
  it('removing any one statement of any service role makes one of its requests denied, unless its key policy already grants that use to the account through the service', async () => {
    const base = new ResolvedTemplate(raw);
    const roles = (await proveServices(base)).roles.map((r) => r.role.logicalId);
    expect(roles.length).toBeGreaterThan(5);
    const survivors: string[] = [];
    let tried = 0;
    for (const roleId of roles) {
      const count = statementsOf((raw.Resources?.[roleId]?.Properties ?? {}) as Props).Statement.length;
      for (let i = 0; i < count; i++) {
        let removed: PolicyStatement | undefined;
        const template = mutated((r) => {
          const doc = statementsOf(r[roleId]?.Properties ?? {});
          [removed] = doc.Statement.splice(i, 1);
        });
        tried++;
        const denied = (await deniedOf(template)).filter((d) => d.role === roleId);
        if (denied.length > 0) continue;
        // DataAtRestKey's UseThroughDynamoDbSqsSns lets any principal of the account use it through SQS and SNS.
        const viaServiceOnly =
          removed !== undefined && actions(removed).every((a) => String(a).startsWith('kms:'));
        if (!viaServiceOnly)
          survivors.push(`${roleId}: ${actions(removed ?? { Effect: 'Allow' }).join(',')}`);
      }
    }
    expect(tried).toBeGreaterThan(10);
    expect(survivors).toEqual([]);
  });

  it('a trust policy without aws:SourceAccount lets its service assume the role on behalf of another account (each service role)', async () => {
    const roles = (await proveServices(new ResolvedTemplate(raw))).roles.map((r) => r.role.logicalId);
    const template = mutated((r) => {
      for (const id of roles) {
        const trust = r[id]?.Properties.AssumeRolePolicyDocument as { Statement: PolicyStatement[] };
        for (const statement of trust.Statement) delete statement.Condition;
      }
    });
    const proof = await proveServices(template);
    expect(
      proof.roles.filter((r) => r.assume.otherAccount.some((v) => v.allowed)).map((r) => r.role.logicalId),
    ).toEqual(roles);
  });

  it('a Task whose function the state machine role cannot invoke is denied, with the role, action and reason', async () => {
    const template = mutated((r) => {
      const sm = r.CvDashsecurityDashdevDashremediation?.Properties as {
        DefinitionString: { 'Fn::Sub': [string, Props] };
      };
      const [body, vars] = sm.DefinitionString['Fn::Sub'];
      const definition = JSON.parse(body) as { States: Record<string, Props> };
      // A function of the stack that is not a remediation step (what `Fn::GetAtt CommandSenderLambdaFunction.Arn` gives).
      const commandSender = 'arn:aws:lambda:eu-west-1:123456789012:function:cv-security-dev-commandSender';
      definition.States.SendCommand = { Type: 'Task', Resource: commandSender, End: true };
      sm.DefinitionString['Fn::Sub'] = [JSON.stringify(definition), vars];
    });
    expect(await deniedOf(template)).toEqual([
      {
        role: 'RemediationStateMachineRole',
        action: 'lambda:InvokeFunction',
        resource: 'arn:aws:lambda:eu-west-1:123456789012:function:cv-security-dev-commandSender',
        reason: expect.stringMatching(/InvokeSteps \(resource differs\)/),
      },
    ]);
  });

  it('a Task on a service integration the proof does not model is reported, not silently passed', async () => {
    const template = mutated((r) => {
      const sm = r.CvDashsecurityDashdevDashremediation?.Properties as {
        DefinitionString: { 'Fn::Sub': [string, Props] };
      };
      const [body, vars] = sm.DefinitionString['Fn::Sub'];
      const definition = JSON.parse(body) as { States: Record<string, Props> };
      definition.States.Enqueue = { Type: 'Task', Resource: 'arn:aws:states:::sqs:sendMessage', End: true };
      sm.DefinitionString['Fn::Sub'] = [JSON.stringify(definition), vars];
    });
    expect((await proveServices(template)).unmapped).toEqual([
      expect.stringMatching(/Enqueue.*sqs:sendMessage.*not a Lambda function/),
    ]);
  });

  it('a rule whose role lacks the queue key permission is denied once the key policy no longer grants the account SQS use', async () => {
    const withoutViaService = (r: Record<string, { Properties: Props }>) => {
      const key = keyPolicy(r.DataAtRestKey?.Properties ?? {});
      key.Statement = key.Statement.filter((s) => s.Sid !== 'UseThroughDynamoDbSqsSns');
    };
    // The key policy alone no longer lets the role in: its own KMS grant does.
    expect(
      (await deniedOf(mutated(withoutViaService))).filter((d) => d.role === 'JitrRuleErrorActionRole'),
    ).toEqual([]);
    const template = mutated((r) => {
      withoutViaService(r);
      const doc = statementsOf(r.JitrRuleErrorActionRole?.Properties ?? {});
      doc.Statement = doc.Statement.filter((s) => !actions(s).some((a) => String(a).startsWith('kms:')));
    });
    const denied = (await deniedOf(template)).filter((d) => d.role === 'JitrRuleErrorActionRole');
    expect(denied.map((d) => d.action).sort()).toEqual(['kms:Decrypt', 'kms:GenerateDataKey']);
    expect(denied[0]?.reason).toMatch(/no statement of the role allows this action/);
  });

  it("a Lambda permission naming another rule denies the IoT rule's invocation, and is reported unused", async () => {
    const template = mutated((r) => {
      const p = r.TelemetryIngestLambdaPermissionIotTopicRule1?.Properties as Props;
      p.SourceArn = 'arn:aws:iot:eu-west-1:123456789012:rule/another_rule';
    });
    const proof = await proveServices(template);
    expect(proof.principalDenied.map((v) => v.request.origin)).toEqual([
      'IoT rule TelemetryIngestIotTopicRule1: action 0 (Lambda)',
    ]);
    expect(proof.unusedPermissions).toEqual(['TelemetryIngestLambdaPermissionIotTopicRule1']);
  });

  it("the EventBridge dead-letter send is denied without the queue policy's or the key policy's EventBridge statement", async () => {
    const noQueueStatement = mutated((r) => {
      const doc = r.RemediationEventsDLQPolicy?.Properties.PolicyDocument as { Statement: PolicyStatement[] };
      doc.Statement = doc.Statement.filter((s) => s.Effect === 'Deny');
    });
    expect((await deniedOf(noQueueStatement)).map((d) => `${d.role} ${d.action}`)).toEqual([
      '(service) sqs:SendMessage',
    ]);
    const noKeyStatement = mutated((r) => {
      const key = keyPolicy(r.DataAtRestKey?.Properties ?? {});
      key.Statement = key.Statement.filter(
        (s) => s.Sid !== 'EventBridgeAndCloudWatchSendToOwnQueuesAndTopics',
      );
    });
    expect((await deniedOf(noKeyStatement)).map((d) => `${d.role} ${d.action}`).sort()).toEqual([
      '(service) kms:Decrypt',
      '(service) kms:GenerateDataKey',
    ]);
  });

  it('IoT logging scoped to another log group, and a log group whose key policy does not name it, are denied', async () => {
    const otherGroup = mutated((r) => {
      const doc = statementsOf(r.IotLoggingRole?.Properties ?? {});
      for (const s of doc.Statement)
        s.Resource = 'arn:aws:logs:eu-west-1:123456789012:log-group:Other:*' as never;
    });
    expect((await deniedOf(otherGroup)).map((d) => `${d.role} ${d.action}`).sort()).toEqual([
      'IotLoggingRole logs:CreateLogStream',
      'IotLoggingRole logs:DescribeLogStreams',
      'IotLoggingRole logs:PutLogEvents',
    ]);
    const renamed = mutated((r) => {
      (r.IotLogsV2LogGroup?.Properties as Props).LogGroupName = 'SomeoneElsesGroup';
    });
    expect((await deniedOf(renamed)).map((d) => `${d.role} ${d.action} ${d.reason}`).sort()).toEqual([
      expect.stringMatching(/^\(service\) kms:Decrypt/),
      expect.stringMatching(/^\(service\) kms:GenerateDataKey/),
    ]);
  });
});

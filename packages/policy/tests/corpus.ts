// biome-ignore-all lint/suspicious/noTemplateCurlyInString: IoT policy variables are literal ${...} strings
/**
 * Corpus of overly permissive IoT policy patterns (after AWS IoT Device Defender's
 * IOT_POLICY_OVERLY_PERMISSIVE_CHECK, the AWS IoT Core policy examples, and mistakes seen
 * in device fleets), each with the finding code the analyzer must report. docs/policies.md
 * lists the same corpus.
 */
import type { PolicyFindingCode } from '../src/index.js';

export const ARN = 'arn:aws:iot:eu-west-1:123456789012';
export const T = '${iot:Connection.Thing.ThingName}';
const ATTACHED = { Bool: { 'iot:Connection.Thing.IsAttached': 'true' } };
/** A compliant connect statement, so that other statements are judged on their own. */
const CONNECT = {
  Effect: 'Allow',
  Action: 'iot:Connect',
  Resource: `${ARN}:client/${T}`,
  Condition: ATTACHED,
};

function doc(...statements: unknown[]): unknown {
  return { Version: '2012-10-17', Statement: statements };
}

export interface CorpusEntry {
  name: string;
  policy: unknown;
  code: PolicyFindingCode;
  /** Index of the statement the finding must point at. */
  statement: number;
}

export const PERMISSIVE_CORPUS: CorpusEntry[] = [
  {
    name: 'iot:* on every resource',
    policy: doc({ Effect: 'Allow', Action: 'iot:*', Resource: '*' }),
    code: 'WILDCARD_ACTION',
    statement: 0,
  },
  {
    name: '"*" action (all services) on every resource',
    policy: doc({ Effect: 'Allow', Action: '*', Resource: '*' }),
    code: 'WILDCARD_ACTION',
    statement: 0,
  },
  {
    name: 'iot:* on the thing-scoped resources only (still grants control plane)',
    policy: doc(CONNECT, { Effect: 'Allow', Action: ['iot:*'], Resource: [`${ARN}:thing/${T}`] }),
    code: 'CONTROL_PLANE_ACTION',
    statement: 1,
  },
  {
    name: 'connect with any client id (client/*)',
    policy: doc({ Effect: 'Allow', Action: 'iot:Connect', Resource: `${ARN}:client/*` }),
    code: 'CLIENT_ID_NOT_BOUND_TO_THING',
    statement: 0,
  },
  {
    name: 'connect on "*"',
    policy: doc({ Effect: 'Allow', Action: 'iot:Connect', Resource: '*' }),
    code: 'CLIENT_ID_NOT_BOUND_TO_THING',
    statement: 0,
  },
  {
    name: 'connect on client/${iot:ClientId} (tautology: any client id)',
    policy: doc({ Effect: 'Allow', Action: 'iot:Connect', Resource: `${ARN}:client/\${iot:ClientId}` }),
    code: 'CLIENT_ID_NOT_BOUND_TO_THING',
    statement: 0,
  },
  {
    name: 'connect with the thing name as a prefix (client/${thing}*)',
    policy: doc({
      Effect: 'Allow',
      Action: 'iot:Connect',
      Resource: `${ARN}:client/${T}*`,
      Condition: ATTACHED,
    }),
    code: 'CLIENT_ID_NOT_BOUND_TO_THING',
    statement: 0,
  },
  {
    name: 'connect as the thing without IsAttached',
    policy: doc({ Effect: 'Allow', Action: 'iot:Connect', Resource: `${ARN}:client/${T}` }),
    code: 'CONNECT_WITHOUT_IS_ATTACHED',
    statement: 0,
  },
  {
    name: 'connect as the thing with IsAttached false',
    policy: doc({
      Effect: 'Allow',
      Action: 'iot:Connect',
      Resource: `${ARN}:client/${T}`,
      Condition: { Bool: { 'iot:Connection.Thing.IsAttached': 'false' } },
    }),
    code: 'CONNECT_WITHOUT_IS_ATTACHED',
    statement: 0,
  },
  {
    name: 'publish to every topic',
    policy: doc(CONNECT, { Effect: 'Allow', Action: 'iot:Publish', Resource: `${ARN}:topic/*` }),
    code: 'TOPIC_NOT_THING_SCOPED',
    statement: 1,
  },
  {
    name: "publish to every ECU's telemetry (ecus/*/telemetry)",
    policy: doc(CONNECT, {
      Effect: 'Allow',
      Action: 'iot:Publish',
      Resource: `${ARN}:topic/ecus/*/telemetry`,
    }),
    code: 'TOPIC_NOT_THING_SCOPED',
    statement: 1,
  },
  {
    name: 'publish with the thing name as a topic prefix (ecus/${thing}*)',
    policy: doc(CONNECT, { Effect: 'Allow', Action: 'iot:Publish', Resource: `${ARN}:topic/ecus/${T}*` }),
    code: 'TOPIC_NOT_THING_SCOPED',
    statement: 1,
  },
  {
    name: 'publish scoped by a thing attribute shared by several things (the VIN)',
    policy: doc(CONNECT, {
      Effect: 'Allow',
      Action: 'iot:Publish',
      Resource: `${ARN}:topic/vehicles/\${iot:Connection.Thing.Attributes[vin]}/*`,
    }),
    code: 'TOPIC_NOT_THING_SCOPED',
    statement: 1,
  },
  {
    name: 'wildcard action iot:Pub* on every topic',
    policy: doc(CONNECT, { Effect: 'Allow', Action: 'iot:Pub*', Resource: `${ARN}:topic/*` }),
    code: 'TOPIC_NOT_THING_SCOPED',
    statement: 1,
  },
  {
    name: 'upper-case action name IOT:PUBLISH on "*"',
    policy: doc(CONNECT, { Effect: 'Allow', Action: ['IOT:PUBLISH'], Resource: ['*'] }),
    code: 'TOPIC_NOT_THING_SCOPED',
    statement: 1,
  },
  {
    name: 'retained publish to every topic',
    policy: doc(CONNECT, { Effect: 'Allow', Action: 'iot:RetainPublish', Resource: `${ARN}:topic/*` }),
    code: 'TOPIC_NOT_THING_SCOPED',
    statement: 1,
  },
  {
    name: 'resource wildcard over the whole account (arn:aws:iot:region:account:*)',
    policy: doc(CONNECT, { Effect: 'Allow', Action: 'iot:Receive', Resource: `${ARN}:*` }),
    code: 'TOPIC_NOT_THING_SCOPED',
    statement: 1,
  },
  {
    name: "subscribe to every ECU's commands with the MQTT '+' wildcard",
    policy: doc(CONNECT, {
      Effect: 'Allow',
      Action: 'iot:Subscribe',
      Resource: `${ARN}:topicfilter/ecus/+/commands`,
    }),
    code: 'TOPIC_FILTER_NOT_THING_SCOPED',
    statement: 1,
  },
  {
    name: "subscribe to '#'",
    policy: doc(CONNECT, { Effect: 'Allow', Action: 'iot:Subscribe', Resource: `${ARN}:topicfilter/#` }),
    code: 'TOPIC_FILTER_NOT_THING_SCOPED',
    statement: 1,
  },
  {
    name: "subscribe to every thing's job notifications ($aws/things/*/jobs/*)",
    policy: doc(CONNECT, {
      Effect: 'Allow',
      Action: 'iot:Subscribe',
      Resource: `${ARN}:topicfilter/$aws/things/*/jobs/*`,
    }),
    code: 'TOPIC_FILTER_NOT_THING_SCOPED',
    statement: 1,
  },
  {
    name: "publish to every thing's shadow update topic",
    policy: doc(CONNECT, {
      Effect: 'Allow',
      Action: 'iot:Publish',
      Resource: `${ARN}:topic/$aws/things/*/shadow/update`,
    }),
    code: 'TOPIC_NOT_THING_SCOPED',
    statement: 1,
  },
  {
    name: 'iot:UpdateThingShadow on all things',
    policy: doc(CONNECT, { Effect: 'Allow', Action: 'iot:UpdateThingShadow', Resource: `${ARN}:thing/*` }),
    code: 'SHADOW_NOT_THING_SCOPED',
    statement: 1,
  },
  {
    name: 'job executions of all things',
    policy: doc(CONNECT, {
      Effect: 'Allow',
      Action: ['iot:GetPendingJobExecutions', 'iot:UpdateJobExecution'],
      Resource: `${ARN}:thing/*`,
    }),
    code: 'JOB_EXECUTION_NOT_THING_SCOPED',
    statement: 1,
  },
  {
    name: 'iot:DeleteThing granted to a device',
    policy: doc(CONNECT, { Effect: 'Allow', Action: 'iot:DeleteThing', Resource: `${ARN}:thing/${T}` }),
    code: 'CONTROL_PLANE_ACTION',
    statement: 1,
  },
  {
    name: 'policy management granted to a device (AttachPolicy, CreatePolicyVersion)',
    policy: doc(CONNECT, {
      Effect: 'Allow',
      Action: ['iot:AttachPolicy', 'iot:CreatePolicyVersion'],
      Resource: `${ARN}:policy/*`,
    }),
    code: 'CONTROL_PLANE_ACTION',
    statement: 1,
  },
  {
    name: 'certificate management through a wildcard (iot:*Certificate*)',
    policy: doc(CONNECT, { Effect: 'Allow', Action: 'iot:*Certificate*', Resource: '*' }),
    code: 'CONTROL_PLANE_ACTION',
    statement: 1,
  },
  {
    name: 'Allow with NotAction',
    policy: doc(CONNECT, { Effect: 'Allow', NotAction: 'iot:DeleteThing', Resource: `${ARN}:thing/${T}` }),
    code: 'ALLOW_NOT_ACTION',
    statement: 1,
  },
  {
    name: 'Allow with NotResource',
    policy: doc(CONNECT, {
      Effect: 'Allow',
      Action: 'iot:Publish',
      NotResource: `${ARN}:topic/ecus/admin`,
    }),
    code: 'ALLOW_NOT_RESOURCE',
    statement: 1,
  },
  {
    name: 'topics scoped by ${iot:ClientId} while client ids are not bound to the thing',
    policy: doc(
      { Effect: 'Allow', Action: 'iot:Connect', Resource: `${ARN}:client/*` },
      { Effect: 'Allow', Action: 'iot:Publish', Resource: `${ARN}:topic/ecus/\${iot:ClientId}/telemetry` },
    ),
    code: 'TOPIC_NOT_THING_SCOPED',
    statement: 1,
  },
  {
    name: 'credentials for any role alias',
    policy: doc(CONNECT, {
      Effect: 'Allow',
      Action: 'iot:AssumeRoleWithCertificate',
      Resource: `${ARN}:rolealias/*`,
    }),
    code: 'ROLE_ALIAS_NOT_SCOPED',
    statement: 1,
  },
  {
    name: 'listing every retained message of the account',
    policy: doc(CONNECT, { Effect: 'Allow', Action: 'iot:ListRetainedMessages', Resource: '*' }),
    code: 'RETAINED_MESSAGES_NOT_THING_SCOPED',
    statement: 1,
  },
  {
    name: 'wildcard region and account in an otherwise scoped ARN',
    policy: doc(CONNECT, {
      Effect: 'Allow',
      Action: 'iot:Publish',
      Resource: `arn:aws:iot:*:*:topic/ecus/${T}/telemetry`,
    }),
    code: 'RESOURCE_WILDCARD_ACCOUNT_OR_REGION',
    statement: 1,
  },
  {
    name: 'policy variables with the 2008 policy language (taken literally)',
    policy: {
      Version: '2008-10-17',
      Statement: [
        { Effect: 'Allow', Action: 'iot:Connect', Resource: `${ARN}:client/${T}`, Condition: ATTACHED },
      ],
    },
    code: 'POLICY_VARIABLES_NEED_VERSION_2012',
    statement: 0,
  },
  {
    name: 'a non-IoT action in an IoT policy',
    policy: doc(CONNECT, { Effect: 'Allow', Action: 's3:GetObject', Resource: '*' }),
    code: 'NON_IOT_ACTION',
    statement: 1,
  },
];

/** Policies that are least privilege and must produce no finding. */
export const COMPLIANT_CORPUS: { name: string; policy: unknown }[] = [
  {
    name: 'AWS example: connect as the thing, publish on its own topic (IsAttached added)',
    policy: doc(CONNECT, { Effect: 'Allow', Action: ['iot:Publish'], Resource: [`${ARN}:topic/${T}`] }),
  },
  {
    name: 'AWS example: fixed client id, topics scoped by ${iot:ClientId}',
    policy: doc(
      { Effect: 'Allow', Action: ['iot:Connect'], Resource: [`${ARN}:client/client1`] },
      { Effect: 'Allow', Action: ['iot:Publish'], Resource: [`${ARN}:topic/\${iot:ClientId}`] },
    ),
  },
  {
    name: 'topics scoped by the certificate common name',
    policy: doc(CONNECT, {
      Effect: 'Allow',
      Action: 'iot:Publish',
      Resource: `${ARN}:topic/ecus/\${iot:Certificate.Subject.CommonName}/telemetry`,
    }),
  },
  {
    name: 'own shadow, classic and named, as thing resources',
    policy: doc(CONNECT, {
      Effect: 'Allow',
      Action: ['iot:GetThingShadow', 'iot:UpdateThingShadow'],
      Resource: [`${ARN}:thing/${T}`, `${ARN}:thing/${T}/config`],
    }),
  },
  {
    name: 'own job executions through the Jobs API',
    policy: doc(CONNECT, {
      Effect: 'Allow',
      Action: ['iot:DescribeJobExecution', 'iot:GetPendingJobExecutions', 'iot:StartNextPendingJobExecution'],
      Resource: `${ARN}:thing/${T}`,
    }),
  },
  {
    name: 'wildcards after the thing level are fine',
    policy: doc(
      CONNECT,
      { Effect: 'Allow', Action: 'iot:Subscribe', Resource: `${ARN}:topicfilter/ecus/${T}/#` },
      { Effect: 'Allow', Action: 'iot:Receive', Resource: `${ARN}:topic/ecus/${T}/*` },
    ),
  },
  {
    name: 'broad Deny statements next to a scoped Allow',
    policy: doc(
      CONNECT,
      {
        Effect: 'Deny',
        Action: 'iot:*',
        Resource: '*',
        Condition: { Bool: { 'aws:SecureTransport': 'false' } },
      },
      { Effect: 'Deny', NotAction: 'iot:Connect', NotResource: `${ARN}:client/${T}` },
      { Effect: 'Deny', Action: 'iot:Publish', Resource: `${ARN}:topic/ecus/*/commands` },
    ),
  },
  {
    name: 'a fixed broadcast topic the device only receives',
    policy: doc(CONNECT, {
      Effect: 'Allow',
      Action: 'iot:Receive',
      Resource: `${ARN}:topic/fleet/announcements`,
    }),
  },
  {
    name: 'Greengrass discovery for the own thing',
    policy: doc(CONNECT, {
      Effect: 'Allow',
      Action: 'greengrass:Discover',
      Resource: `arn:aws:iot:eu-west-1:123456789012:thing/${T}`,
    }),
  },
  {
    name: 'single Statement object, lower-case action, no variables and no Version',
    policy: { Statement: { Effect: 'Allow', Action: 'iot:connect', Resource: `${ARN}:client/ecu-bench-01` } },
  },
];

/**
 * IAM enforcement of the local cloud (issue 13): requests signed with a function's credentials are evaluated against
 * that function's role in the packaged template (`pnpm run package`), ECU credentials against the credential-provider
 * role bound to the thing name; a denial is the service's own AccessDenied in its wire format, and nothing is done.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  CreateTableCommand,
  DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  QueryCommand,
  ScanCommand,
} from '@aws-sdk/client-dynamodb';
import { CreateThingCommand, IoTClient } from '@aws-sdk/client-iot';
import { DecryptCommand, EncryptCommand, GenerateDataKeyCommand, KMSClient } from '@aws-sdk/client-kms';
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { CreateOpsItemCommand, DescribeOpsItemsCommand, SSMClient } from '@aws-sdk/client-ssm';
import type { CfnTemplate } from '@cv/iam';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Credentials, IamEnforcer, LocalCloud } from '../src/index.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const TEMPLATE = join(ROOT, '.serverless', 'cloudformation-template-update-stack.json');
if (!existsSync(TEMPLATE)) throw new Error(`${TEMPLATE} is missing: run \`pnpm run package\` first`);
const template = JSON.parse(readFileSync(TEMPLATE, 'utf8')) as CfnTemplate;

const ALERT_TOPIC = 'arn:aws:sns:eu-west-1:123456789012:cv-security-dev-security-alerts';
const ACCESS_TABLE = 'cv-security-dev-vehicle-access';
const COMMAND_KEY = 'alias/cv-security-dev-command-encryption';
const TELEMETRY_KEY = 'alias/cv-security-dev-telemetry';
const A = '1HGCM82633A004352_gw-0001';
const B = '1HGCM82633A004352_tcu-0002';
const JTI = '3b241101-e2bb-4255-8caf-4136c566a962';

let cloud: LocalCloud;
let iam: IamEnforcer;
const config = (credentials: Credentials) => ({
  endpoint: cloud.endpoint,
  region: cloud.region,
  credentials,
});
const operator = () => cloud.clientConfig();

/** The error the SDK raised (name, HTTP status), or 'ok'. */
async function outcome(p: Promise<unknown>): Promise<string> {
  try {
    await p;
    return 'ok';
  } catch (error) {
    const e = error as { name?: string; $metadata?: { httpStatusCode?: number } };
    return `${e.name} ${e.$metadata?.httpStatusCode}`;
  }
}

async function startEnforcing(t: CfnTemplate): Promise<{ cloud: LocalCloud; iam: IamEnforcer }> {
  const c = await LocalCloud.start({
    kmsKeys: [
      { keyId: '11111111-1111-4111-8111-111111111111', spec: 'SYMMETRIC_DEFAULT', aliases: [COMMAND_KEY] },
      { keyId: '22222222-2222-4222-8222-222222222222', spec: 'SYMMETRIC_DEFAULT', aliases: [TELEMETRY_KEY] },
    ],
    snsTopics: [ALERT_TOPIC],
    registerOperationalCa: false,
  });
  const enforcer = new IamEnforcer(t);
  c.enforce(enforcer);
  return { cloud: c, iam: enforcer };
}

beforeAll(async () => {
  ({ cloud, iam } = await startEnforcing(template));
  await new DynamoDBClient(operator()).send(
    new CreateTableCommand({
      TableName: ACCESS_TABLE,
      BillingMode: 'PAY_PER_REQUEST',
      AttributeDefinitions: [
        { AttributeName: 'userSub', AttributeType: 'S' },
        { AttributeName: 'vin', AttributeType: 'S' },
      ],
      KeySchema: [
        { AttributeName: 'userSub', KeyType: 'HASH' },
        { AttributeName: 'vin', KeyType: 'RANGE' },
      ],
    }),
  );
}, 60_000);
afterAll(async () => {
  await cloud?.stop();
});

describe('ECU credentials bound to the thing name (credentials-iot:ThingName)', () => {
  it("decrypt the ECU's own command; another ECU's credentials get AccessDeniedException and no plaintext", async () => {
    const sender = new KMSClient(config(iam.functionCredentials('commandSender')));
    const plaintext = new TextEncoder().encode('{"cmd":"unlock"}');
    const { CiphertextBlob } = await sender.send(
      new EncryptCommand({
        KeyId: COMMAND_KEY,
        Plaintext: plaintext,
        EncryptionContext: { aud: A, jti: JTI },
      }),
    );
    const decrypt = (thing: string) =>
      new KMSClient(config(iam.ecuCredentials(thing))).send(
        new DecryptCommand({ CiphertextBlob, EncryptionContext: { aud: A, jti: JTI } }),
      );
    const own = await decrypt(A);
    expect(new TextDecoder().decode(own.Plaintext)).toBe('{"cmd":"unlock"}');
    expect(await outcome(decrypt(B))).toBe('AccessDeniedException 400');
  });

  it("cannot generate a telemetry data key under another thing's context", async () => {
    const kms = new KMSClient(config(iam.ecuCredentials(A)));
    const generate = (thing: string) =>
      kms.send(
        new GenerateDataKeyCommand({
          KeyId: TELEMETRY_KEY,
          KeySpec: 'AES_256',
          EncryptionContext: { thing, kind: 'telemetry' },
        }),
      );
    expect(await outcome(generate(A))).toBe('ok');
    expect(await outcome(generate(B))).toBe('AccessDeniedException 400');
  });
});

describe("a function's credentials get what its role grants, and the service's AccessDenied otherwise", () => {
  it('SSM (awsJson): openTicket creates and describes OpsItems; command-sender is denied and nothing is stored', async () => {
    const ticket = new SSMClient(config(iam.functionCredentials('remediationOpenTicket')));
    expect(await outcome(ticket.send(new DescribeOpsItemsCommand({ OpsItemFilters: [] })))).toBe('ok');
    const before = cloud.ssm.opsItems.size;
    const denied = new SSMClient(config(iam.functionCredentials('commandSender'))).send(
      new CreateOpsItemCommand({ Title: 't', Description: 'd', Source: 'cv-security' }),
    );
    expect(await outcome(denied)).toBe('AccessDeniedException 400');
    expect(cloud.ssm.opsItems.size).toBe(before);
  });

  it('SNS (awsQuery): notify publishes the alert; command-sender gets AuthorizationError (403) and nothing is sent', async () => {
    const publish = (fn: string) =>
      new SNSClient(config(iam.functionCredentials(fn))).send(
        new PublishCommand({ TopicArn: ALERT_TOPIC, Message: 'm' }),
      );
    expect(await outcome(publish('remediationNotify'))).toBe('ok');
    const sent = cloud.sns.messages.length;
    expect(await outcome(publish('commandSender'))).toBe('AuthorizationErrorException 403');
    expect(cloud.sns.messages.length).toBe(sent);
  });

  it('IoT (restJson): jitr-handler creates things; the authorizer gets AccessDeniedException 403 and no thing exists', async () => {
    const create = (fn: string, thingName: string) =>
      new IoTClient(config(iam.functionCredentials(fn))).send(new CreateThingCommand({ thingName }));
    expect(await outcome(create('jitrHandler', A))).toBe('ok');
    expect(await outcome(create('commandAuthorizer', B))).toBe('AccessDeniedException 403');
    expect(cloud.iot.things.has(B)).toBe(false);
  });

  it('DynamoDB: the authorizer reads one vehicle-access item but can neither list nor write them (nothing stored)', async () => {
    const ddb = new DynamoDBClient(config(iam.functionCredentials('commandAuthorizer')));
    const get = new GetItemCommand({
      TableName: ACCESS_TABLE,
      Key: { userSub: { S: 'u' }, vin: { S: 'v' } },
    });
    expect(await outcome(ddb.send(get))).toBe('ok');
    const query = new QueryCommand({
      TableName: ACCESS_TABLE,
      KeyConditionExpression: 'userSub = :s',
      ExpressionAttributeValues: { ':s': { S: 'u' } },
    });
    expect(await outcome(ddb.send(query))).toBe('AccessDeniedException 400');
    const put = new PutItemCommand({
      TableName: ACCESS_TABLE,
      Item: { userSub: { S: 'u' }, vin: { S: 'v' } },
    });
    expect(await outcome(ddb.send(put))).toBe('AccessDeniedException 400');
    const { Items } = await new DynamoDBClient(operator()).send(new ScanCommand({ TableName: ACCESS_TABLE }));
    expect(Items ?? []).toEqual([]);
  });

  it('an access key that names no principal is rejected as an invalid token', async () => {
    const kms = new KMSClient(config({ accessKeyId: 'AKIAUNKNOWN', secretAccessKey: 'x' }));
    expect(
      await outcome(kms.send(new EncryptCommand({ KeyId: COMMAND_KEY, Plaintext: new Uint8Array(1) }))),
    ).toBe('UnrecognizedClientException 403');
  });
});

describe('self-test: one permission removed from the packaged template', () => {
  it("openTicket's stage fails with AccessDeniedException once ssm:CreateOpsItem is gone from its role", async () => {
    const copy = structuredClone(template);
    const role = copy.Resources?.RemediationOpenTicketIamRoleLambdaExecution?.Properties as {
      Policies: Array<{ PolicyDocument: { Statement: Array<{ Action?: unknown }> } }>;
    };
    for (const p of role.Policies) {
      p.PolicyDocument.Statement = p.PolicyDocument.Statement.filter(
        (s) => ![s.Action].flat().includes('ssm:CreateOpsItem'),
      );
    }
    const mutated = await startEnforcing(copy);
    try {
      const ssm = new SSMClient({
        endpoint: mutated.cloud.endpoint,
        region: mutated.cloud.region,
        credentials: mutated.iam.functionCredentials('remediationOpenTicket'),
      });
      const create = ssm.send(
        new CreateOpsItemCommand({ Title: 't', Description: 'd', Source: 'cv-security' }),
      );
      expect(await outcome(create)).toBe('AccessDeniedException 400');
      expect(mutated.cloud.ssm.opsItems.size).toBe(0);
      expect(mutated.iam.denials.map((d) => d.action)).toEqual(['ssm:CreateOpsItem']);
    } finally {
      await mutated.cloud.stop();
    }
  });
});

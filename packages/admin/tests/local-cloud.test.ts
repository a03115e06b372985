/**
 * The cv-admin front door and its AWS adapters against the local cloud (the unmodified AWS SDK over loopback):
 * `quarantine release` in-process through runCli, and once through the bin as an operator runs it.
 */
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { DynamoDBClient, GetItemCommand, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { CreateThingCommand, IoTClient } from '@aws-sdk/client-iot';
import { createTables, generateKeyPair, issueLeaf, LocalCloud, pemOf } from '@cv/local-cloud';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { awsDeps } from '../src/aws.js';
import { runCli } from '../src/cli.js';

const STAGE = 'local';
const GROUP = `cv-security-${STAGE}-quarantine`;
const TABLE = `cv-security-${STAGE}-ecu-registry`;
const VIN = 'WVWZZZ1JZXW000021';
let cloud: LocalCloud;
let ddb: DynamoDBClient;
const saved = { ...process.env };

/** A thing of ours, quarantined, whose ECU re-enrolled: its copied certificate REVOKED, its new one ACTIVE. */
async function quarantinedEcu(ecuId: string, opts: { newCertificate: boolean }): Promise<string> {
  const thingName = `${VIN}_${ecuId}`;
  await new IoTClient(cloud.clientConfig()).send(new CreateThingCommand({ thingName }));
  const certificate = async (status: 'ACTIVE' | 'REVOKED') => {
    const { keys } = await generateKeyPair();
    const leaf = await issueLeaf(cloud.pca.issuing, {
      subject: `CN=${thingName}`,
      publicKey: keys.publicKey,
    });
    const cert = cloud.iot.registerCertificate(pemOf(leaf), cloud.operationalCaCertificateId, status);
    cloud.iot.attachThingPrincipal(thingName, cert.certificateArn, 'NON_EXCLUSIVE_THING');
    return cert.certificateId;
  };
  const old = await certificate('REVOKED');
  if (opts.newCertificate) await certificate('ACTIVE');
  cloud.iot.thingGroups.get(GROUP)?.things.add(thingName);
  await ddb.send(
    new PutItemCommand({
      TableName: TABLE,
      Item: {
        ecuId: { S: ecuId },
        vin: { S: VIN },
        role: { S: 'telematics' },
        status: { S: 'ACTIVE' },
        thingName: { S: thingName },
        rotationMethod: { S: 'reenrol' },
        rotationRequestedAt: { S: new Date().toISOString() },
        rotationRetiredCertificateIds: { L: [{ S: old }] },
      },
    }),
  );
  return thingName;
}

function cli(argv: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const code = runCli(argv, {
    env: { ...cloud.sdkEnv(), CV_STAGE: STAGE },
    out: (l) => out.push(l),
    err: (l) => err.push(l),
    deps: awsDeps,
  });
  return code.then((c) => ({ code: c, out, err }));
}

beforeAll(async () => {
  cloud = await LocalCloud.start({ region: 'eu-west-1', account: '123456789012' });
  Object.assign(process.env, cloud.sdkEnv());
  ddb = new DynamoDBClient(cloud.clientConfig());
  await createTables(ddb, {
    ecuRegistry: TABLE,
    vehicleAccess: `cv-security-${STAGE}-vehicle-access`,
    commands: `cv-security-${STAGE}-commands`,
    telemetry: `cv-security-${STAGE}-telemetry`,
    adminAudit: `cv-security-${STAGE}-admin-audit`,
  });
  cloud.iot.createThingGroup(GROUP);
});
afterAll(async () => {
  process.env = saved;
  await cloud?.stop();
});

describe('cv-admin quarantine release (local cloud)', () => {
  it('releases a re-enrolled ECU, records the operator, and a second run changes nothing', async () => {
    const thing = await quarantinedEcu('TCU-A1', { newCertificate: true });

    const first = await cli(['quarantine', 'release', thing, '--reason', 'INC-1 closed']);
    const second = await cli(['quarantine', 'release', thing]);

    expect(first.code, first.err.join('\n')).toBe(0);
    expect(JSON.parse(first.out[0] ?? '{}')).toMatchObject({
      outcome: 'released',
      thingName: thing,
      releasedBy: 'arn:aws:iam::123456789012:user/local',
    });
    expect(cloud.iot.thingGroups.get(GROUP)?.things.has(thing)).toBe(false);
    const row = await ddb.send(new GetItemCommand({ TableName: TABLE, Key: { ecuId: { S: 'TCU-A1' } } }));
    expect(row.Item?.quarantineReleasedBy).toEqual({ S: 'arn:aws:iam::123456789012:user/local' });
    expect(row.Item?.quarantineReleaseReason).toEqual({ S: 'INC-1 closed' });
    expect(second.code).toBe(0);
    expect(JSON.parse(second.out[0] ?? '{}')).toEqual({ outcome: 'not-quarantined', thingName: thing });
    const after = await ddb.send(new GetItemCommand({ TableName: TABLE, Key: { ecuId: { S: 'TCU-A1' } } }));
    expect(after.Item?.quarantineReleasedAt).toEqual(row.Item?.quarantineReleasedAt);
  });

  it('refuses (exit 4) an ECU that has not re-enrolled: still quarantined, no record', async () => {
    const thing = await quarantinedEcu('TCU-A2', { newCertificate: false });

    const run = await cli(['quarantine', 'release', thing]);

    expect(run.code).toBe(4);
    expect(JSON.parse(run.err[0] ?? '{}')).toMatchObject({ error: 'not_reenrolled' });
    expect(cloud.iot.thingGroups.get(GROUP)?.things.has(thing)).toBe(true);
    const row = await ddb.send(new GetItemCommand({ TableName: TABLE, Key: { ecuId: { S: 'TCU-A2' } } }));
    expect(row.Item?.quarantineReleasedAt).toBeUndefined();
  });

  it('usage errors, unknown things and missing configuration: an error code and a safe message, nothing changed', async () => {
    const unknown = await cli(['quarantine', 'release', `${VIN}_NOPE-1`]);
    const usage = await cli(['quarantine', 'release']);
    const bad = await cli(['quarantine', 'release', '../../etc/passwd']);
    const noStage = await runCli(['quarantine', 'release', `${VIN}_TCU-A2`], {
      env: { AWS_REGION: 'eu-west-1' },
      out: () => undefined,
      err: () => undefined,
      deps: awsDeps,
    });

    expect(unknown.code).toBe(3);
    expect(usage.code).toBe(2);
    expect(bad.code).toBe(2);
    expect(JSON.parse(bad.err[0] ?? '{}')).toEqual({
      error: 'invalid_input',
      message: 'thing name must be <VIN>_<ecuId>',
    });
    expect(noStage).toBe(2);
    expect(cloud.iot.thingGroups.get(GROUP)?.things.has(`${VIN}_TCU-A2`)).toBe(true);
  });

  it('the cv-admin bin, run as an operator runs it, releases against the local cloud', async () => {
    const thing = await quarantinedEcu('TCU-A3', { newCertificate: true });
    const bin = fileURLToPath(new URL('../bin/cv-admin.mjs', import.meta.url));

    const { stdout } = await promisify(execFile)(
      process.execPath,
      [bin, 'quarantine', 'release', thing, '--stage', STAGE],
      { env: { PATH: process.env.PATH ?? '', ...cloud.sdkEnv() }, timeout: 60_000 },
    );

    expect(JSON.parse(stdout)).toMatchObject({ outcome: 'released', thingName: thing });
    expect(cloud.iot.thingGroups.get(GROUP)?.things.has(thing)).toBe(false);
  });
});

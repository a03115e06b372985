/**
 * The ECU lifecycle with the AWS adapters against the local cloud (IoT control plane, Private CA with its OCSP
 * index, dynalite) through the cv-admin front door: what is left after a decommission (nothing that can connect),
 * block and unblock, and a whole vehicle.
 */
import { DynamoDBClient, GetItemCommand, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { createTables, generateKeyPair, issueLeaf, LocalCloud, pemOf } from '@cv/local-cloud';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { grantAccess } from '../src/access/grant.js';
import { awsDeps } from '../src/aws.js';
import { runCli } from '../src/cli.js';
import { loadAdminConfig } from '../src/config.js';

const STAGE = 'lifecycle';
const REGISTRY = `cv-security-${STAGE}-ecu-registry`;
const GROUP = `cv-security-${STAGE}-quarantine`;
const VIN = 'WVWZZZ1JZXW000077';
const OWNER = '11111111-1111-4111-8111-111111111111';
let cloud: LocalCloud;
let ddb: DynamoDBClient;
let serial = 0x1a00;
const saved = { ...process.env };

/** An enrolled ECU: registry row, thing, and an ACTIVE certificate issued by the local Private CA. */
async function enrolledEcu(
  ecuId: string,
  role = 'telematics',
): Promise<{ thingName: string; certificateId: string; serial: string }> {
  const thingName = `${VIN}_${ecuId}`;
  await ddb.send(
    new PutItemCommand({
      TableName: REGISTRY,
      Item: {
        ecuId: { S: ecuId },
        vin: { S: VIN },
        role: { S: role },
        status: { S: 'ACTIVE' },
        thingName: { S: thingName },
      },
    }),
  );
  cloud.iot.things.set(thingName, {
    thingName,
    thingArn: cloud.iot.arn('thing', thingName),
    thingId: crypto.randomUUID(),
    attributes: { vin: VIN, ecuId, role },
    version: 1,
  });
  const hex = (serial++).toString(16).padStart(16, '0');
  const { keys } = await generateKeyPair();
  const pem = pemOf(
    await issueLeaf(cloud.pca.issuing, {
      subject: `CN=${thingName}`,
      publicKey: keys.publicKey,
      serialNumber: hex,
    }),
  );
  cloud.pca.bySerial.set(hex.replace(/^(00)+/, ''), {
    arn: `${cloud.pca.caArn}/certificate/${hex.padStart(32, '0')}`,
    serial: hex,
    pem,
    notAfter: new Date(Date.now() + 86_400_000),
    fetched: true,
  });
  const cert = cloud.iot.registerCertificate(pem, cloud.operationalCaCertificateId, 'ACTIVE');
  cloud.iot.attachThingPrincipal(thingName, cert.certificateArn, 'EXCLUSIVE_THING');
  return { thingName, certificateId: cert.certificateId, serial: hex.replace(/^(00)+/, '') };
}

async function cli(argv: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runCli(argv, {
    env: { ...cloud.sdkEnv(), CV_STAGE: STAGE, PCA_CA_ARN: cloud.pca.caArn },
    out: (l) => out.push(l),
    err: (l) => err.push(l),
    deps: awsDeps,
  });
  return { code, out: JSON.parse(out[0] ?? 'null') as Record<string, unknown> | null, err: err.join('\n') };
}
const row = async (ecuId: string) =>
  (await ddb.send(new GetItemCommand({ TableName: REGISTRY, Key: { ecuId: { S: ecuId } } }))).Item;

beforeAll(async () => {
  cloud = await LocalCloud.start({ region: 'eu-west-1', account: '123456789012' });
  Object.assign(process.env, cloud.sdkEnv());
  ddb = new DynamoDBClient(cloud.clientConfig());
  await createTables(ddb, {
    ecuRegistry: REGISTRY,
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

describe('cv-admin ecu decommission (local cloud)', () => {
  it('certificate REVOKED in IoT and at the Private CA, thing detached and deleted, row DECOMMISSIONED; a re-run is unchanged', async () => {
    const ecu = await enrolledEcu('TCU-D1');

    const first = await cli(['ecu', 'decommission', 'TCU-D1', '--reason', 'scrapped']);
    const second = await cli(['ecu', 'decommission', 'TCU-D1']);

    expect(first.code, first.err).toBe(0);
    expect(first.out).toMatchObject({ outcome: 'decommissioned', revokedAtCa: [ecu.certificateId] });
    expect(second.out).toMatchObject({ outcome: 'unchanged' });
    expect(cloud.iot.things.has(ecu.thingName)).toBe(false);
    expect(cloud.iot.certificates.get(ecu.certificateId)?.status).toBe('REVOKED');
    expect(cloud.pca.bySerial.get(ecu.serial)?.revoked?.reason).toBe('CESSATION_OF_OPERATION');
    expect(await row('TCU-D1')).toMatchObject({
      status: { S: 'DECOMMISSIONED' },
      statusReason: { S: 'scrapped' },
      decommissionedBy: { S: 'arn:aws:iam::123456789012:user/local' },
    });
  });

  it('without PCA_CA_ARN it stops naming the setting (the ECU can already neither enrol nor connect); the re-run with it completes', async () => {
    const ecu = await enrolledEcu('TCU-D2');
    const out: string[] = [];
    const err: string[] = [];
    const code = await runCli(['ecu', 'decommission', 'TCU-D2'], {
      env: { ...cloud.sdkEnv(), CV_STAGE: STAGE },
      out: (l) => out.push(l),
      err: (l) => err.push(l),
      deps: awsDeps,
    });
    expect(code).toBe(2);
    expect(err.join('\n')).toMatch(/PCA_CA_ARN/);
    // The row is DECOMMISSIONED (it cannot enrol) and the certificate INACTIVE (it cannot connect); the re-run with the
    // setting completes the job.
    expect(cloud.iot.certificates.get(ecu.certificateId)?.status).toBe('INACTIVE');
    expect((await cli(['ecu', 'decommission', 'TCU-D2'])).out).toMatchObject({ outcome: 'decommissioned' });
    expect(cloud.iot.certificates.get(ecu.certificateId)?.status).toBe('REVOKED');
  });
});

describe('cv-admin ecu block / unblock and vehicle decommission (local cloud)', () => {
  it('block: BLOCKED, thing in the quarantine group, certificate still ACTIVE; unblock: ACTIVE, still quarantined', async () => {
    const ecu = await enrolledEcu('GW-B1', 'gateway');
    const blocked = await cli(['ecu', 'block', 'GW-B1', '--reason', 'INC-9']);
    expect(blocked.out).toMatchObject({ outcome: 'blocked', quarantined: true });
    expect(cloud.iot.thingGroups.get(GROUP)?.things.has(ecu.thingName)).toBe(true);
    expect(cloud.iot.certificates.get(ecu.certificateId)?.status).toBe('ACTIVE');
    expect((await row('GW-B1'))?.status).toEqual({ S: 'BLOCKED' });
    const unblocked = await cli(['ecu', 'unblock', 'GW-B1']);
    expect(unblocked.out).toMatchObject({ outcome: 'unblocked', status: 'ACTIVE', quarantined: true });
    expect((await row('GW-B1'))?.status).toEqual({ S: 'ACTIVE' });
    expect((await cli(['ecu', 'block', 'NOPE-404'])).code).toBe(3);
  });

  it("vehicle decommission: every ECU retired, the owner's access gone", async () => {
    const a = await enrolledEcu('GW-V1', 'gateway');
    const b = await enrolledEcu('TCU-V1');
    const deps = awsDeps(loadAdminConfig({ ...cloud.sdkEnv(), CV_STAGE: STAGE }, {}));
    await grantAccess({ vin: VIN, userSub: OWNER, role: 'owner' }, deps);

    const out = await cli(['vehicle', 'decommission', VIN, '--reason', 'end of life']);

    expect(out.code, out.err).toBe(0);
    expect(out.out?.revokedUsers).toEqual([OWNER]);
    for (const ecu of [a, b]) {
      expect(cloud.iot.things.has(ecu.thingName)).toBe(false);
      expect(cloud.iot.certificates.get(ecu.certificateId)?.status).toBe('REVOKED');
    }
    const access = await ddb.send(
      new GetItemCommand({
        TableName: `cv-security-${STAGE}-vehicle-access`,
        Key: { userSub: { S: OWNER }, vin: { S: VIN } },
      }),
    );
    expect(access.Item).toBeUndefined();
    expect((await cli(['vehicle', 'decommission', VIN])).out).toMatchObject({ outcome: 'unchanged' });
  });
});

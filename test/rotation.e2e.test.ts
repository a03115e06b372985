/**
 * End to end in the local cloud (issue 12 item 11, "rotation that never arrives"): a genuine ECU and a clone share
 * an operational key. A Device Defender finding (conflicting client ids, naming the thing; shared certificate, naming
 * the certificate) runs through remediation-steps; the copied
 * certificate is quarantined, deactivated and revoked at the CA. The genuine ECU, refused, re-enrols with its
 * attestation key (cert-broker, then JITR) and stays quarantined until an operator releases it with cv-admin; the
 * clone, which has only the copied operational key, is refused at the gateway and cannot re-enrol. Real handlers,
 * real crypto, the MQTT gateway on loopback.
 */
import { createHash, randomUUID, X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DynamoDBClient, GetItemCommand, PutItemCommand, QueryCommand } from '@aws-sdk/client-dynamodb';
import { KMS } from '@aws-sdk/client-kms';
import { BatchImportFindingsCommand, SecurityHubClient } from '@aws-sdk/client-securityhub';
import { awsDeps, runCli } from '@cv/admin';
import { functionEnv, LOCAL_KEYS, projectRuleSql, startSeededCloud } from '@cv/demo';
import { EcuSimulator, EnrolmentError } from '@cv/ecu-sim';
import {
  createCertificateAuthority,
  generateKeyPair,
  issueLeaf,
  type LocalCloud,
  MqttGateway,
  pemOf,
} from '@cv/local-cloud';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const REGION = 'eu-west-1';
const ACCOUNT = '123456789012';
const VIN = 'WVWZZZ1JZXW000001';
const QUARANTINE = 'cv-security-local-quarantine';
const REGISTRY = 'cv-security-local-ecu-registry';
const keyArn = (id: string) => `arn:aws:kms:${REGION}:${ACCOUNT}:key/${id}`;

let cloud: LocalCloud;
let gateway: MqttGateway;
let ddb: DynamoDBClient;
let kms: KMS;
let manufacturer: Awaited<ReturnType<typeof createCertificateAuthority>>;
const ruleErrors: string[] = [];
let transport: (body: string) => Promise<{ statusCode: number; body: string }>;
let remediation: Record<string, unknown>;
const ctx = {
  functionName: 'local',
  awsRequestId: randomUUID(),
  invokedFunctionArn: `arn:aws:lambda:${REGION}:${ACCOUNT}:function:cv-security-local-e2e`,
  getRemainingTimeInMillis: () => 10_000,
} as never;
const call = async (fn: unknown, event: unknown): Promise<unknown> =>
  (fn as (e: unknown, c: unknown) => Promise<unknown>)(event, ctx);
const certificate = (pem: string) =>
  [...cloud.iot.certificates.values()].find((c) => c.certificatePem === pem);

beforeAll(async () => {
  const seeded = await startSeededCloud();
  cloud = seeded.cloud;
  manufacturer = seeded.manufacturer;
  Object.assign(process.env, functionEnv(cloud));
  const certBroker = await import('../functions/cert-broker/src/handler.js');
  const jitr = await import('../functions/jitr-handler/src/handler.js');
  const telemetry = await import('../functions/telemetry-ingest/src/handler.js');
  remediation = (await import('../functions/remediation-steps/src/handler.js')) as unknown as Record<
    string,
    unknown
  >;
  const sql = projectRuleSql(cloud.operationalCaCertificateId);
  gateway = await MqttGateway.start(cloud, [
    { name: 'jitr', sql: sql.jitr, invoke: (e) => call(jitr.handler, e) },
    { name: 'telemetry', sql: sql.telemetry, invoke: (e) => call(telemetry.handler, e) },
  ]);
  gateway.on('ruleError', (rule, error) => ruleErrors.push(`${rule}: ${String(error)}`));
  ddb = new DynamoDBClient(cloud.clientConfig());
  kms = new KMS(cloud.clientConfig());
  const template = JSON.parse(
    readFileSync(join(root, 'events/cert-broker/post-certificates-attestation.json'), 'utf8'),
  ) as Record<string, unknown>;
  transport = async (body: string) => {
    const event = structuredClone(template) as Record<string, unknown> & { headers: Record<string, string> };
    event.body = body;
    event.headers['content-length'] = String(Buffer.byteLength(body));
    const res = (await call(certBroker.handler, event)) as { statusCode: number; body: string };
    return { statusCode: res.statusCode, body: res.body };
  };
}, 60_000);

afterAll(async () => {
  await gateway?.stop().catch(() => undefined);
  await cloud?.stop();
});

/** A sample finding from events/remediation-steps/, pointed at this ECU's real certificate or thing. */
function sampleFinding(file: string, replace: Record<string, string>): Record<string, unknown> {
  let text = readFileSync(join(root, 'events/remediation-steps', file), 'utf8');
  for (const [from, to] of Object.entries(replace)) text = text.replaceAll(from, to);
  return JSON.parse(text) as Record<string, unknown>;
}

/**
 * One ECU, its clone, one finding: the whole story. `finding` builds the Security Hub event from the copied
 * certificate's id and the thing name.
 */
function scenario(
  title: string,
  ecuId: string,
  finding: (ids: { certificateId: string; thingName: string }) => Record<string, unknown>,
) {
  const THING = `${VIN}_${ecuId}`;
  const enrolBodies: string[] = [];
  const recording = async (body: string) => {
    enrolBodies.push(body);
    return transport(body);
  };
  let genuine: EcuSimulator;
  let clone: EcuSimulator;
  let copied: string;
  const thingCertificates = () => [...(cloud.iot.thingPrincipals.get(THING)?.keys() ?? [])];
  const quarantined = () => cloud.iot.thingGroups.get(QUARANTINE)?.things.has(THING) ?? false;
  const registryRow = async () =>
    (await ddb.send(new GetItemCommand({ TableName: REGISTRY, Key: { ecuId: { S: ecuId } } }))).Item;
  const ecu = (attestation: { certificatePem: string; privateKeyPem: string }) =>
    new EcuSimulator({
      vin: VIN,
      ecuId,
      attestation,
      kms,
      telemetryKeyId: keyArn(LOCAL_KEYS.telemetry),
      commandKeys: [],
      commandIssuer: 'cv-security:local',
    });
  const releaseWithCvAdmin = async () => {
    const out: string[] = [];
    const err: string[] = [];
    const code = await runCli(['quarantine', 'release', THING, '--stage', 'local', '--reason', 'e2e'], {
      env: process.env,
      out: (l) => out.push(l),
      err: (l) => err.push(l),
      deps: awsDeps,
    });
    return { code, out, err };
  };

  describe(title, () => {
    beforeAll(async () => {
      await ddb.send(
        new PutItemCommand({
          TableName: REGISTRY,
          Item: {
            ecuId: { S: ecuId },
            vin: { S: VIN },
            role: { S: 'telematics' },
            status: { S: 'ACTIVE' },
            // Supplier binding (issue 12 item 8, cert-broker): SHA-256 of the attestation CA's SubjectPublicKeyInfo.
            attestationIssuerKeySha256: {
              S: createHash('sha256')
                .update(
                  new X509Certificate(manufacturer.certificatePem).publicKey.export({
                    type: 'spki',
                    format: 'der',
                  }),
                )
                .digest('hex'),
            },
            updatedAt: { S: new Date().toISOString() },
          },
        }),
      );
      const { keys, privateKeyPem } = await generateKeyPair();
      const birthPem = pemOf(
        await issueLeaf(manufacturer, { subject: `CN=${ecuId}`, publicKey: keys.publicKey }),
      );
      genuine = ecu({ certificatePem: birthPem, privateKeyPem });
      // The clone has the ECU's public birth certificate, but its attestation key is its own: the factory key
      // never leaves the genuine ECU's secure element. What it copied is the operational key and certificate.
      clone = ecu({ certificatePem: birthPem, privateKeyPem: (await generateKeyPair()).privateKeyPem });
    });
    afterAll(async () => {
      await Promise.allSettled([genuine?.disconnect(), clone?.disconnect()]);
    });

    it('the genuine ECU enrols and connects; the clone connects with the copied key and certificate', async () => {
      await genuine.enrol(recording);
      expect(await genuine.connectWithRetry(gateway.url, gateway.serverCaPem), ruleErrors.join('; ')).toBe(
        true,
      );
      copied = genuine.operationalIdentity().enrolment.certificatePem;
      await genuine.disconnect();

      clone.adoptOperationalIdentity(genuine.operationalIdentity());

      expect(await clone.tryConnect(gateway.url, gateway.serverCaPem)).toBe('connected');
      expect(certificate(copied)?.status).toBe('ACTIVE');
      await clone.disconnect();
    });

    it('the finding runs through the workflow: quarantined, the copied certificate INACTIVE then REVOKED at the CA and in IoT, no job', async () => {
      const event = finding({ certificateId: certificate(copied)?.certificateId ?? '', thingName: THING });
      const steps = remediation;
      // Device Defender's finding, as Security Hub holds it (closeFinding updates it there).
      const imported = (event.detail as { findings: Record<string, unknown>[] }).findings[0];
      await new SecurityHubClient(cloud.clientConfig()).send(
        new BatchImportFindingsCommand({ Findings: [imported as never] }),
      );

      let state = (await call(steps.classify, event)) as Record<string, unknown>;
      const tasks: string[] = [];
      for (let guard = 0; guard < 12 && typeof state.next === 'string'; guard++) {
        tasks.push(state.next);
        const out = (await call(steps[state.next], state)) as Record<string, unknown>;
        if (tasks.at(-1) === 'closeFinding') break;
        state = out;
      }

      expect(tasks).toEqual([
        'quarantine',
        'deactivateCertificate',
        'revokeCertificate',
        'rotateCertificate',
        'notify',
        'openTicket',
        'closeFinding',
      ]);
      expect(quarantined()).toBe(true);
      expect(certificate(copied)?.status).toBe('REVOKED');
      const issued = [...cloud.pca.issued.values()].find((r) => r.pem.trim() === copied.trim());
      expect(issued?.revoked?.reason).toBe('KEY_COMPROMISE');
      expect(cloud.iot.jobs.size).toBe(0);
      const row = await registryRow();
      expect(row?.rotationMethod).toEqual({ S: 'reenrol' });
      expect(row?.rotationRetiredCertificateIds?.L?.map((v) => v.S)).toEqual([
        certificate(copied)?.certificateId,
      ]);
    });

    it('the clone is refused at the gateway and cannot re-enrol: no certificate issued, registry untouched', async () => {
      const issuedBefore = cloud.pca.issued.size;
      const serialBefore = (await registryRow())?.certificateSerial;

      expect(await clone.tryConnect(gateway.url, gateway.serverCaPem)).toBe('refused');
      const attempt = clone.connectOrReenrol(gateway.url, gateway.serverCaPem, recording, undefined, 10);
      await expect(attempt).rejects.toBeInstanceOf(EnrolmentError);
      await expect(attempt).rejects.toMatchObject({ statusCode: expect.toBeOneOf([401, 403]) });

      // Another clone with an attestation identity of its own making (its own "manufacturer"): not trusted.
      const rogueCa = await createCertificateAuthority({ name: 'CN=Rogue Attestation CA' });
      const rogueKey = await generateKeyPair();
      const rogueBirth = await issueLeaf(rogueCa, {
        subject: `CN=${ecuId}`,
        publicKey: rogueKey.keys.publicKey,
      });
      const rogue = ecu({ certificatePem: pemOf(rogueBirth), privateKeyPem: rogueKey.privateKeyPem });
      await expect(rogue.enrol(transport)).rejects.toMatchObject({ statusCode: 403 });

      // A replay of the genuine ECU's own enrolment request yields nothing new (at most the revoked certificate).
      const replay = await transport(enrolBodies[0] ?? '');
      if (replay.statusCode === 201) {
        expect((JSON.parse(replay.body) as { certificatePem: string }).certificatePem.trim()).toBe(
          copied.trim(),
        );
      }
      expect(cloud.pca.issued.size).toBe(issuedBefore);
      expect((await registryRow())?.certificateSerial).toEqual(serialBefore);
      expect(certificate(copied)?.status).toBe('REVOKED');
      expect(quarantined()).toBe(true);
    });

    it('the operator cannot release the thing before the genuine ECU re-enrolled', async () => {
      const run = await releaseWithCvAdmin();

      expect(run.code).toBe(4);
      expect(JSON.parse(run.err[0] ?? '{}')).toMatchObject({ error: 'not_reenrolled' });
      expect(quarantined()).toBe(true);
    });

    it('the genuine ECU, refused, re-enrols with its attestation: new certificate ACTIVE, the copy stays REVOKED and detached, still quarantined', async () => {
      const outcome = await genuine.connectOrReenrol(gateway.url, gateway.serverCaPem, recording);
      await gateway.settle();

      expect(outcome, ruleErrors.join('; ')).toBe('not-authorized');
      expect(genuine.reenrolments).toBe(1);
      const fresh = certificate(genuine.operationalIdentity().enrolment.certificatePem);
      expect(fresh?.status).toBe('ACTIVE');
      expect(thingCertificates()).toEqual([fresh?.certificateArn]);
      expect(certificate(copied)?.status).toBe('REVOKED');
      expect(quarantined()).toBe(true);
      expect(await clone.tryConnect(gateway.url, gateway.serverCaPem)).toBe('refused');
      expect((await registryRow())?.certificateId).toEqual({ S: fresh?.certificateId });
    });

    it('after the operator releases it, the genuine ECU connects and its telemetry is stored; the clone is still refused', async () => {
      const run = await releaseWithCvAdmin();

      expect(run.code, run.err.join('\n')).toBe(0);
      expect(JSON.parse(run.out[0] ?? '{}')).toMatchObject({ outcome: 'released', thingName: THING });
      expect(quarantined()).toBe(false);
      expect((await registryRow())?.quarantineReleasedBy).toEqual({
        S: `arn:aws:iam::${ACCOUNT}:user/local`,
      });
      expect(await genuine.connectOrReenrol(gateway.url, gateway.serverCaPem, recording)).toBe('connected');
      expect(genuine.reenrolments).toBe(1);
      await genuine.sendTelemetry({
        status: { speedKmh: 0, odometerKm: 12_000, batteryVoltage: 12.6, doorsLocked: true, ignition: 'OFF' },
        location: { lat: 52.52, lon: 13.405 },
      });
      await gateway.settle();
      const stored = await ddb.send(
        new QueryCommand({
          TableName: 'cv-security-local-telemetry',
          KeyConditionExpression: 'thingName = :t',
          ExpressionAttributeValues: { ':t': { S: THING } },
          Select: 'COUNT',
        }),
      );
      expect(stored.Count, ruleErrors.join('; ')).toBe(1);
      expect(await clone.tryConnect(gateway.url, gateway.serverCaPem)).toBe('refused');
      expect((await releaseWithCvAdmin()).out[0]).toBe(
        JSON.stringify({ outcome: 'not-quarantined', thingName: THING }),
      );
    });
  });
}

scenario('conflicting client ids (a finding that names the thing)', 'TCU-00042', ({ thingName }) =>
  sampleFinding('audit-conflicting-client-ids.json', { 'WVWZZZ1JZXW000001_TCU-00042': thingName }),
);

scenario('shared certificate (a finding that names the certificate)', 'TCU-00043', ({ certificateId }) =>
  sampleFinding('audit-device-certificate-shared.json', {
    '3f9c2b7e8a1d4c6f0b5e9a2d7c4f1e8b6a3d0c9f2e5b8a1d4c7f0e3b6a9d2c5f': certificateId,
  }),
);

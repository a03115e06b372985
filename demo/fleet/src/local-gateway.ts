/**
 * The MQTT side of `pnpm run local-cloud`: the device gateway with the project's IoT rules
 * (jitr-handler, telemetry-ingest and behaviour-detector's presence handler invoked in-process, as the deployed rules invoke them) on a
 * fixed port, and one ECU enrolled for real through cert-broker whose key and certificate chain
 * are written out for an MQTT client of the reader's choice (mosquitto_pub/mosquitto_sub in the
 * README). Its first connection is a just-in-time registration; the next ones connect.
 */
import { randomUUID } from 'node:crypto';
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DynamoDBClient, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { GetPublicKeyCommand, KMS } from '@aws-sdk/client-kms';
import { EcuSimulator } from '@cv/ecu-sim';
import {
  attestationIssuerKeySha256,
  type CertificateAuthority,
  generateKeyPair,
  type IamEnforcer,
  issueLeaf,
  type LocalCloud,
  MqttGateway,
  pemOf,
} from '@cv/local-cloud';
import { functionEnv, LOCAL_KEYS, projectRuleSql } from './fleet.js';
import { asFunction, installCredentialRouting } from './iam.js';

/**
 * The ECU whose credentials `pnpm run local-cloud` writes: the gateway ECU of the command
 * samples' vehicle, so `invoke local -f commandSender -p events/command-sender/post-command.json`
 * sends it a command an MQTT client can watch arrive. Its registry row is re-bound to the local
 * manufacturer CA (the sample bundle's CA key is not in the repository).
 */
export const LOCAL_ECU = { vin: '1HGCM82633A004352', ecuId: 'gw-01', role: 'gateway' } as const;

export interface LocalGatewayFiles {
  /** The CA an MQTT client trusts for the gateway's server certificate. */
  readonly serverCaFile: string;
  readonly ecu: {
    readonly thingName: string;
    /** The operational certificate followed by its chain (what the ECU presents). */
    readonly certificateFile: string;
    readonly keyFile: string;
  };
}

/**
 * Starts the gateway and enrols the local ECU; writes its files under `dir`.
 * Each in-process handler signs with its own function's role credentials, as in the demo
 * (demo/fleet/src/iam.ts), so the local cloud's IAM enforcement applies to them.
 * @example const { gateway, files } = await startLocalGateway(cloud, manufacturer, iam, { port: 8883, root, dir });
 */
export async function startLocalGateway(
  cloud: LocalCloud,
  manufacturer: CertificateAuthority,
  iam: IamEnforcer,
  options: { port: number; root: string; dir: string },
): Promise<{ gateway: MqttGateway; files: LocalGatewayFiles }> {
  // The handlers read their configuration at cold start: import them after the environment is set.
  Object.assign(process.env, functionEnv(cloud));
  const jitr = await import('../../../functions/jitr-handler/src/handler.js');
  const telemetry = await import('../../../functions/telemetry-ingest/src/handler.js');
  const certBroker = await import('../../../functions/cert-broker/src/handler.js');
  const behaviourDetector = await import('../../../functions/behaviour-detector/src/handler.js');
  const ctx = () =>
    ({
      functionName: 'local',
      awsRequestId: randomUUID(),
      invokedFunctionArn: `arn:aws:lambda:${cloud.region}:${cloud.account}:function:cv-security-local-local`,
      getRemainingTimeInMillis: () => 10_000,
    }) as never;
  installCredentialRouting();
  const modules: Record<string, Record<string, unknown>> = {
    'cert-broker': certBroker,
    'jitr-handler': jitr,
    'telemetry-ingest': telemetry,
    'behaviour-detector': behaviourDetector,
  };
  const credentials = new Map<unknown, string>();
  for (const fn of iam.template.functions()) {
    const handler = modules[fn.package]?.[fn.handlerExport];
    if (handler !== undefined) credentials.set(handler, iam.functionCredentials(fn.name).accessKeyId);
  }
  const call = (fn: unknown, event: unknown) => {
    const accessKey = credentials.get(fn);
    if (accessKey === undefined) throw new Error('a handler that is no function of the template');
    return asFunction(accessKey, () => (fn as (e: unknown, c: unknown) => Promise<unknown>)(event, ctx()));
  };

  const sql = projectRuleSql(cloud.operationalCaCertificateId);
  const gateway = await MqttGateway.start(
    cloud,
    [
      { name: 'jitr', sql: sql.jitr, invoke: (e) => call(jitr.handler, e) },
      { name: 'telemetry', sql: sql.telemetry, invoke: (e) => call(telemetry.handler, e) },
      { name: 'command-results', sql: sql.results, invoke: (e) => call(telemetry.handler, e) },
      // AWS IoT lifecycle events of every connection (behaviourPresence), as the deployed presence rule.
      { name: 'presence', sql: sql.presence, invoke: (e) => call(behaviourDetector.presence, e) },
    ],
    { port: options.port },
  );

  // The ECU: in the registry, bound to the local manufacturer CA, enrolled through cert-broker.
  const env = functionEnv(cloud);
  const thingName = `${LOCAL_ECU.vin}_${LOCAL_ECU.ecuId}`;
  await new DynamoDBClient(cloud.clientConfig()).send(
    new PutItemCommand({
      TableName: env.ECU_REGISTRY_TABLE,
      Item: {
        ecuId: { S: LOCAL_ECU.ecuId },
        vin: { S: LOCAL_ECU.vin },
        role: { S: LOCAL_ECU.role },
        status: { S: 'ACTIVE' },
        thingName: { S: thingName },
        attestationIssuerKeySha256: { S: attestationIssuerKeySha256(manufacturer.certificatePem) },
      },
    }),
  );
  const { keys, privateKeyPem } = await generateKeyPair();
  const birth = await issueLeaf(manufacturer, {
    subject: `CN=${LOCAL_ECU.ecuId}`,
    publicKey: keys.publicKey,
  });
  // The operator reads the signing key's public half; the ECU's own KMS calls use the credentials
  // the credential provider would give it.
  const kms = new KMS({ ...cloud.clientConfig(), credentials: iam.ecuCredentials(thingName) });
  const signingKeyId = `arn:aws:kms:${cloud.region}:${cloud.account}:key/${LOCAL_KEYS.signing}`;
  const signing = await new KMS(cloud.clientConfig()).send(new GetPublicKeyCommand({ KeyId: signingKeyId }));
  const ecu = new EcuSimulator({
    vin: LOCAL_ECU.vin,
    ecuId: LOCAL_ECU.ecuId,
    attestation: { certificatePem: pemOf(birth), privateKeyPem },
    kms,
    telemetryKeyId: env.TELEMETRY_KEY_ID ?? '',
    commandKeys: [{ keyId: signingKeyId, publicKey: signing.PublicKey ?? new Uint8Array() }],
    commandIssuer: 'cv-security:local',
  });
  const sample = join(options.root, 'events/cert-broker/post-certificates-attestation.json');
  await ecu.enrol(async (body) => {
    const event = JSON.parse(readFileSync(sample, 'utf8')) as {
      body: string;
      headers: Record<string, string>;
    };
    event.body = body;
    event.headers['content-length'] = String(Buffer.byteLength(body));
    return (await call(certBroker.handler, event)) as { statusCode: number; body: string };
  });
  const identity = ecu.operationalIdentity();

  mkdirSync(options.dir, { recursive: true });
  const files: LocalGatewayFiles = {
    serverCaFile: join(options.dir, 'server-ca.pem'),
    ecu: {
      thingName: ecu.thingName,
      certificateFile: join(options.dir, `${ecu.thingName}.cert.pem`),
      keyFile: join(options.dir, `${ecu.thingName}.key.pem`),
    },
  };
  writeFileSync(files.serverCaFile, gateway.serverCaPem);
  writeFileSync(
    files.ecu.certificateFile,
    `${identity.enrolment.certificatePem.trim()}\n${identity.enrolment.certificateChainPem.trim()}\n`,
  );
  writeFileSync(files.ecu.keyFile, identity.privateKeyPem, { mode: 0o600 });
  chmodSync(files.ecu.keyFile, 0o600);
  return { gateway, files };
}

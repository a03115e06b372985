/**
 * `pnpm run fleet-load`: a synthetic fleet driven through the real handlers (in-process, as in
 * the demo) and the local cloud with AWS's default quotas on. Flows: the factory's enrolment
 * wave (cert-broker, Private CA), just-in-time registration over the MQTT gateway
 * (jitr-handler), a command campaign to every vehicle (command-authorizer, command-sender, KMS,
 * IoT data plane, the ECU executing and reporting) and steady encrypted telemetry
 * (telemetry-ingest). Each flow is measured; the invariants are checked at the end against the
 * local cloud's state.
 */
import { copyFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { BatchWriteItemCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { GetPublicKeyCommand, KMS } from '@aws-sdk/client-kms';
import { EcuSimulator, type RetryPolicy } from '@cv/ecu-sim';
import {
  attestationIssuerKeySha256,
  generateKeyPair,
  issueLeaf,
  type LocalCloud,
  MqttGateway,
  pemOf,
  type QuotaOptions,
} from '@cv/local-cloud';
import { functionEnv, LOCAL_KEYS, projectRuleSql, startSeededCloud } from '../fleet.js';
import { type Campaign, startCampaign } from './commands.js';
import { checkInvariants, type Invariant } from './invariants.js';
import { type Handler, LambdaModel } from './lambda.js';
import { complete, delta, type FlowMetrics, newFlow, pool } from './metrics.js';

export const FLOWS = ['enrolment', 'jitr', 'commands', 'telemetry'] as const;
export type FlowName = (typeof FLOWS)[number];

export interface LoadOptions {
  readonly ecus: number;
  /** Quota seconds per real second. */
  readonly timeScale: number;
  /** Events in flight per flow. */
  readonly concurrency: number;
  /** Flows to run, in order (each needs the ones before it). */
  readonly flows: readonly FlowName[];
  /** ECUs that stay connected after JITR (every vehicle's gateway first, for the campaign); the others connect for their telemetry. */
  readonly online: number;
  readonly commandsPerVehicle: number;
  readonly telemetryPerEcu: number;
  /** jitr-handler's reserved concurrency (the stack's `jitrReservedConcurrency`); unset or 0: no cap. */
  readonly jitrReservedConcurrency?: number;
  /** Quota rates replaced by name (e.g. an approved increase, or a lower one in tests). */
  readonly overrides?: Readonly<Record<string, number>>;
  /** Write one V8 CPU profile per flow here (`<flow>.cpuprofile`), for scripts/cpu-profile-summary.mjs. */
  readonly profileDir?: string;
  /** Modelled service latency (quota milliseconds) per `service[:operation]`. */
  readonly latencyMs?: Readonly<Record<string, number>>;
  readonly log: (line: string) => void;
}

export interface LoadResult {
  readonly options: Omit<LoadOptions, 'log'>;
  readonly flows: readonly FlowMetrics[];
  readonly invariants: readonly Invariant[];
  readonly quotas: readonly { name: string; perSecond: number; source: string }[];
  readonly lambda: {
    peak: number;
    limit: number;
    invocations: number;
    asyncRetries: number;
    peakQueued: number;
    /** Execution environments created (cold starts), for the functions modelled container by container. */
    containers: Record<string, number>;
  };
  readonly deadLetters: readonly { fn: string; error: string }[];
  readonly seconds: number;
}

const ROLES = ['gateway', 'telematics', 'adas'] as const;
const REGION = 'eu-west-1';
const ACCOUNT = '123456789012';
const root = process.env.CV_ROOT ?? join(import.meta.dirname, '..', '..', '..', '..');
const keyArn = (id: string) => `arn:aws:kms:${REGION}:${ACCOUNT}:key/${id}`;
const vinOf = (i: number) => `WVWZZZ1JZLD${String(i).padStart(6, '0')}`;

/**
 * Copies the source maps of the bundle files a profile ran, beside it, so that
 * scripts/cpu-profile-summary.mjs maps it to the sources it ran even after a later rebuild.
 */
function saveSourceMaps(profile: { nodes: { callFrame: { url: string } }[] }, dir: string): void {
  mkdirSync(dir, { recursive: true });
  const files = new Set(profile.nodes.map((n) => n.callFrame.url).filter((u) => u.startsWith('file://')));
  for (const url of files) {
    const map = `${fileURLToPath(url)}.map`;
    if (existsSync(map)) copyFileSync(map, join(dir, `${basename(fileURLToPath(url))}.map`));
  }
}

/** Snapshot of the counters a flow's deltas are taken from. */
function snapshot(cloud: LocalCloud) {
  // Calls served: the awsJson/awsQuery requests less the throttled ones, and the IoT operations served.
  const requests = new Map(cloud.requests);
  for (const [key, n] of cloud.quotas?.throttledCalls ?? []) {
    if (requests.has(key)) requests.set(key, (requests.get(key) ?? 0) - n);
  }
  for (const [op, n] of cloud.iot.calls) requests.set(`iot:${op}`, n);
  const stats = cloud.quotas?.stats() ?? [];
  // MQTT connections and inbound publishes admitted by the broker.
  for (const s of stats) if (s.spec.service === 'iot-broker') requests.set(s.spec.name, s.allowed);
  return {
    requests,
    throttled: new Map(stats.map((s) => [s.spec.name, s.throttled])),
    allowed: new Map(stats.map((s) => [s.spec.name, s.allowed])),
    at: performance.now(),
  };
}

export async function runLoad(options: LoadOptions): Promise<LoadResult> {
  const t0 = performance.now();
  const log = options.log;
  const quotaOptions: QuotaOptions = {
    timeScale: options.timeScale,
    latencyMs: options.latencyMs ?? {},
    overrides: options.overrides ?? {},
  };
  const { cloud, manufacturer } = await startSeededCloud(0, { quotas: quotaOptions });
  Object.assign(process.env, functionEnv(cloud), { LOG_LEVEL: 'CRITICAL' });
  const scaledSleep = (quotaMs: number) =>
    new Promise<void>((r) => setTimeout(r, Math.max(0, quotaMs / options.timeScale)));
  const lambda = new LambdaModel(
    scaledSleep,
    REGION,
    ACCOUNT,
    options.concurrency,
    options.jitrReservedConcurrency ? { 'jitr-handler': options.jitrReservedConcurrency } : {},
  );
  const flows: FlowMetrics[] = [];
  const ecus: EcuSimulator[] = [];
  let gateway: MqttGateway | undefined;
  let campaign: Campaign | undefined;
  const telemetrySentAt = new Map<string, number[]>();
  const ruleErrors: string[] = [];
  let telemetryFlow: FlowMetrics | undefined;
  try {
    const certBroker = await import('../../../../functions/cert-broker/src/handler.js');
    const jitr = await import('../../../../functions/jitr-handler/src/handler.js');
    const telemetry = await import('../../../../functions/telemetry-ingest/src/handler.js');
    // One jitr-handler container per concurrent invocation, each with its own IoT client and its
    // adaptive-retry rate limiter, as in Lambda (not one client shared by the whole fleet).
    const jitrContainers = { create: () => jitr.createContainer(process.env).handler as Handler };
    const sql = projectRuleSql(cloud.operationalCaCertificateId);
    gateway = await MqttGateway.start(cloud, [
      {
        name: 'jitr',
        sql: sql.jitr,
        invoke: (e) => lambda.invokeAsync('jitr-handler', jitrContainers, e),
      },
      {
        name: 'telemetry',
        sql: sql.telemetry,
        invoke: async (e) => {
          await lambda.invokeAsync('telemetry-ingest', telemetry.handler as Handler, e);
          const thing = String((e as { thingName?: unknown }).thingName);
          const sentAt = telemetrySentAt.get(thing)?.shift();
          if (telemetryFlow && sentAt !== undefined) complete(telemetryFlow, sentAt);
        },
      },
      {
        name: 'command-results',
        sql: sql.results,
        invoke: (e) => lambda.invokeAsync('telemetry-ingest', telemetry.handler as Handler, e),
      },
    ]);
    gateway.on('ruleError', (rule, error) => ruleErrors.push(`${rule}: ${String(error)}`));
    const gw = gateway;
    const ddb = new DynamoDBClient(cloud.clientConfig());
    const kms = new KMS(cloud.clientConfig());
    const signingKey = await kms.send(new GetPublicKeyCommand({ KeyId: keyArn(LOCAL_KEYS.signing) }));
    const pinned = [
      { keyId: keyArn(LOCAL_KEYS.signing), publicKey: signingKey.PublicKey ?? new Uint8Array() },
    ];
    const vehicles = Math.ceil(options.ecus / ROLES.length);
    const executedAt = new Map<string, number>();

    // The factory: birth certificates and registry rows (not measured; AWS sees none of it).
    log(`factory: ${options.ecus} ECUs of ${vehicles} vehicles (birth certificates, registry rows)`);
    const issuerKey = attestationIssuerKeySha256(manufacturer.certificatePem);
    const rows: { ecuId: string; vin: string; role: string }[] = [];
    for (let i = 0; i < options.ecus; i++) {
      const v = Math.floor(i / ROLES.length) + 1;
      const role = ROLES[i % ROLES.length] ?? 'gateway';
      rows.push({ ecuId: `${role.toUpperCase()}-${String(v).padStart(6, '0')}`, vin: vinOf(v), role });
    }
    const factoryStart = performance.now();
    await pool(rows, 8, async (row) => {
      if (ecus.length % 2000 === 0 && ecus.length > 0) {
        log(
          `  factory: ${ecus.length}/${rows.length} in ${((performance.now() - factoryStart) / 1000).toFixed(0)} s`,
        );
      }
      const { keys, privateKeyPem } = await generateKeyPair();
      const birth = await issueLeaf(manufacturer, { subject: `CN=${row.ecuId}`, publicKey: keys.publicKey });
      ecus.push(
        new EcuSimulator({
          vin: row.vin,
          ecuId: row.ecuId,
          attestation: { certificatePem: pemOf(birth), privateKeyPem },
          kms,
          telemetryKeyId: keyArn(LOCAL_KEYS.telemetry),
          commandKeys: pinned,
          commandIssuer: 'cv-security:local',
          execute: (c) => {
            executedAt.set(c.claims.jti, performance.now());
            campaign?.onExecuted(c.claims.jti);
            return 'done';
          },
        }),
      );
    });
    const batches = rows.map((r) => ({
      PutRequest: {
        Item: {
          ecuId: { S: r.ecuId },
          vin: { S: r.vin },
          role: { S: r.role },
          status: { S: 'ACTIVE' },
          attestationIssuerKeySha256: { S: issuerKey },
          updatedAt: { S: new Date().toISOString() },
        },
      },
    }));
    for (let i = 0; i < batches.length; i += 25) {
      await ddb.send(
        new BatchWriteItemCommand({
          RequestItems: { 'cv-security-local-ecu-registry': batches.slice(i, i + 25) },
        }),
      );
    }

    const measure = async (name: FlowName, total: number, body: (flow: FlowMetrics) => Promise<void>) => {
      const flow = newFlow(name);
      flows.push(flow);
      const before = snapshot(cloud);
      const profiler = options.profileDir ? new Session() : undefined;
      if (profiler) {
        profiler.connect();
        await profiler.post('Profiler.enable');
        await profiler.post('Profiler.start');
      }
      const progress = setInterval(() => {
        const s = (performance.now() - flow.startedAt) / 1000;
        log(
          `  ${name}: ${flow.completed}/${total} in ${s.toFixed(0)} s (${(flow.completed / s / options.timeScale).toFixed(1)}/s quota time), ${flow.retries} retries, ${flow.failed} failed`,
        );
      }, 5_000);
      try {
        await body(flow);
      } finally {
        clearInterval(progress);
        flow.endedAt = performance.now();
        if (profiler && options.profileDir) {
          const { profile } = await profiler.post('Profiler.stop');
          mkdirSync(options.profileDir, { recursive: true });
          writeFileSync(join(options.profileDir, `${name}.cpuprofile`), JSON.stringify(profile));
          saveSourceMaps(profile, join(options.profileDir, 'maps'));
          profiler.disconnect();
        }
        const after = snapshot(cloud);
        flow.requests = delta(before.requests, after.requests);
        flow.throttles = delta(before.throttled, after.throttled);
        flow.admitted = delta(before.allowed, after.allowed);
        const offset = Math.floor((before.at - (cloud.quotas?.startedAt ?? before.at)) / 1000);
        const seconds = Math.ceil((flow.endedAt - flow.startedAt) / 1000);
        for (const s of cloud.quotas?.stats() ?? []) {
          if (!flow.admitted[s.spec.name]) continue;
          flow.admittedBySecond[s.spec.name] = Array.from(
            { length: seconds },
            (_, i) => s.admittedBySecond[offset + i] ?? 0,
          );
        }
        log(
          `${name}: ${flow.completed} done, ${flow.failed} failed in ${((flow.endedAt - flow.startedAt) / 1000).toFixed(1)} s`,
        );
      }
    };
    const retryPolicy = (flow: FlowMetrics, base: RetryPolicy): RetryPolicy => ({
      ...base,
      sleep: scaledSleep,
      onRetry: () => {
        flow.retries += 1;
      },
    });

    const event = JSON.parse(
      readFileSync(join(root, 'events/cert-broker/post-certificates-attestation.json'), 'utf8'),
    ) as Record<string, unknown> & { headers: Record<string, string> };
    const transport = async (body: string) => {
      const e = {
        ...event,
        body,
        headers: { ...event.headers, 'content-length': String(Buffer.byteLength(body)) },
      };
      try {
        return (await lambda.invoke('cert-broker', certBroker.handler as Handler, e)) as {
          statusCode: number;
          body: string;
          headers?: Record<string, string>;
        };
      } catch {
        // What API Gateway answers when the function fails or times out.
        return { statusCode: 502, body: '{"message":"Internal server error"}' };
      }
    };

    if (options.flows.includes('enrolment')) {
      await measure('enrolment', ecus.length, (flow) =>
        pool(ecus, options.concurrency, async (ecu) => {
          const start = performance.now();
          try {
            await ecu.enrolWithRetry(
              transport,
              retryPolicy(flow, { attempts: 30, baseDelayMs: 1_000, maxDelayMs: 60_000 }),
            );
            complete(flow, start);
          } catch (error) {
            flow.failed += 1;
            if (flow.failed <= 3) log(`  enrolment of ${ecu.thingName} failed: ${String(error)}`);
          }
        }),
      );
    }
    const enrolled = ecus.filter((e) => e.enrolment);
    // The ECUs that stay connected after JITR: every vehicle's gateway first (it receives the
    // campaign), then the others, up to --online (each connection holds two file descriptors in
    // this one process, both ends of the TLS connection, and the machine allows 20,000).
    const gateways = enrolled.filter((e) => e.thingName.includes('_GATEWAY-'));
    const gatewaySet = new Set(gateways);
    const stayOnline = new Set(
      [...gateways, ...enrolled.filter((e) => !gatewaySet.has(e))].slice(0, options.online),
    );
    const registered = new Set<EcuSimulator>();
    if (options.flows.includes('jitr')) {
      await measure('jitr', enrolled.length, (flow) =>
        pool(enrolled, options.concurrency, async (ecu) => {
          const start = performance.now();
          const ok = await ecu.connectWithRetry(
            gw.url,
            gw.serverCaPem,
            retryPolicy(flow, { attempts: 60, baseDelayMs: 1_000, maxDelayMs: 30_000 }),
          );
          if (ok) {
            complete(flow, start);
            registered.add(ecu);
          } else flow.failed += 1;
          // Beyond the online set, the ECU goes offline again (one process holds every client).
          if (ok && !stayOnline.has(ecu)) await ecu.disconnect();
        }),
      );
    }
    const online = enrolled.filter((e) => e.connected);
    // Telemetry comes from every registered ECU: an ECU not kept online connects for its readings
    // and disconnects after them (a trip), at most --concurrency of them at once.
    const senders = options.flows.includes('jitr') ? enrolled.filter((e) => registered.has(e)) : online;
    if (options.flows.includes('commands')) {
      campaign = await startCampaign({ cloud, ddb, lambda, vehicles: online, root, executedAt });
      const c = campaign;
      const targets = Array.from({ length: options.commandsPerVehicle }).flatMap(() => c.vins);
      await measure('commands', targets.length, (flow) => c.run(flow, targets, options.concurrency));
    }
    const tripFailures = new Map<string, number>();
    if (options.flows.includes('telemetry')) {
      await measure('telemetry', senders.length * options.telemetryPerEcu, async (flow) => {
        telemetryFlow = flow;
        // Each ECU sends its readings one after another; ECUs in parallel up to the concurrency.
        const byEcu = senders.map((ecu) => ({ ecu, n: options.telemetryPerEcu }));
        await pool(byEcu, options.concurrency, async ({ ecu, n }) => {
          const trip = !ecu.connected;
          if (trip) {
            // An ECU keeps its readings until they are delivered: it retries its connect for minutes, not
            // 10 attempts (at 20,000 ECUs, 4 trips had 10 CONNACK timeouts in a row in this one saturated process).
            const ok = await ecu.connectWithRetry(
              gw.url,
              gw.serverCaPem,
              retryPolicy(flow, { attempts: 30, baseDelayMs: 200, maxDelayMs: 10_000 }),
            );
            if (!ok) {
              flow.failed += n;
              const why = ecu.lastConnectFailure ?? 'unknown';
              tripFailures.set(why, (tripFailures.get(why) ?? 0) + 1);
              return;
            }
          }
          for (let k = 0; k < n; k++) {
            const queue = telemetrySentAt.get(ecu.thingName) ?? [];
            telemetrySentAt.set(ecu.thingName, queue);
            queue.push(performance.now());
            try {
              await ecu.sendTelemetryReliably(
                { status: { speedKmh: 50 + k, odometerKm: 10_000 + k, doorsLocked: true, ignition: 'ON' } },
                gw,
                retryPolicy(flow, { attempts: 10, baseDelayMs: 200, maxDelayMs: 10_000 }),
              );
            } catch {
              flow.failed += 1;
              queue.pop();
            }
          }
          if (trip) await ecu.disconnect();
        });
        await gw.settle();
      });
      if (tripFailures.size > 0) {
        log(
          `  trips whose connect failed every attempt, by the last attempt's failure: ${[...tripFailures].map(([k, v]) => `${k} ${v}`).join(', ')}`,
        );
      }
    }
    await gw.settle();
    await campaign?.settle();
    const invariants = await checkInvariants({
      cloud,
      ddb,
      ecus,
      flows: options.flows,
      commandIds: campaign?.commandIds ?? [],
      executedCommands: executedAt,
      telemetryPerEcu: options.flows.includes('telemetry') ? options.telemetryPerEcu : 0,
      senders,
      deadLetters: lambda.deadLetters,
      ruleErrors,
    });
    const { log: _log, ...rest } = options;
    return {
      options: rest,
      flows,
      invariants,
      quotas: (cloud.quotas?.stats() ?? []).map((s) => ({
        name: s.spec.name,
        perSecond: s.spec.perSecond,
        source: s.spec.source,
      })),
      lambda: {
        peak: lambda.peak,
        limit: lambda.limit,
        invocations: lambda.invocations,
        asyncRetries: lambda.asyncRetries,
        peakQueued: lambda.peakQueued,
        containers: Object.fromEntries(lambda.coldStarts),
      },
      deadLetters: lambda.deadLetters,
      seconds: (performance.now() - t0) / 1000,
    };
  } finally {
    await Promise.allSettled(ecus.map((e) => e.disconnect()));
    await gateway?.stop().catch(() => undefined);
    await cloud.stop();
  }
}

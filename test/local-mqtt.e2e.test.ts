/**
 * `pnpm run local-cloud` as the local AWS IoT endpoint for a real MQTT client: the server is
 * started as the README starts it (scripts/local-cloud.mjs, here on ephemeral ports with its
 * own state file), and the mqtt npm client connects with the files it wrote: the first
 * connection is a just-in-time registration, later ones connect over MQTT 5 and receive a
 * command published through the data plane with its MQTT 5 properties.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { IoTDataPlaneClient, PublishCommand } from '@aws-sdk/client-iot-data-plane';
import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const ROOT = join(import.meta.dirname, '..');

interface State {
  endpoint: string;
  env: Record<string, string>;
  mqtt: {
    host: string;
    port: number;
    url: string;
    serverCaFile: string;
    serverCaPem: string;
    ecu: { thingName: string; certificateFile: string; keyFile: string };
  };
}

let child: ChildProcess | undefined;
let dir: string;
let state: State;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'cv-local-mqtt-'));
  const statePath = join(dir, 'state.json');
  const proc = spawn(
    process.execPath,
    [join(ROOT, 'scripts', 'local-cloud.mjs'), '--port', '0', '--state', statePath],
    { cwd: ROOT, detached: true, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  child = proc;
  let output = '';
  await new Promise<void>((resolve, reject) => {
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      if (/MQTT gateway on mqtts:\/\/127\.0\.0\.1:\d+/.test(output)) resolve();
    };
    proc.stdout?.on('data', onData);
    proc.stderr?.on('data', onData);
    proc.once('error', reject);
    proc.once('exit', (code) => reject(new Error(`local cloud exited (${code}) before serving:\n${output}`)));
  });
  state = JSON.parse(readFileSync(statePath, 'utf8')) as State;
}, 120_000);

afterAll(async () => {
  const proc = child;
  if (proc?.pid !== undefined && proc.exitCode === null) {
    const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
    process.kill(-proc.pid, 'SIGTERM');
    await exited;
  }
  if (dir) rmSync(dir, { recursive: true, force: true });
});

function connect(protocolVersion: 4 | 5): Promise<mqtt.MqttClient | undefined> {
  const { mqtt: m } = state;
  const client = mqtt.connect(m.url, {
    clientId: m.ecu.thingName,
    key: readFileSync(m.ecu.keyFile),
    cert: readFileSync(m.ecu.certificateFile),
    ca: readFileSync(m.serverCaFile),
    servername: m.host,
    protocolVersion,
    reconnectPeriod: 0,
    connectTimeout: 5000,
  });
  return new Promise((resolve) => {
    client.once('connect', () => resolve(client));
    const refused = () => {
      client.end(true);
      resolve(undefined);
    };
    client.once('error', refused);
    client.once('close', refused);
  });
}

describe('pnpm run local-cloud: the MQTT gateway for real clients', () => {
  it('writes the gateway port and server CA into the state file, and the ECU key readable by its owner only', () => {
    expect(state.mqtt.port).toBeGreaterThan(0);
    expect(state.mqtt.url).toBe(`mqtts://127.0.0.1:${state.mqtt.port}`);
    expect(state.mqtt.serverCaPem).toMatch(/^-----BEGIN CERTIFICATE-----/);
    expect(readFileSync(state.mqtt.serverCaFile, 'utf8')).toBe(state.mqtt.serverCaPem);
    expect(statSync(state.mqtt.ecu.keyFile).mode & 0o077).toBe(0);
  });

  it('registers the ECU just in time on its first connection, then it connects over MQTT 5 and receives a command with its MQTT 5 properties', async () => {
    // First connection: registered PENDING_ACTIVATION and dropped, as AWS IoT does.
    expect(await connect(4)).toBeUndefined();
    // jitr-handler (invoked by the rule in the server) activates it: retry as an ECU does.
    let client: mqtt.MqttClient | undefined;
    for (let attempt = 0; attempt < 60 && !client; attempt++) {
      client = await connect(5);
      if (!client) await new Promise((r) => setTimeout(r, 250));
    }
    if (!client) throw new Error('the ECU never connected');
    const thing = state.mqtt.ecu.thingName;
    await client.subscribeAsync(`ecus/${thing}/commands`, { qos: 1 });
    const received = new Promise<mqtt.IPublishPacket>((resolve) =>
      client?.once('message', (_topic, _payload, packet) => resolve(packet)),
    );
    const data = new IoTDataPlaneClient({
      endpoint: state.endpoint,
      region: state.env.AWS_REGION,
      credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    });
    await data.send(
      new PublishCommand({
        topic: `ecus/${thing}/commands`,
        qos: 1,
        payload: Buffer.from('{"v":1}'),
        messageExpiry: 120,
        responseTopic: `ecus/${thing}/command-results`,
        correlationData: Buffer.from('cmd-1').toString('base64'),
      }),
    );
    const packet = await received;
    expect(packet.payload.toString()).toBe('{"v":1}');
    expect(packet.properties?.responseTopic).toBe(`ecus/${thing}/command-results`);
    expect(Buffer.from(packet.properties?.correlationData ?? []).toString()).toBe('cmd-1');
    expect(packet.properties?.messageExpiryInterval).toBeGreaterThan(0);
    await client.endAsync();
  }, 60_000);
});

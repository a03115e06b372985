/**
 * The write primitives the manifest import could use, on the local cloud (dynalite behind it), in this one process:
 * conditional PutItem with N in flight (what the import does) against TransactWriteItems of `size` conditional puts
 * with N in flight (the local cloud composes a transaction from single-item reads and writes, see
 * packages/local-cloud/src/services/dynamodb.ts). Rows/s and this process's CPU seconds per mode.
 *
 * Run: node packages/admin/bench/write-modes.mjs [rows] [p:N | t:SIZE:N]...   e.g. 5000 p:25 p:25 t:100:4
 * (run `p:25` first as a warm-up: the first mode pays the JIT.)
 */
import { DynamoDBClient, PutItemCommand, TransactWriteItemsCommand } from '@aws-sdk/client-dynamodb';
import { createTables, LocalCloud } from '@cv/local-cloud';

const N = Number(process.argv[2] ?? 5000);
const TABLE = 'cv-security-bench-ecu-registry';
const cloud = await LocalCloud.start({ region: 'eu-west-1', account: '123456789012' });
const ddb = new DynamoDBClient(cloud.clientConfig());
await createTables(ddb, {
  ecuRegistry: TABLE,
  vehicleAccess: 'cv-security-bench-vehicle-access',
  commands: 'cv-security-bench-commands',
  telemetry: 'cv-security-bench-telemetry',
  adminAudit: 'cv-security-bench-admin-audit',
  suppliers: 'cv-security-bench-suppliers',
});
const now = new Date().toISOString();
const item = (ecuId: string) => ({
  ecuId: { S: ecuId },
  vin: { S: 'WVWZZZ1JZXW000001' },
  role: { S: 'gateway' },
  status: { S: 'ACTIVE' },
  supplierId: { S: 'acme' },
  attestationIssuerKeySha256: { S: 'a1'.repeat(32) },
  manifestSha256: { S: 'b2'.repeat(32) },
  importedBy: { S: 'arn:aws:iam::123456789012:user/bench' },
  importedAt: { S: now },
  updatedAt: { S: now },
});
const put = (ecuId: string) => ({
  TableName: TABLE,
  Item: item(ecuId),
  ConditionExpression: 'attribute_not_exists(ecuId)',
});

async function pool(count: number, limit: number, fn: (i: number) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: limit }, async () => {
      while (next < count) await fn(next++);
    }),
  );
}

async function measure(label: string, run: () => Promise<void>): Promise<void> {
  const started = performance.now();
  const cpu = process.cpuUsage();
  await run();
  const seconds = (performance.now() - started) / 1000;
  const used = process.cpuUsage(cpu);
  console.log(
    `${label.padEnd(28)} ${String(Math.round(N / seconds)).padStart(6)} rows/s  ${seconds.toFixed(1)} s  cpu ${((used.user + used.system) / 1e6).toFixed(1)} s`,
  );
}

try {
  for (const [run, mode] of process.argv.slice(3).entries()) {
    const [kind, a, b] = mode.split(':');
    if (kind === 'p') {
      await measure(`conditional puts, ${a} in flight`, () =>
        pool(N, Number(a), async (i) => void (await ddb.send(new PutItemCommand(put(`P${run}-${i}`))))),
      );
    } else if (kind === 't') {
      const size = Number(a);
      await measure(`transactions of ${size}, ${b} in flight`, () =>
        pool(Math.ceil(N / size), Number(b), async (t) => {
          const ids = Array.from({ length: size }, (_, j) => t * size + j).filter((i) => i < N);
          await ddb.send(
            new TransactWriteItemsCommand({ TransactItems: ids.map((i) => ({ Put: put(`T${run}-${i}`) })) }),
          );
        }),
      );
    } else {
      throw new Error(`unknown mode ${mode}: p:N or t:SIZE:N`);
    }
  }
} finally {
  ddb.destroy();
  await cloud.stop();
}

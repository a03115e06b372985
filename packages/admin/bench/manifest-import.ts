/**
 * Measures `cv-admin manifest import` on a generated manifest against the local cloud (dynalite behind it): rows per
 * second and the importer's peak RSS (`/usr/bin/time -v` on the CLI's own process; the local cloud and its
 * dynalite run in this process, so their memory is not counted). Runs: a first import, a re-run of the same file
 * (idempotency: every row read, none written), and an import interrupted at about half and then resumed.
 *
 * Run: node packages/admin/bench/run.mjs [--rows 1000000] [--csv] [--concurrency N] [--no-resume]
 */
import { execFile, spawn } from 'node:child_process';
import { once } from 'node:events';
import { createWriteStream, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { DynamoDBClient, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { createTables, LocalCloud } from '@cv/local-cloud';

const arg = (name: string) => {
  const i = process.argv.indexOf(name);
  return i === -1 ? undefined : process.argv[i + 1];
};
const ROWS = Number(arg('--rows') ?? 1_000_000);
const CSV = process.argv.includes('--csv');
const CONCURRENCY = arg('--concurrency');
/** Only the first import and its re-run (the million-row measurement: the interrupted run doubles the time). */
const NO_RESUME = process.argv.includes('--no-resume');
const STAGE = 'bench';
const KEY = 'a1'.repeat(32);
// CV_ROOT: the workspace root, set by scripts/run-bundled.mjs (this file runs bundled from a cache folder).
const root = join(process.env.CV_ROOT ?? process.cwd(), 'packages/admin');
const dir = mkdtempSync(join(tmpdir(), 'cv-admin-bench-'));

async function manifest(path: string, prefix: string): Promise<void> {
  const out = createWriteStream(path);
  if (CSV) out.write('ecuId,vin,role,supplier\n');
  for (let i = 0; i < ROWS; i++) {
    const vin = `WVWZZZ1JZXW${String(i % 1_000_000).padStart(6, '0')}`;
    const line = CSV
      ? `${prefix}-${i},${vin},gateway,acme\n`
      : `{"ecuId":"${prefix}-${i}","vin":"${vin}","role":"gateway","supplier":"acme"}\n`;
    if (!out.write(line)) await once(out, 'drain');
  }
  out.end();
  await once(out, 'finish');
}

function runImport(cloud: LocalCloud, path: string, killAfterMs?: number) {
  return new Promise<{ seconds: number; peakRssMiB: number; report: Record<string, unknown> | undefined }>(
    (resolve, reject) => {
      const started = process.hrtime.bigint();
      const child = spawn(
        '/usr/bin/time',
        [
          '-v',
          process.execPath,
          join(root, 'bin/cv-admin.mjs'),
          'manifest',
          'import',
          path,
          ...(CONCURRENCY === undefined ? [] : ['--concurrency', CONCURRENCY]),
        ],
        {
          env: { ...process.env, ...cloud.sdkEnv(), CV_STAGE: STAGE, XDG_STATE_HOME: dir },
          stdio: ['ignore', 'pipe', 'pipe'],
        },
      );
      let out = '';
      let err = '';
      child.stdout.on('data', (d) => {
        out += d;
      });
      child.stderr.on('data', (d) => {
        err += d;
      });
      // SIGINT to the CLI (time's child), as an operator's Ctrl-C would be.
      const timer =
        killAfterMs === undefined
          ? undefined
          : setTimeout(() => {
              void promisify(execFile)('pkill', ['-INT', '-P', String(child.pid)]).catch(() => undefined);
            }, killAfterMs);
      child.on('error', reject);
      child.on('close', () => {
        if (timer) clearTimeout(timer);
        const seconds = Number(process.hrtime.bigint() - started) / 1e9;
        const rss = Number(/Maximum resident set size \(kbytes\): (\d+)/.exec(err)?.[1] ?? 'NaN') / 1024;
        let report: Record<string, unknown> | undefined;
        try {
          report = JSON.parse(out.trim().split('\n').at(-1) ?? '');
        } catch {
          report = undefined;
        }
        resolve({ seconds, peakRssMiB: Math.round(rss), report });
      });
    },
  );
}

const cloud = await LocalCloud.start({ region: 'eu-west-1', account: '123456789012' });
try {
  const ddb = new DynamoDBClient(cloud.clientConfig());
  await createTables(ddb, {
    ecuRegistry: `cv-security-${STAGE}-ecu-registry`,
    vehicleAccess: `cv-security-${STAGE}-vehicle-access`,
    commands: `cv-security-${STAGE}-commands`,
    telemetry: `cv-security-${STAGE}-telemetry`,
    adminAudit: `cv-security-${STAGE}-admin-audit`,
    suppliers: `cv-security-${STAGE}-suppliers`,
  });
  await ddb.send(
    new PutItemCommand({
      TableName: `cv-security-${STAGE}-suppliers`,
      Item: { supplierId: { S: 'acme' }, caKeySha256: { S: KEY }, status: { S: 'ACTIVE' } },
    }),
  );
  const ext = CSV ? 'csv' : 'jsonl';
  const first = join(dir, `first.${ext}`);
  await manifest(first, 'ECU');
  const line = (name: string, r: Awaited<ReturnType<typeof runImport>>) => {
    const counts = r.report as { written?: number; unchanged?: number; refused?: number } | undefined;
    const rows = (counts?.written ?? 0) + (counts?.unchanged ?? 0) + (counts?.refused ?? 0);
    console.log(
      `${name.padEnd(28)} rows ${String(rows).padStart(8)}  ${r.seconds.toFixed(1).padStart(7)} s  ${Math.round(
        rows / r.seconds,
      )
        .toString()
        .padStart(
          6,
        )} rows/s  peak RSS ${r.peakRssMiB} MiB  ${JSON.stringify({ written: counts?.written, unchanged: counts?.unchanged, refused: counts?.refused })}`,
    );
  };
  console.log(
    `manifest import bench: ${ROWS} rows (${ext}), concurrency ${CONCURRENCY ?? 'default'}, local cloud (dynalite), node ${process.version}`,
  );
  const fresh = await runImport(cloud, first);
  line('import (new rows)', fresh);
  line('re-run (all unchanged)', await runImport(cloud, first));
  if (!NO_RESUME) {
    const second = join(dir, `second.${ext}`);
    await manifest(second, 'RES');
    const interrupted = await runImport(cloud, second, Math.round((fresh.seconds * 1000) / 2));
    console.log(`interrupted after ${interrupted.seconds.toFixed(1)} s (SIGINT)`);
    line('resumed from checkpoint', await runImport(cloud, second));
  }
} finally {
  await cloud.stop();
  rmSync(dir, { recursive: true, force: true });
}

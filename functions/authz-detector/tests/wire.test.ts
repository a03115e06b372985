/** The Security Hub client (3.1108.0, the newest published) against a loopback server: BatchImportFindings. */
import { createServer, type Server } from 'node:http';
import { SecurityHubClient } from '@aws-sdk/client-securityhub';
import { awsClientConfig } from '@cv/runtime';
import { afterEach, expect, it } from 'vitest';
import { SecurityHubImporter } from '../src/adapters/findings.js';
import { FindingImportError } from '../src/errors.js';
import { buildFinding } from '../src/finding.js';
import { CERT } from './helpers.js';

let server: Server | undefined;
afterEach(() => server?.close());

async function loopback(body: unknown) {
  const seen: Array<{ method?: string; url?: string; body: string }> = [];
  server = createServer((req, res) => {
    let text = '';
    req.on('data', (chunk) => {
      text += chunk;
    });
    req.on('end', () => {
      seen.push({ method: req.method, url: req.url, body: text });
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    });
  });
  await new Promise<void>((resolve) => server?.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  const client = new SecurityHubClient({
    ...awsClientConfig({ region: 'eu-west-1', maxAttempts: 1 }),
    endpoint: `http://127.0.0.1:${port}`,
    credentials: { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'not-a-secret' },
  });
  return { seen, importer: new SecurityHubImporter(client) };
}

const finding = buildFinding({
  region: 'eu-west-1',
  accountId: '123456789012',
  partition: 'aws',
  certificateId: CERT,
  windowSeconds: 300,
  count: 21,
  threshold: 20,
  eventTypes: ['Connect'],
  clientIds: [],
  sourceIps: [],
  firstObservedAt: new Date(1_764_060_300_000),
  lastObservedAt: new Date(1_764_060_400_000),
  now: new Date(1_764_060_401_000),
});

it('imports the finding as built, field for field', async () => {
  const { seen, importer } = await loopback({ SuccessCount: 1, FailedCount: 0, FailedFindings: [] });

  await importer.import(finding);

  expect(seen[0]).toMatchObject({ method: 'POST', url: '/findings/import' });
  expect(JSON.parse(seen[0]?.body ?? '{}')).toEqual({ Findings: [finding] });
});

it('fails with the error code Security Hub gives', async () => {
  const { importer } = await loopback({
    SuccessCount: 0,
    FailedCount: 1,
    FailedFindings: [{ Id: String(finding.Id), ErrorCode: 'InvalidInput', ErrorMessage: 'bad' }],
  });

  await expect(importer.import(finding)).rejects.toBeInstanceOf(FindingImportError);
});

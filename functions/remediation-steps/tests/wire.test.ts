/**
 * The two clients pinned below the workspace's SDK version (@aws-sdk/client-acm-pca 3.523.0 and
 * @aws-sdk/client-securityhub 3.1108.0: the newest published) against a loopback HTTP server, with the
 * workspace's client configuration: what they put on the wire, and how their adapters read real error responses.
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { ACMPCAClient } from '@aws-sdk/client-acm-pca';
import { SecurityHubClient } from '@aws-sdk/client-securityhub';
import { awsClientConfig } from '@cv/runtime';
import { afterEach, describe, expect, it } from 'vitest';
import { SecurityHubFindings } from '../src/adapters/findings.js';
import { PrivateCaAdapter } from '../src/adapters/pca.js';
import { StepFailedError } from '../src/errors.js';

interface Seen {
  method?: string;
  url?: string;
  target?: string;
  body: string;
}

let server: Server | undefined;
afterEach(() => server?.close());

async function loopback(status: number, body: unknown, headers: Record<string, string> = {}) {
  const seen: Seen[] = [];
  server = createServer((req: IncomingMessage, res) => {
    let text = '';
    req.on('data', (chunk) => {
      text += chunk;
    });
    req.on('end', () => {
      seen.push({
        method: req.method,
        url: req.url,
        target: req.headers['x-amz-target'] as string,
        body: text,
      });
      res.writeHead(status, { 'content-type': 'application/json', ...headers });
      res.end(JSON.stringify(body));
    });
  });
  await new Promise<void>((resolve) => server?.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  const config = {
    ...awsClientConfig({ region: 'eu-west-1', maxAttempts: 1 }),
    endpoint: `http://127.0.0.1:${port}`,
    credentials: { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'not-a-secret' },
  };
  return { seen, config };
}

const CA =
  'arn:aws:acm-pca:eu-west-1:123456789012:certificate-authority/0f8e2b1c-5d4a-4e3b-9c2d-1a0b9c8d7e6f';

describe('AWS Private CA (client 3.523.0)', () => {
  it('sends RevokeCertificate with the serial and KEY_COMPROMISE', async () => {
    const { seen, config } = await loopback(200, {});

    const out = await new PrivateCaAdapter(new ACMPCAClient(config), CA).revoke('0a:1b');

    expect(out).toBe('revoked');
    expect(seen[0]?.target).toBe('ACMPrivateCA.RevokeCertificate');
    expect(JSON.parse(seen[0]?.body ?? '{}')).toEqual({
      CertificateAuthorityArn: CA,
      CertificateSerial: '0a:1b',
      RevocationReason: 'KEY_COMPROMISE',
    });
  });

  it('reads RequestAlreadyProcessedException as already revoked', async () => {
    const { config } = await loopback(400, { __type: 'RequestAlreadyProcessedException', message: 'done' });

    await expect(new PrivateCaAdapter(new ACMPCAClient(config), CA).revoke('0a:1b')).resolves.toBe('already');
  });

  it('lets any other refusal through', async () => {
    const { config } = await loopback(400, { __type: 'InvalidStateException', message: 'CA disabled' });

    await expect(new PrivateCaAdapter(new ACMPCAClient(config), CA).revoke('0a:1b')).rejects.toMatchObject({
      name: 'InvalidStateException',
    });
  });
});

describe('Security Hub (client 3.1108.0)', () => {
  const finding = {
    findingId: 'f-1',
    productArn: 'arn:aws:securityhub:eu-west-1::product/aws/iot-device-defender-audit',
    status: 'RESOLVED' as const,
    note: 'done',
  };

  it('sends BatchUpdateFindings with the workflow status and the note', async () => {
    const { seen, config } = await loopback(200, {
      ProcessedFindings: [{ Id: 'f-1', ProductArn: finding.productArn }],
      UnprocessedFindings: [],
    });

    await new SecurityHubFindings(new SecurityHubClient(config)).update(finding);

    expect(seen[0]).toMatchObject({ method: 'PATCH', url: '/findings/batchupdate' });
    expect(JSON.parse(seen[0]?.body ?? '{}')).toEqual({
      FindingIdentifiers: [{ Id: 'f-1', ProductArn: finding.productArn }],
      Workflow: { Status: 'RESOLVED' },
      Note: { Text: 'done', UpdatedBy: 'cv-security/remediation-steps' },
    });
  });

  it('fails when the response lists the finding as unprocessed', async () => {
    const { config } = await loopback(200, {
      ProcessedFindings: [],
      UnprocessedFindings: [
        {
          FindingIdentifier: { Id: 'f-1', ProductArn: finding.productArn },
          ErrorCode: 'FindingNotFound',
          ErrorMessage: 'no',
        },
      ],
    });

    await expect(
      new SecurityHubFindings(new SecurityHubClient(config)).update(finding),
    ).rejects.toBeInstanceOf(StepFailedError);
  });
});

describe('the committed finding corpus', () => {
  it('uses only ASFF members: the Security Hub client serializes every finding unchanged', async () => {
    const { eventNames, loadEvent } = await import('./corpus.js');
    const { BatchImportFindingsCommand } = await import('@aws-sdk/client-securityhub');
    const { seen, config } = await loopback(200, { SuccessCount: 1, FailedCount: 0, FailedFindings: [] });
    const client = new SecurityHubClient(config);
    const findings = eventNames()
      .filter((n) => !n.startsWith('malformed-'))
      .map((n) => (loadEvent(n).detail as { findings: unknown[] }).findings[0]);

    for (const f of findings) await client.send(new BatchImportFindingsCommand({ Findings: [f as never] }));

    expect(seen.map((s) => JSON.parse(s.body).Findings[0])).toEqual(findings);
  });
});

/**
 * cv-admin supplier add / list / retire against the local cloud: the broker's SSM bundle, the S3 truststore object
 * and the domain's pinned version (API Gateway v2) change together; the suppliers table and the audit trail record
 * it; a manifest row can then bind to the supplier, and no longer after its retirement, while the registry rows of
 * its ECUs stay as they were.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DynamoDBClient, GetItemCommand } from '@aws-sdk/client-dynamodb';
import { loadTrustStore, parseCertificates } from '@cv/crypto/x509';
import { createTables, LocalCloud } from '@cv/local-cloud';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { awsDeps } from '../src/aws.js';
import { runCli } from '../src/cli.js';
import { spkiSha256 } from '../src/suppliers/bundle.js';
import { makeCa } from './supplier-fakes.js';

const STAGE = 'supl';
const DOMAIN = `certs.${STAGE}.cv.example.com`;
const PARAM = `/cv-security/${STAGE}/attestation-trust-bundle`;
const BUCKET = 'cv-security-supl-truststorebucket-1x2y3z';
const KEY = 'attestation-cas.pem';
const VIN = 'WVWZZZ1JZXW000031';
const dir = mkdtempSync(join(tmpdir(), 'cv-admin-supplier-'));
let cloud: LocalCloud;
let ddb: DynamoDBClient;
let deployed: string;
const saved = { ...process.env };

async function cli(argv: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runCli(argv, {
    env: { ...cloud.sdkEnv(), CV_STAGE: STAGE, XDG_STATE_HOME: dir },
    out: (l) => out.push(l),
    err: (l) => err.push(l),
    deps: awsDeps,
  });
  return { code, out, err, json: JSON.parse((code === 0 ? out[0] : err[0]) ?? '{}') };
}

function places() {
  const pinned = cloud.apigateway.domains.get(DOMAIN)?.truststoreVersion;
  const object = cloud.s3
    .versions(BUCKET, KEY)
    .find((v) => v.versionId === pinned)
    ?.body.toString('utf8');
  return {
    ssm: cloud.ssm.parameters.get(PARAM)?.Value,
    object,
    pinned,
    versions: cloud.s3.versions(BUCKET, KEY).length,
  };
}

const keysIn = (pem: string | undefined) => parseCertificates(pem ?? '').map((c) => spkiSha256(c.spki));

beforeAll(async () => {
  deployed = await makeCa({ name: 'CN=Deployed Factory CA' });
  cloud = await LocalCloud.start({
    region: 'eu-west-1',
    account: '123456789012',
    ssmParameters: { [PARAM]: deployed },
  });
  Object.assign(process.env, cloud.sdkEnv());
  ddb = new DynamoDBClient(cloud.clientConfig());
  await createTables(ddb, {
    ecuRegistry: `cv-security-${STAGE}-ecu-registry`,
    vehicleAccess: `cv-security-${STAGE}-vehicle-access`,
    commands: `cv-security-${STAGE}-commands`,
    telemetry: `cv-security-${STAGE}-telemetry`,
    adminAudit: `cv-security-${STAGE}-admin-audit`,
    suppliers: `cv-security-${STAGE}-suppliers`,
  });
  // As the stack leaves it: the bundle object written once, the domain pinned to that version.
  cloud.s3.createBucket(BUCKET);
  const version = cloud.s3.putObject(BUCKET, KEY, Buffer.from(deployed), 'application/x-pem-file');
  cloud.apigateway.createDomainName(DOMAIN, { uri: `s3://${BUCKET}/${KEY}`, version });
});
afterAll(async () => {
  process.env = saved;
  await cloud?.stop();
});

describe('cv-admin supplier (local cloud)', () => {
  it('onboard, import a manifest bound to it, retire: trust follows in SSM, S3 and the domain; the ECU row stays', async () => {
    const acme = await makeCa({ name: 'CN=Acme Attestation CA' });
    const acmeKey = spkiSha256(parseCertificates(acme)[0]?.spki ?? Buffer.alloc(0));
    writeFileSync(join(dir, 'acme.pem'), acme);
    writeFileSync(
      join(dir, 'line.jsonl'),
      `{"ecuId":"SUP-GW-1","vin":"${VIN}","role":"gateway","supplier":"acme"}\n`,
    );
    writeFileSync(
      join(dir, 'late.jsonl'),
      `{"ecuId":"SUP-GW-2","vin":"${VIN}","role":"gateway","supplier":"acme"}\n`,
    );

    const add = await cli(['supplier', 'add', 'acme', join(dir, 'acme.pem')]);
    const afterAdd = places();
    const imported = await cli(['manifest', 'import', join(dir, 'line.jsonl')]);
    const list = await cli(['supplier', 'list']);
    const retire = await cli(['supplier', 'retire', 'acme']);
    const afterRetire = places();
    const late = await cli(['manifest', 'import', join(dir, 'late.jsonl')]);

    expect(add.code, add.err.join('\n')).toBe(0);
    expect(add.json).toMatchObject({
      outcome: 'added',
      trust: 'published',
      cas: [{ caKeySha256: acmeKey, status: 'ACTIVE' }],
    });
    expect(keysIn(afterAdd.ssm)).toEqual([...keysIn(deployed), acmeKey]);
    expect(afterAdd.object).toBe(afterAdd.ssm);
    expect(loadTrustStore(afterAdd.ssm ?? '')).toBeDefined();
    expect(imported.json).toMatchObject({ written: 1 });
    expect(list.json.cas).toEqual([
      expect.objectContaining({ supplierId: 'acme', caKeySha256: acmeKey, status: 'ACTIVE' }),
    ]);
    expect(JSON.stringify(list.json)).not.toContain('BEGIN CERTIFICATE');
    expect(retire.json).toMatchObject({ outcome: 'retired', trust: 'published' });
    expect(keysIn(afterRetire.ssm)).toEqual(keysIn(deployed));
    expect(afterRetire.object).toBe(afterRetire.ssm);
    expect(afterRetire.pinned).not.toBe(afterAdd.pinned);
    expect(late.json).toMatchObject({ written: 0, refused: 1, refusedByReason: { supplier_retired: 1 } });
    const row = await ddb.send(
      new GetItemCommand({
        TableName: `cv-security-${STAGE}-ecu-registry`,
        Key: { ecuId: { S: 'SUP-GW-1' } },
      }),
    );
    expect(row.Item).toMatchObject({ status: { S: 'ACTIVE' }, attestationIssuerKeySha256: { S: acmeKey } });
    const audit = await cli(['audit', 'list', '--target', 'supplier:acme']);
    expect(
      audit.json.entries.map((e: { action: string; outcome: string }) => `${e.action}:${e.outcome}`),
    ).toEqual(['supplier.retire:succeeded', 'supplier.add:succeeded']);
  });

  it('refuses a certificate that is not a CA (exit 4): SSM, S3 and the domain untouched', async () => {
    const leaf = await makeCa({ ca: false, name: 'CN=ECU attestation' });
    writeFileSync(join(dir, 'leaf.pem'), leaf);
    const before = places();

    const run = await cli(['supplier', 'add', 'leafy', join(dir, 'leaf.pem')]);

    expect(run.code).toBe(4);
    expect(run.json).toMatchObject({ error: 'ca_not_ca' });
    expect(places()).toEqual(before);
  });
});

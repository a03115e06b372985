/**
 * The admin API's supplier routes through the Lambda handler against the local cloud (DynamoDB, SSM, S3, API Gateway
 * v2): `cv-admin supplier add|list|retire`'s use cases with the same validation and errors; the three trust places
 * change together; every rejection leaves the bundle, the truststore object versions, the domain's pinned version, the
 * suppliers table and the registry as they were; the audit trail names the SigV4 caller.
 */
import { createHash, X509Certificate } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SSMClient } from '@aws-sdk/client-ssm';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CALLER, makeCa, SAMPLE, type TrustWorld, trustWorld } from './trust-world.js';

let world: TrustWorld;
const DAY = 86_400_000;
const dir = mkdtempSync(join(tmpdir(), 'admin-api-suppliers-'));

const keySha256 = (pem: string) =>
  createHash('sha256')
    .update(new X509Certificate(pem).publicKey.export({ type: 'spki', format: 'der' }))
    .digest('hex');
const certsIn = (pem: unknown) => String(pem ?? '').match(/-----BEGIN CERTIFICATE-----/g)?.length ?? 0;

beforeAll(async () => {
  world = await trustWorld('adminsup');
});
afterAll(async () => {
  await world?.stop();
});

describe('admin API: suppliers', () => {
  it('add (JSON and PEM bodies), list, retire one CA then the rest: the bundle, the object and the pinned version change together, the caller audited', async () => {
    const first = await makeCa({ name: 'CN=Acme Attestation CA 1' });
    const second = await makeCa({ name: 'CN=Acme Attestation CA 2' });

    const added = await world.call('POST', '/suppliers/acme/cas', { certificatePem: first });
    const addedPem = await world.call('POST', '/suppliers/acme/cas', second, {
      headers: { 'Content-Type': 'application/x-pem-file' },
    });
    const again = await world.call('POST', '/suppliers/acme/cas', { certificatePem: first });
    const afterAdd = (await world.state()) as {
      ssm: string;
      domain: { version: string };
      objects: string[][];
    };
    const list = await world.call('GET', '/suppliers');
    const retiredOne = await world.call('POST', '/suppliers/acme/retire', { caKeySha256: keySha256(first) });
    const retiredRest = await world.call('POST', '/suppliers/acme/retire');
    const afterRetire = (await world.state()) as typeof afterAdd;

    expect([added.status, added.body.outcome, added.body.trust]).toEqual([200, 'added', 'published']);
    expect([addedPem.status, addedPem.body.outcome]).toEqual([200, 'added']);
    expect([again.status, again.body.outcome, again.body.trust]).toEqual([200, 'unchanged', 'unchanged']);
    expect(certsIn(afterAdd.ssm)).toBe(3);
    const pinnedAfterAdd = afterAdd.objects.find(([v]) => v === afterAdd.domain.version)?.[1];
    expect(pinnedAfterAdd).toBe(afterAdd.ssm);
    expect(list.body.cas).toEqual([
      expect.objectContaining({ supplierId: 'acme', status: 'ACTIVE', addedBy: CALLER }),
      expect.objectContaining({ supplierId: 'acme', status: 'ACTIVE', addedBy: CALLER }),
    ]);
    expect(JSON.stringify(list.body)).not.toContain('BEGIN CERTIFICATE');
    expect([retiredOne.status, retiredOne.body.outcome]).toEqual([200, 'retired']);
    expect([retiredRest.status, retiredRest.body.outcome]).toEqual([200, 'retired']);
    expect(afterRetire.ssm).toBe(`${world.deployed.trim()}\n`);
    expect(afterRetire.objects.find(([v]) => v === afterRetire.domain.version)?.[1]).toBe(afterRetire.ssm);
    const audit = (await world.audit()).filter((e) => e.target === 'supplier:acme');
    expect(audit.map((e) => [e.action, e.actor, e.outcome])).toEqual([
      ['supplier.add', CALLER, 'succeeded'],
      ['supplier.add', CALLER, 'succeeded'],
      ['supplier.add', CALLER, 'unchanged'],
      ['supplier.retire', CALLER, 'succeeded'],
      ['supplier.retire', CALLER, 'succeeded'],
    ]);
  });

  it.each([
    ['not a CA', { ca: false }, 409, 'ca_not_ca'],
    ['a CA without keyCertSign', { keyCertSign: false }, 409, 'ca_no_keycertsign'],
    ['a P-521 key', { key: 'P-521' as const }, 409, 'ca_key_not_allowed'],
    ['an RSA-1024 key', { key: 'RSA-1024' as const }, 409, 'ca_key_not_allowed'],
    [
      'expired',
      { notBefore: new Date(Date.now() - 20 * DAY), notAfter: new Date(Date.now() - DAY) },
      409,
      'ca_expired',
    ],
    ['not yet valid', { notBefore: new Date(Date.now() + DAY) }, 409, 'ca_not_yet_valid'],
  ])(
    'a CA that is %s: %s %s, the refusal audited with the caller, nothing published or stored',
    async (_, options, status, code) => {
      const pem = await makeCa(options);
      const before = await world.state();

      const res = await world.call('POST', '/suppliers/faulty/cas', { certificatePem: pem });

      expect([res.status, res.body.error]).toEqual([status, code]);
      expect(await world.state()).toEqual(before);
      expect((await world.audit()).at(-1)).toEqual({
        action: 'supplier.add',
        actor: CALLER,
        outcome: 'refused',
        target: 'supplier:faulty',
        reason: code,
      });
    },
  );

  it('input the use case refuses: bad PEM, two certificates, a key in the body, a bad id, a PEM over 16 KiB, a non-string PEM, an unknown field: 400, nothing changed', async () => {
    const ca = await makeCa();
    const other = await makeCa();
    const key =
      '-----BEGIN PRIVATE KEY-----\nMIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQg\n-----END PRIVATE KEY-----\n';
    const before = await world.state();

    const results = [
      await world.call('POST', '/suppliers/acme/cas', { certificatePem: 'not a certificate' }),
      await world.call('POST', '/suppliers/acme/cas', { certificatePem: `${ca}${other}` }),
      await world.call('POST', '/suppliers/acme/cas', { certificatePem: `${ca}${key}` }),
      await world.call('POST', '/suppliers/acme/cas', 'garbage', {
        headers: { 'Content-Type': 'application/x-pem-file' },
      }),
      await world.call('POST', '/suppliers/acme/cas', {}),
      await world.call('POST', '/suppliers/Bad_Id/cas', { certificatePem: ca }),
      await world.call('POST', '/suppliers/acme/cas', { certificatePem: `${ca}\n${' '.repeat(17 * 1024)}` }),
      await world.call('POST', '/suppliers/acme/cas', { certificatePem: [ca] }),
      await world.call('POST', '/suppliers/acme/cas', { certificatePem: ca, supplierId: 'other' }),
      await world.call('POST', '/suppliers/acme/cas', '{"certificatePem":'),
    ];

    for (const r of results)
      expect([r.status, r.body.error], JSON.stringify(r.body)).toEqual([
        400,
        expect.stringMatching(/^invalid_(input|json)$/),
      ]);
    expect(await world.state()).toEqual(before);
  });

  it('a body over the route limit is 413 before any call; another supplier cannot take an onboarded CA (409)', async () => {
    const ca = await makeCa({ name: 'CN=Shared CA' });
    await world.call('POST', '/suppliers/first/cas', { certificatePem: ca });
    const before = await world.state();

    const huge = await world.call('POST', '/suppliers/acme/cas', { certificatePem: 'A'.repeat(40 * 1024) });
    const taken = await world.call('POST', '/suppliers/second/cas', { certificatePem: ca });

    expect([huge.status, huge.body.error]).toEqual([413, 'payload_too_large']);
    expect([taken.status, taken.body.error]).toEqual([409, 'ca_of_other_supplier']);
    expect(await world.state()).toEqual(before);
  });

  it('retire refusals: unknown supplier 404, a CA key that is not 64 hex or not a string 400, a misspelt field 400 (never "retire all"), nothing changed', async () => {
    const ca = await makeCa({ name: 'CN=Beta CA' });
    await world.call('POST', '/suppliers/beta/cas', { certificatePem: ca });
    const before = await world.state();

    const unknown = await world.call('POST', '/suppliers/nobody/retire', {});
    const notHex = await world.call('POST', '/suppliers/beta/retire', { caKeySha256: 'abc' });
    const notString = await world.call('POST', '/suppliers/beta/retire', { caKeySha256: 42 });
    const misspelt = await world.call('POST', '/suppliers/beta/retire', { caKeySHA256: keySha256(ca) });
    const otherKey = await world.call('POST', '/suppliers/beta/retire', { caKeySha256: 'a'.repeat(64) });

    expect([unknown.status, unknown.body.error]).toEqual([404, 'not_found']);
    expect([notHex.status, notHex.body.error]).toEqual([400, 'invalid_input']);
    expect([notString.status, notString.body.error]).toEqual([400, 'invalid_input']);
    expect([misspelt.status, misspelt.body.error]).toEqual([400, 'invalid_input']);
    expect([otherKey.status, otherKey.body.error]).toEqual([404, 'not_found']);
    expect(await world.state()).toEqual(before);
    const list = await world.call('GET', '/suppliers');
    expect(list.body.cas).toContainEqual(expect.objectContaining({ supplierId: 'beta', status: 'ACTIVE' }));
  });

  it('a request without an IAM caller (not through the AWS_IAM method) is 403: no use case runs, nothing audited', async () => {
    const ca = await makeCa({ name: 'CN=Anonymous CA' });
    const before = await world.state();
    const auditBefore = await world.audit();
    const over = {
      requestContext: {
        ...SAMPLE.requestContext,
        identity: { ...SAMPLE.requestContext.identity, userArn: null, caller: null, user: null },
      },
    };

    const add = await world.call('POST', '/suppliers/anon/cas', { certificatePem: ca }, over);
    const retire = await world.call('POST', '/suppliers/beta/retire', {}, over);
    const list = await world.call('GET', '/suppliers', undefined, over);

    for (const r of [add, retire, list]) expect(r.status).toBe(403);
    expect(await world.state()).toEqual(before);
    expect(await world.audit()).toEqual(auditBefore);
  });

  it('a failure after the truststore is pinned rolls every place back: the new object version deleted, the old one re-pinned, no CA stored; 500 without internals', async () => {
    const ca = await makeCa({ name: 'CN=Gamma CA' });
    const before = await world.state();
    const ssm = mockClient(SSMClient);
    ssm.onAnyCommand().callsFake((input: { Name?: string; Value?: string }) => {
      if (input.Value !== undefined)
        throw Object.assign(new Error('InternalServerError'), { name: 'InternalServerError' });
      return { Parameter: { Name: input.Name, Value: world.cloud.ssm.parameters.get(world.param)?.Value } };
    });
    let res: Awaited<ReturnType<TrustWorld['call']>>;
    try {
      res = await world.call('POST', '/suppliers/gamma/cas', { certificatePem: ca });
    } finally {
      ssm.restore();
    }

    expect([res.status, res.body]).toEqual([500, { error: 'internal', message: 'Internal error' }]);
    expect(await world.state()).toEqual(before);
    expect((await world.audit()).at(-1)).toMatchObject({
      action: 'supplier.add',
      actor: CALLER,
      outcome: 'failed',
    });
  });
});

describe('the bundle to deploy', () => {
  it('GET /suppliers/bundle is what cv-admin supplier bundle prints: the published bundle with the table applied', async () => {
    const api = await world.call('GET', '/suppliers/bundle');
    const cli = await world.cli(['supplier', 'bundle']);
    const state = (await world.state()) as { ssm: string };

    expect(api.status).toBe(200);
    expect(api.body).toEqual(cli.json);
    expect(api.body.bundle).toBe(state.ssm);
    expect(api.body.certificates).toBe(certsIn(state.ssm));
  });
});

describe('the same bad input through both front doors', () => {
  it('cv-admin supplier add|retire and the API give the same error code and message, and neither changes anything', async () => {
    const cases = [
      { name: 'leaf', pem: await makeCa({ ca: false }) },
      {
        name: 'expired',
        pem: await makeCa({
          notBefore: new Date(Date.now() - 20 * DAY),
          notAfter: new Date(Date.now() - DAY),
        }),
      },
      { name: 'weak', pem: await makeCa({ key: 'RSA-1024' }) },
      { name: 'garbage', pem: 'hello' },
    ];
    const before = await world.state();
    for (const { name, pem } of cases) {
      const file = join(dir, `${name}.pem`);
      writeFileSync(file, pem);
      const cli = await world.cli(['supplier', 'add', 'delta', file]);
      const api = await world.call('POST', '/suppliers/delta/cas', { certificatePem: pem });
      expect(cli.code, name).not.toBe(0);
      expect({ error: api.body.error, message: api.body.message }, name).toEqual(cli.json);
    }
    for (const argv of [
      ['supplier', 'retire', 'nobody'],
      ['supplier', 'retire', 'Bad_Id'],
      ['supplier', 'retire', 'beta', '--ca', 'xyz'],
    ]) {
      const cli = await world.cli(argv);
      const api = await world.call(
        'POST',
        `/suppliers/${argv[2]}/retire`,
        argv[4] === undefined ? {} : { caKeySha256: argv[4] },
      );
      expect({ error: api.body.error, message: api.body.message }, argv.join(' ')).toEqual(cli.json);
    }
    expect(await world.state()).toEqual(before);
  });
});

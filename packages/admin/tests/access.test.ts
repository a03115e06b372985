/**
 * Vehicle access (grant, revoke, transfer, list) with the real DynamoDB adapter against the local cloud's DynamoDB
 * (dynalite; TransactWriteItems as the local cloud composes it), the real audit log, and the cv-admin front door:
 * the rows are the ones the command-authorizer and the command-sender read, a car never has two owners, a re-run
 * changes nothing, a refusal or a failure writes nothing, and every action is on the audit trail.
 */
import { DynamoDBClient, GetItemCommand, PutItemCommand, ScanCommand } from '@aws-sdk/client-dynamodb';
import { createTables, LocalCloud } from '@cv/local-cloud';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type AccessDeps, grantAccess } from '../src/access/grant.js';
import { listAccess } from '../src/access/list.js';
import type { VehicleAccessPort } from '../src/access/ports.js';
import { revokeAccess } from '../src/access/revoke.js';
import { transferOwnership } from '../src/access/transfer.js';
import { DynamoDbVehicleAccess } from '../src/adapters/access.js';
import { DynamoDbAuditLog } from '../src/adapters/audit-log.js';
import { awsDeps } from '../src/aws.js';
import { runCli } from '../src/cli.js';
import { InvalidInputError, RefusedError } from '../src/errors.js';

const STAGE = 'access';
const TABLE = `cv-security-${STAGE}-vehicle-access`;
const AUDIT = `cv-security-${STAGE}-admin-audit`;
const OPERATOR = 'arn:aws:iam::123456789012:user/operator';
const NOW = new Date('2026-12-03T12:00:00.000Z');
const NOW_S = Math.floor(NOW.getTime() / 1000);
const ALICE = '11111111-1111-4111-8111-111111111111';
const BOB = '22222222-2222-4222-8222-222222222222';
const CAROL = '33333333-3333-4333-8333-333333333333';
const DAVE = '44444444-4444-4444-8444-444444444444';
let cloud: LocalCloud;
let ddb: DynamoDBClient;
let access: DynamoDbVehicleAccess;
let audit: DynamoDbAuditLog;
let n = 0;
let tick = 0;
const saved = { ...process.env };
/** A fresh VIN per test. */
const vin = () => `WVWZZZ1JZXW${String(200000 + ++n).padStart(6, '0')}`;

function deps(over: Partial<VehicleAccessPort> = {}): AccessDeps {
  return {
    access: Object.assign(Object.create(access) as VehicleAccessPort, over),
    audit,
    caller: { whoAmI: async () => OPERATOR },
    clock: { now: () => new Date(NOW.getTime() + tick++) },
  };
}

async function rows(v: string): Promise<Record<string, unknown>[]> {
  const out = await ddb.send(
    new ScanCommand({
      TableName: TABLE,
      FilterExpression: 'vin = :v',
      ExpressionAttributeValues: { ':v': { S: v } },
    }),
  );
  return (out.Items ?? []).map((i) =>
    Object.fromEntries(Object.entries(i).map(([k, a]) => [k, a.S ?? a.N ?? a.L?.map((x) => x.S)])),
  );
}
const userRows = async (v: string) => (await rows(v)).filter((r) => r.kind !== 'vehicle');
const marker = async (v: string) => (await rows(v)).find((r) => r.kind === 'vehicle');
async function trail(v: string) {
  return (
    await audit.list({
      target: `vehicle:${v}`,
      since: new Date(0),
      until: new Date('2100-01-01'),
      limit: 100,
    })
  )
    .map((e) => [e.action, e.outcome, e.detail?.reason ?? e.detail?.error ?? ''])
    .reverse();
}
async function refusal(p: Promise<unknown>): Promise<string> {
  const e = await p.then(
    () => undefined,
    (error: unknown) => error,
  );
  if (!(e instanceof RefusedError || e instanceof InvalidInputError))
    throw new Error(`expected a refusal, got ${String(e)}`);
  return e.code === 'invalid_input' && e instanceof InvalidInputError ? `invalid:${e.field}` : e.code;
}

beforeAll(async () => {
  cloud = await LocalCloud.start({ region: 'eu-west-1', account: '123456789012' });
  Object.assign(process.env, cloud.sdkEnv());
  ddb = new DynamoDBClient(cloud.clientConfig());
  await createTables(ddb, {
    ecuRegistry: `cv-security-${STAGE}-ecu-registry`,
    vehicleAccess: TABLE,
    commands: `cv-security-${STAGE}-commands`,
    telemetry: `cv-security-${STAGE}-telemetry`,
    adminAudit: AUDIT,
  });
  access = new DynamoDbVehicleAccess(ddb, TABLE);
  audit = new DynamoDbAuditLog(ddb, AUDIT);
});
afterAll(async () => {
  process.env = saved;
  await cloud?.stop();
});

describe('access grant', () => {
  it('owner: the row the authorizer reads (userSub, vin, role, commands), the marker names the owner; a re-run is unchanged and writes nothing', async () => {
    const v = vin();
    const first = await grantAccess({ vin: v, userSub: ALICE, role: 'owner' }, deps());
    const before = await marker(v);
    const second = await grantAccess({ vin: v, userSub: ALICE, role: 'owner' }, deps());

    expect(first.outcome).toBe('granted');
    expect(second.outcome).toBe('unchanged');
    expect(await userRows(v)).toEqual([
      {
        userSub: ALICE,
        vin: v,
        kind: 'access',
        role: 'owner',
        commands: ['*'],
        grantedBy: OPERATOR,
        grantedAt: expect.stringMatching(/^2026-12-03T12:00:00\.\d{3}Z$/),
      },
    ]);
    expect(before).toMatchObject({ owner: ALICE, grantees: [ALICE], version: '1' });
    expect(await marker(v)).toEqual(before);
    expect(await trail(v)).toEqual([
      ['access.grant', 'succeeded', ''],
      ['access.grant', 'unchanged', ''],
    ]);
  });

  it('driver with an expiry, fleet operator with a command list; changing a grant replaces the row', async () => {
    const v = vin();
    await grantAccess({ vin: v, userSub: ALICE, role: 'owner' }, deps());
    await grantAccess({ vin: v, userSub: BOB, role: 'driver', validUntil: '2026-12-24T18:00:00Z' }, deps());
    await grantAccess(
      { vin: v, userSub: CAROL, role: 'fleet-operator', commands: 'locate,door.lock' },
      deps(),
    );
    const changed = await grantAccess(
      { vin: v, userSub: CAROL, role: 'fleet-operator', commands: ['locate'] },
      deps(),
    );

    expect(changed.outcome).toBe('granted');
    const byUser = Object.fromEntries((await userRows(v)).map((r) => [r.userSub, r]));
    expect(byUser[BOB]).toMatchObject({
      role: 'driver',
      commands: ['*'],
      validUntil: String(Date.parse('2026-12-24T18:00:00Z') / 1000),
    });
    expect(byUser[CAROL]).toMatchObject({ role: 'fleet-operator', commands: ['locate'] });
    expect(await marker(v)).toMatchObject({ owner: ALICE, grantees: [ALICE, BOB, CAROL], version: '4' });
  });

  it('refusals write nothing and are on the trail: a second owner, the owner as a driver, a driver without or with a past expiry, an owner with one', async () => {
    const v = vin();
    await grantAccess({ vin: v, userSub: ALICE, role: 'owner' }, deps());
    const before = await rows(v);

    expect(await refusal(grantAccess({ vin: v, userSub: BOB, role: 'owner' }, deps()))).toBe(
      'vehicle_has_owner',
    );
    expect(
      await refusal(grantAccess({ vin: v, userSub: ALICE, role: 'driver', validUntil: NOW_S + 60 }, deps())),
    ).toBe('user_is_owner');
    expect(await refusal(grantAccess({ vin: v, userSub: BOB, role: 'driver' }, deps()))).toBe(
      'invalid:validUntil',
    );
    expect(
      await refusal(grantAccess({ vin: v, userSub: BOB, role: 'driver', validUntil: NOW_S }, deps())),
    ).toBe('invalid:validUntil');
    expect(
      await refusal(
        grantAccess({ vin: v, userSub: BOB, role: 'driver', validUntil: NOW_S + 400 * 86_400 }, deps()),
      ),
    ).toBe('invalid:validUntil');
    expect(
      await refusal(grantAccess({ vin: v, userSub: BOB, role: 'owner', validUntil: NOW_S + 60 }, deps())),
    ).toBe('invalid:validUntil');

    expect(await rows(v)).toEqual(before);
    expect((await trail(v)).slice(1)).toEqual([
      ['access.grant', 'refused', 'vehicle_has_owner'],
      ['access.grant', 'refused', 'user_is_owner'],
      ['access.grant', 'refused', 'invalid_input'],
      ['access.grant', 'refused', 'invalid_input'],
      ['access.grant', 'refused', 'invalid_input'],
      ['access.grant', 'refused', 'invalid_input'],
    ]);
  });

  it('property: any malformed VIN, user, role, command list or expiry is refused before anything is read or written', async () => {
    let touched = 0;
    const spy = deps({
      marker: async () => {
        touched++;
        throw new Error('read');
      },
      commit: async () => {
        touched++;
        throw new Error('write');
      },
    });
    const bad = fc.oneof(
      fc.record({ vin: fc.string(), userSub: fc.constant(ALICE), role: fc.constant('owner') }),
      fc.record({ vin: fc.constant('WVWZZZ1JZXW000001'), userSub: fc.string(), role: fc.constant('owner') }),
      fc.record({
        vin: fc.constantFrom(
          'wvwzzz1jzxw000001',
          'WVWZZZ1JZXW00000I',
          'WVWZZZ1JZXW00000',
          ' WVWZZZ1JZXW000001',
          'WVWZZZ1JZXW000001/../X',
          'WVWZZZ1JZXW%30000001',
        ),
        userSub: fc.constant(ALICE),
        role: fc.constant('owner'),
      }),
      fc.record({
        vin: fc.constant('WVWZZZ1JZXW000001'),
        userSub: fc.constantFrom(
          `vehicle#WVWZZZ1JZXW000001`,
          'ABCDEF12-1111-4111-8111-111111111111',
          `${ALICE} `,
          '',
        ),
        role: fc.constant('owner'),
      }),
      fc.record({
        vin: fc.constant('WVWZZZ1JZXW000001'),
        userSub: fc.constant(ALICE),
        role: fc.string().filter((r) => !['owner', 'driver', 'fleet-operator'].includes(r)),
      }),
      fc.record({
        vin: fc.constant('WVWZZZ1JZXW000001'),
        userSub: fc.constant(ALICE),
        role: fc.constant('fleet-operator'),
        commands: fc.oneof(
          fc.constant([]),
          fc.constant(['door.lock', 'DROP']),
          fc.constant('a,,b'),
          fc.array(fc.constant('x'), { minLength: 65, maxLength: 70 }),
        ),
      }),
    );
    await fc.assert(
      fc.asyncProperty(bad, async (input) => {
        await expect(grantAccess(input, spy)).rejects.toBeInstanceOf(InvalidInputError);
      }),
      { numRuns: 200 },
    );
    expect(touched).toBe(0);
  });
});

describe('access revoke', () => {
  it('deletes the row and takes the user off the marker; revoking the owner leaves no owner; a re-run is unchanged', async () => {
    const v = vin();
    await grantAccess({ vin: v, userSub: ALICE, role: 'owner' }, deps());
    await grantAccess({ vin: v, userSub: BOB, role: 'driver', validUntil: NOW_S + 3600 }, deps());

    expect((await revokeAccess({ vin: v, userSub: BOB }, deps())).outcome).toBe('revoked');
    expect((await revokeAccess({ vin: v, userSub: BOB }, deps())).outcome).toBe('unchanged');
    expect((await userRows(v)).map((r) => r.userSub)).toEqual([ALICE]);
    expect((await revokeAccess({ vin: v, userSub: ALICE }, deps())).outcome).toBe('revoked');
    expect(await userRows(v)).toEqual([]);
    expect((await marker(v))?.owner).toBeUndefined();
    expect(await trail(v)).toEqual([
      ['access.grant', 'succeeded', ''],
      ['access.grant', 'succeeded', ''],
      ['access.revoke', 'succeeded', ''],
      ['access.revoke', 'unchanged', ''],
      ['access.revoke', 'succeeded', ''],
    ]);
  });

  it('a row written by hand before cv-admin (no marker) is revoked too', async () => {
    const v = vin();
    await ddb.send(
      new PutItemCommand({
        TableName: TABLE,
        Item: { userSub: { S: DAVE }, vin: { S: v }, role: { S: 'owner' }, commands: { L: [{ S: '*' }] } },
      }),
    );
    expect((await revokeAccess({ vin: v, userSub: DAVE }, deps())).outcome).toBe('revoked');
    expect(await userRows(v)).toEqual([]);
  });
});

describe('access transfer (sale of the car)', () => {
  it('one transaction: the old owner, drivers and fleet operators lose access, the buyer owns it; a re-run is unchanged', async () => {
    const v = vin();
    await grantAccess({ vin: v, userSub: ALICE, role: 'owner' }, deps());
    await grantAccess({ vin: v, userSub: BOB, role: 'driver', validUntil: NOW_S + 3600 }, deps());
    await grantAccess({ vin: v, userSub: CAROL, role: 'fleet-operator' }, deps());

    const sold = await transferOwnership({ vin: v, from: ALICE, to: DAVE }, deps());
    const again = await transferOwnership({ vin: v, from: ALICE, to: DAVE }, deps());

    expect(sold).toEqual({ outcome: 'transferred', vin: v, owner: DAVE, revoked: [ALICE, BOB, CAROL] });
    expect(again.outcome).toBe('unchanged');
    expect(await userRows(v)).toEqual([
      expect.objectContaining({ userSub: DAVE, role: 'owner', commands: ['*'] }),
    ]);
    expect(await marker(v)).toMatchObject({ owner: DAVE, grantees: [DAVE] });
    expect((await trail(v)).slice(3)).toEqual([
      ['access.transfer', 'succeeded', ''],
      ['access.transfer', 'unchanged', ''],
    ]);
  });

  it('a transfer from someone who is not the owner is refused and changes nothing', async () => {
    const v = vin();
    await grantAccess({ vin: v, userSub: ALICE, role: 'owner' }, deps());
    const before = await rows(v);
    expect(await refusal(transferOwnership({ vin: v, from: BOB, to: DAVE }, deps()))).toBe('not_the_owner');
    expect(await refusal(transferOwnership({ vin: v, from: ALICE, to: ALICE }, deps()))).toBe('invalid:to');
    expect(await rows(v)).toEqual(before);
  });

  it('two buyers racing: exactly one owns the car, the other is refused, never two owners or none', async () => {
    for (let round = 0; round < 5; round++) {
      const v = vin();
      await grantAccess({ vin: v, userSub: ALICE, role: 'owner' }, deps());
      const results = await Promise.allSettled([
        transferOwnership({ vin: v, from: ALICE, to: BOB }, deps()),
        transferOwnership({ vin: v, from: ALICE, to: CAROL }, deps()),
      ]);
      expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
      const owners = (await userRows(v)).filter((r) => r.role === 'owner').map((r) => r.userSub);
      expect(owners).toHaveLength(1);
      expect([BOB, CAROL]).toContain(owners[0]);
      expect((await marker(v))?.owner).toBe(owners[0]);
    }
  });

  it('the write fails (injected): nothing changed, recorded as failed; the re-run completes', async () => {
    const v = vin();
    await grantAccess({ vin: v, userSub: ALICE, role: 'owner' }, deps());
    const before = await rows(v);
    const failing = deps({
      commit: async () => {
        throw Object.assign(new Error('ProvisionedThroughputExceededException'), {
          name: 'ProvisionedThroughputExceededException',
        });
      },
    });
    await expect(transferOwnership({ vin: v, from: ALICE, to: BOB }, failing)).rejects.toThrow(/Provisioned/);
    expect(await rows(v)).toEqual(before);
    expect((await transferOwnership({ vin: v, from: ALICE, to: BOB }, deps())).outcome).toBe('transferred');
    expect((await trail(v)).slice(1)).toEqual([
      ['access.transfer', 'failed', 'Error'],
      ['access.transfer', 'succeeded', ''],
    ]);
  });
});

describe('access list and the cv-admin front door', () => {
  it("lists a vehicle's users and a user's vehicles page by page", async () => {
    const vins = [vin(), vin(), vin()];
    for (const v of vins) await grantAccess({ vin: v, userSub: CAROL, role: 'fleet-operator' }, deps());
    await grantAccess({ vin: vins[0], userSub: ALICE, role: 'owner' }, deps());

    const vehicle = await listAccess({ vin: vins[0] }, deps());
    expect(vehicle.owner).toBe(ALICE);
    expect(vehicle.grants.map((g) => g.userSub)).toEqual([ALICE, CAROL]);
    const first = await listAccess({ userSub: CAROL, limit: 2 }, deps());
    const rest = await listAccess({ userSub: CAROL, limit: 1000, cursor: first.cursor }, deps());
    const all = [...first.grants, ...rest.grants].map((g) => g.vin);
    expect(all).toEqual(expect.arrayContaining(vins));
    expect(new Set(all).size).toBe(all.length);
    expect(await refusal(listAccess({}, deps()))).toBe('invalid:vin');
  });

  it('cv-admin access grant / transfer / revoke / list: JSON on stdout, exit 4 for a refusal, 2 for bad input', async () => {
    const v = vin();
    const cli = async (argv: string[]) => {
      const out: string[] = [];
      const err: string[] = [];
      const code = await runCli(argv, {
        env: { ...cloud.sdkEnv(), CV_STAGE: STAGE },
        out: (l) => out.push(l),
        err: (l) => err.push(l),
        deps: awsDeps,
      });
      return { code, out: out.join('\n'), err: err.join('\n') };
    };
    const grant = await cli(['access', 'grant', v, ALICE, '--role', 'owner']);
    expect(grant.code, grant.err).toBe(0);
    expect(JSON.parse(grant.out)).toMatchObject({ outcome: 'granted', grant: { userSub: ALICE, vin: v } });
    const second = await cli(['access', 'grant', v, BOB, '--role', 'owner']);
    expect(second.code).toBe(4);
    expect(JSON.parse(second.err.split('\n')[0] ?? '{}')).toMatchObject({ error: 'vehicle_has_owner' });
    const bad = await cli(['access', 'grant', v.toLowerCase(), BOB, '--role', 'driver']);
    expect(bad.code).toBe(2);
    const sold = await cli(['access', 'transfer', v, '--from', ALICE, '--to', BOB]);
    expect(sold.code, sold.err).toBe(0);
    const list = await cli(['access', 'list', '--vin', v]);
    expect(JSON.parse(list.out)).toMatchObject({ owner: BOB, grants: [{ userSub: BOB, role: 'owner' }] });
    const revoke = await cli(['access', 'revoke', v, BOB]);
    expect(JSON.parse(revoke.out)).toMatchObject({ outcome: 'revoked' });
    const row = await ddb.send(
      new GetItemCommand({ TableName: TABLE, Key: { userSub: { S: BOB }, vin: { S: v } } }),
    );
    expect(row.Item).toBeUndefined();
    const foreign = await cli(['access', 'revoke', v, BOB, '--role', 'owner']);
    expect(foreign.code).toBe(2);
  });
});

/**
 * The order of the row and the publish, against a real DynamoDB (the local cloud's dynalite)
 * through the real adapter: the ECU's result may reach telemetry-ingest before
 * command-sender returns, so the PENDING row must exist when the message goes out; a failed publish leaves nothing.
 */
import { createHash } from 'node:crypto';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { createTables, LocalCloud } from '@cv/local-cloud';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dynamoCommandStore } from '../src/adapters/dynamodb.js';
import { sendCommand } from '../src/send-command.js';
import { fakeDeps, principal } from './fakes.js';
import { SUB, VIN } from './helpers.js';

const TABLE = 'cv-security-dev-commands';
let cloud: LocalCloud;
let doc: DynamoDBDocumentClient;

beforeAll(async () => {
  cloud = await LocalCloud.start({ registerOperationalCa: false });
  const ddb = new DynamoDBClient(cloud.clientConfig());
  doc = DynamoDBDocumentClient.from(ddb);
  await createTables(ddb, {
    ecuRegistry: 'cv-security-dev-ecu-registry',
    vehicleAccess: 'cv-security-dev-vehicle-access',
    commands: TABLE,
    telemetry: 'cv-security-dev-telemetry',
    adminAudit: 'cv-security-dev-admin-audit',
  });
}, 60_000);
afterAll(async () => {
  await cloud?.stop();
});

async function item(key: string): Promise<Record<string, unknown> | undefined> {
  return (await doc.send(new GetCommand({ TableName: TABLE, Key: { commandId: key }, ConsistentRead: true })))
    .Item;
}

/** What telemetry-ingest's result store does with the ECU's result: only to a PENDING row of this thing. */
async function applyResult(commandId: string, thingName: string): Promise<boolean> {
  try {
    await doc.send(
      new UpdateCommand({
        TableName: TABLE,
        Key: { commandId },
        UpdateExpression: 'SET #status = :s',
        ConditionExpression: 'attribute_exists(commandId) AND thingName = :thing AND #status = :pending',
        ExpressionAttributeNames: { '#status': 'status' },
        ExpressionAttributeValues: { ':s': 'SUCCEEDED', ':thing': thingName, ':pending': 'PENDING' },
      }),
    );
    return true;
  } catch {
    return false;
  }
}

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

let run = 0;
/** Deps over the real store; command ids unique per test so the tests share one table. */
function deps() {
  const f = fakeDeps();
  const prefix = String(++run).padStart(4, '0');
  let n = 0;
  f.deps.store = dynamoCommandStore(doc, TABLE);
  f.deps.newId = () => `00000000-${prefix}-4000-8000-${String(++n).padStart(12, '0')}`;
  return f;
}

describe('command-sender store: row before publish (DynamoDB)', () => {
  it.each([
    ['without', undefined],
    ['with', 'order-1'],
  ])(
    '%s an Idempotency-Key, a result the ECU sends while the publish is in flight is applied',
    async (_, key) => {
      const f = deps();
      const applied: boolean[] = [];
      f.deps.publisher = {
        // The ECU answers at once: its result reaches the table before publish() has returned.
        publish: async (m) => {
          const commandId = Buffer.from(m.correlationData, 'base64').toString('utf8');
          applied.push(await applyResult(commandId, m.topic.split('/')[1] ?? ''));
        },
      };
      const { response } = await sendCommand(
        { principal: principal(), vin: VIN, body: { command: 'door.lock' }, idempotencyKey: key },
        f.deps,
      );
      expect(applied).toEqual([true]);
      expect(await item(response.commandId)).toMatchObject({ status: 'SUCCEEDED', vin: VIN });
    },
  );

  it('a publish failure withdraws the row and frees the key; the retry sends the same command id', async () => {
    const f = deps();
    let fail = true;
    const seen: (string | undefined)[] = [];
    const ids: string[] = [];
    f.deps.publisher = {
      publish: async (m) => {
        const commandId = Buffer.from(m.correlationData, 'base64').toString('utf8');
        ids.push(commandId);
        seen.push((await item(commandId))?.status as string | undefined);
        if (fail) throw Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' });
      },
    };
    const input = {
      principal: principal(),
      vin: VIN,
      body: { command: 'door.lock' },
      idempotencyKey: 'order-2',
    };
    await expect(sendCommand(input, f.deps)).rejects.toThrow('Rate exceeded');
    const [commandId = ''] = ids;
    expect(await item(commandId)).toBeUndefined();
    expect(await item(`idempotency#${sha256(`${SUB}\norder-2`)}`)).toMatchObject({ status: 'FAILED' });
    fail = false;
    const retry = await sendCommand(input, f.deps);
    expect(retry).toMatchObject({ replayed: false, response: { commandId, status: 'PENDING' } });
    expect(ids).toEqual([commandId, commandId]);
    expect(seen).toEqual(['PENDING', 'PENDING']);
    expect(await item(commandId)).toMatchObject({ status: 'PENDING' });
    // The key now replays the stored response.
    expect(await sendCommand(input, f.deps)).toEqual({ response: retry.response, replayed: true });
  });

  it('without a key, a publish failure leaves no row', async () => {
    const f = deps();
    let commandId = '';
    f.deps.publisher = {
      publish: async (m) => {
        commandId = Buffer.from(m.correlationData, 'base64').toString('utf8');
        throw new Error('socket hang up');
      },
    };
    await expect(
      sendCommand(
        { principal: principal(), vin: VIN, body: { command: 'door.lock' }, idempotencyKey: undefined },
        f.deps,
      ),
    ).rejects.toThrow('socket hang up');
    expect(commandId).not.toBe('');
    expect(await item(commandId)).toBeUndefined();
  });

  it.each([
    ['without', undefined],
    ['with', 'order-3'],
  ])(
    '%s a key, a publish that fails after the ECU answered (outcome unknown) is answered 202 and kept',
    async (_, key) => {
      const f = deps();
      f.deps.publisher = {
        publish: async (m) => {
          const commandId = Buffer.from(m.correlationData, 'base64').toString('utf8');
          await applyResult(commandId, m.topic.split('/')[1] ?? '');
          throw Object.assign(new Error('timed out'), { name: 'TimeoutError' });
        },
      };
      const input = { principal: principal(), vin: VIN, body: { command: 'door.lock' }, idempotencyKey: key };
      const { response } = await sendCommand(input, f.deps);
      expect(response.status).toBe('PENDING');
      expect(await item(response.commandId)).toMatchObject({ status: 'SUCCEEDED' });
      if (key !== undefined) {
        expect(await sendCommand(input, f.deps)).toEqual({ response, replayed: true });
      }
    },
  );

  it('a retry after an attempt that was delivered and answered but never completed its key sends nothing again', async () => {
    const f = deps();
    const t0 = f.deps.now();
    let now = t0;
    f.deps.now = () => now;
    const store = f.deps.store;
    // The first attempt publishes, the ECU answers, and then the completion of the key times out.
    f.deps.store = {
      ...store,
      complete: async () => {
        throw Object.assign(new Error('timed out'), { name: 'TimeoutError' });
      },
    };
    const published: string[] = [];
    f.deps.publisher = {
      publish: async (m) => {
        const commandId = Buffer.from(m.correlationData, 'base64').toString('utf8');
        published.push(commandId);
        await applyResult(commandId, m.topic.split('/')[1] ?? '');
      },
    };
    const input = {
      principal: principal(),
      vin: VIN,
      body: { command: 'door.lock' },
      idempotencyKey: 'order-4',
    };
    const first = await sendCommand(input, f.deps);
    f.deps.store = store;
    // Within the lease the key is still in progress; after it, the retry re-claims the same command id.
    now = t0 + 61_000;
    const retry = await sendCommand(input, f.deps);
    expect(retry).toEqual({ response: first.response, replayed: true });
    expect(published).toEqual([first.response.commandId]);
    expect(await item(first.response.commandId)).toMatchObject({ status: 'SUCCEEDED' });
    expect(await sendCommand(input, f.deps)).toEqual({ response: first.response, replayed: true });
  });

  it("a command id already taken by another user's command is refused, not overwritten", async () => {
    const store = dynamoCommandStore(doc, TABLE);
    const row = {
      commandId: '00000000-9999-4000-8000-000000000001',
      vin: VIN,
      thingName: `${VIN}_gw-0001`,
      command: 'door.lock',
      args: {},
      requestedBy: 'user-a',
      status: 'PENDING' as const,
      createdAt: '2026-11-25T09:00:00.000Z',
      expiresAt: '2026-11-25T09:02:00.000Z',
      ttl: 1,
    };
    expect(await store.recordPending(row)).toBe('recorded');
    await expect(store.recordPending({ ...row, requestedBy: 'user-b' })).rejects.toThrow('taken');
    expect(await item(row.commandId)).toMatchObject({ requestedBy: 'user-a' });
  });
});

/**
 * The sender re-reads the vehicle-access grant on every request: a cached authorizer context that still lists the
 * vehicle is not enough once the row is revoked, expired, narrowed or handed to another user.
 */
import { HttpError } from '@cv/runtime';
import { describe, expect, it } from 'vitest';
import { getCommand, sendCommand } from '../src/send-command.js';
import { fakeDeps, principal } from './fakes.js';
import { SUB, VIN } from './helpers.js';

const T0 = Date.UTC(2026, 10, 25, 9, 0, 0);
const send = (f: ReturnType<typeof fakeDeps>, command = 'door.lock', idempotencyKey?: string) =>
  sendCommand(
    { principal: principal({ [VIN]: ['*'] }), vin: VIN, body: { command }, idempotencyKey },
    f.deps,
  );

async function status(p: Promise<unknown>): Promise<number> {
  const error = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(error instanceof HttpError)) throw new Error(`expected HttpError, got ${String(error)}`);
  return error.statusCode;
}

describe('sendCommand re-checks the grant', () => {
  it('a context that still lists the vehicle, row revoked -> 403; nothing signed, published or stored', async () => {
    const f = fakeDeps();
    await send(f);
    expect(f.calls.publish).toHaveLength(1);
    f.grants.set(`${SUB}|${VIN}`, null);

    expect(await status(send(f))).toBe(403);
    expect(await status(send(f, 'door.lock', 'fresh-key'))).toBe(403);

    expect(f.calls.publish).toHaveLength(1);
    expect(f.calls.sign).toBe(1);
    expect(f.calls.encrypt).toBe(1);
    expect(f.store.rows.size).toBe(1);
    expect(f.store.idem.size).toBe(0);
    expect(f.calls.grantReads).toEqual([`${SUB}|${VIN}`, `${SUB}|${VIN}`, `${SUB}|${VIN}`]);
  });

  it('a grant narrowed to other commands, or past its validUntil -> 403, nothing published', async () => {
    const f = fakeDeps();
    f.grants.set(`${SUB}|${VIN}`, { commands: ['locate'] });
    expect(await status(send(f, 'door.lock'))).toBe(403);
    f.grants.set(`${SUB}|${VIN}`, { commands: ['*'], validUntil: Math.floor(T0 / 1000) });
    expect(await status(send(f, 'door.lock'))).toBe(403);
    f.grants.set(`${SUB}|${VIN}`, { commands: [] });
    expect(await status(send(f, 'door.lock'))).toBe(403);
    expect(f.calls.publish).toHaveLength(0);
    expect(f.calls.sign).toBe(0);
  });

  it("the grant re-read is the caller's own (sub from the context, VIN from the path)", async () => {
    const f = fakeDeps();
    f.grants.set(`${SUB}|${VIN}`, null);
    f.grants.set(`someone-else|${VIN}`, { commands: ['*'] });
    expect(await status(send(f))).toBe(403);
    expect(f.calls.grantReads).toEqual([`${SUB}|${VIN}`]);
  });

  it('the status route is refused once the grant is gone', async () => {
    const f = fakeDeps();
    const { response } = await send(f);
    f.grants.set(`${SUB}|${VIN}`, null);
    expect(
      await status(
        getCommand(
          { principal: principal({ [VIN]: ['*'] }), vin: VIN, commandId: response.commandId },
          f.deps,
        ),
      ),
    ).toBe(403);
  });
});

/**
 * Thing principals and their reverse index (IotService.principalThings, used by
 * AttachThingPrincipal's EXCLUSIVE_THING check and by ListPrincipalThings): the index must always
 * say what a scan of every thing's principals says, whatever sequence of attach, detach and
 * delete (including refused ones) came before.
 */
import {
  AttachThingPrincipalCommand,
  CreateThingCommand,
  DeleteThingCommand,
  DetachThingPrincipalCommand,
  InvalidRequestException,
  IoTClient,
  ListPrincipalThingsCommand,
  ListThingPrincipalsCommand,
} from '@aws-sdk/client-iot';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AwsApiError, LocalCloud } from '../src/index.js';
import { IotService } from '../src/services/iot.js';

type PrincipalType = 'EXCLUSIVE_THING' | 'NON_EXCLUSIVE_THING';

/** The definition the index replaces: every thing whose principals include this one. */
function scan(iot: IotService, principal: string): string[] {
  const out: string[] = [];
  for (const [thing, principals] of iot.thingPrincipals) if (principals.has(principal)) out.push(thing);
  return out.sort();
}

/** What the registry should hold, written independently of IotService. */
class Model {
  readonly things = new Set<string>();
  readonly attached = new Map<string, Map<string, PrincipalType>>();
  attach(thing: string, principal: string, type: PrincipalType): boolean {
    if (!this.things.has(thing)) return false;
    const others = [...this.attached].filter(([t, ps]) => t !== thing && ps.has(principal));
    const exclusive = others.some(([, ps]) => ps.get(principal) === 'EXCLUSIVE_THING');
    if (exclusive || (type === 'EXCLUSIVE_THING' && others.length > 0)) return false;
    const ps = this.attached.get(thing) ?? new Map<string, PrincipalType>();
    ps.set(principal, type);
    this.attached.set(thing, ps);
    return true;
  }
  detach(thing: string, principal: string): void {
    this.attached.get(thing)?.delete(principal);
  }
  remove(thing: string): boolean {
    if (!this.things.has(thing) || (this.attached.get(thing)?.size ?? 0) > 0) return false;
    this.things.delete(thing);
    this.attached.delete(thing);
    return true;
  }
}

function succeeds(action: () => void): boolean {
  try {
    action();
    return true;
  } catch (error) {
    if (!(error instanceof AwsApiError)) throw error;
    return false;
  }
}

const THINGS = ['T_0', 'T_1', 'T_2', 'T_3'];
const PRINCIPALS = ['eu-west-1:identity-0', 'eu-west-1:identity-1', 'eu-west-1:identity-2'];

describe('IotService thing principals', () => {
  const thing = fc.constantFrom(...THINGS);
  const principal = fc.constantFrom(...PRINCIPALS);
  const op = fc.oneof(
    fc.record({ kind: fc.constant('create' as const), thing }),
    fc.record({
      kind: fc.constant('attach' as const),
      thing,
      principal,
      type: fc.constantFrom<PrincipalType>('EXCLUSIVE_THING', 'NON_EXCLUSIVE_THING'),
    }),
    fc.record({ kind: fc.constant('detach' as const), thing, principal }),
    fc.record({ kind: fc.constant('delete' as const), thing }),
  );

  it('principalThings equals the scan of every thing, and attach/delete refuse exactly what the model refuses, after any sequence', () => {
    fc.assert(
      fc.property(fc.array(op, { maxLength: 50 }), (ops) => {
        const iot = new IotService('eu-west-1', '123456789012');
        const model = new Model();
        for (const o of ops) {
          if (o.kind === 'create') {
            if (!iot.things.has(o.thing)) {
              iot.things.set(o.thing, {
                thingName: o.thing,
                thingArn: iot.arn('thing', o.thing),
                thingId: o.thing,
                attributes: {},
                version: 1,
              });
            }
            model.things.add(o.thing);
          } else if (o.kind === 'attach') {
            const ok = succeeds(() => iot.attachThingPrincipal(o.thing, o.principal, o.type));
            expect(ok).toBe(model.attach(o.thing, o.principal, o.type));
          } else if (o.kind === 'detach') {
            iot.detachThingPrincipal(o.thing, o.principal);
            model.detach(o.thing, o.principal);
          } else {
            expect(succeeds(() => iot.deleteThing(o.thing))).toBe(model.remove(o.thing));
          }
          for (const p of PRINCIPALS) {
            expect([...iot.principalThings(p)].sort()).toEqual(scan(iot, p));
            const expected = [...model.attached].filter(([, ps]) => ps.has(p)).map(([t]) => t);
            expect(scan(iot, p)).toEqual(expected.sort());
          }
          expect([...iot.things.keys()].sort()).toEqual([...model.things].sort());
        }
      }),
      { numRuns: 400 },
    );
  });
});

describe('ListPrincipalThings and DeleteThing through the SDK', () => {
  let cloud: LocalCloud;
  let iot: IoTClient;
  const principal = 'eu-west-1:identity-sdk';
  const list = async () =>
    ((await iot.send(new ListPrincipalThingsCommand({ principal }))).things ?? []).slice().sort();

  beforeAll(async () => {
    cloud = await LocalCloud.start({});
    iot = new IoTClient({ ...cloud.clientConfig(), maxAttempts: 1 });
  });

  afterAll(async () => {
    await cloud?.stop();
  });

  it('follows attach, detach and delete; a refused delete or exclusive attach changes nothing', async () => {
    for (const thingName of ['P_a', 'P_b', 'P_c']) await iot.send(new CreateThingCommand({ thingName }));
    await iot.send(new AttachThingPrincipalCommand({ thingName: 'P_a', principal }));
    await iot.send(new AttachThingPrincipalCommand({ thingName: 'P_b', principal }));
    expect(await list()).toEqual(['P_a', 'P_b']);

    await expect(
      iot.send(
        new AttachThingPrincipalCommand({
          thingName: 'P_c',
          principal,
          thingPrincipalType: 'EXCLUSIVE_THING',
        }),
      ),
    ).rejects.toBeInstanceOf(InvalidRequestException);
    expect(await list()).toEqual(['P_a', 'P_b']);
    expect((await iot.send(new ListThingPrincipalsCommand({ thingName: 'P_c' }))).principals).toEqual([]);

    await expect(iot.send(new DeleteThingCommand({ thingName: 'P_b' }))).rejects.toBeInstanceOf(
      InvalidRequestException,
    );
    expect(cloud.iot.things.has('P_b')).toBe(true);
    expect(await list()).toEqual(['P_a', 'P_b']);

    await iot.send(new DetachThingPrincipalCommand({ thingName: 'P_a', principal }));
    await iot.send(new DeleteThingCommand({ thingName: 'P_a' }));
    expect(await list()).toEqual(['P_b']);
    await iot.send(new DetachThingPrincipalCommand({ thingName: 'P_b', principal }));
    expect(await list()).toEqual([]);

    // Nothing stale is left to make an exclusive attachment look taken.
    await iot.send(
      new AttachThingPrincipalCommand({ thingName: 'P_c', principal, thingPrincipalType: 'EXCLUSIVE_THING' }),
    );
    expect(await list()).toEqual(['P_c']);
  });
});

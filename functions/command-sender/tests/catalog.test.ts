import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { COMMAND_CATALOG, parseCommandRequest } from '../src/catalog.js';
import { mayCommand, parsePrincipal } from '../src/principal.js';
import { VIN } from './helpers.js';

describe('parseCommandRequest (property)', () => {
  it('any JSON body yields a catalog command with schema-valid args, or a 400 reason; never throws', () => {
    const names = fc.constantFrom(...Object.keys(COMMAND_CATALOG), 'trunk.open', '__proto__', 'constructor');
    const body = fc.oneof(
      fc.anything(),
      fc.record(
        {
          command: fc.oneof(names, fc.string()),
          args: fc.oneof(fc.dictionary(fc.string(), fc.jsonValue()), fc.anything()),
          ecuId: fc.string(),
        },
        { requiredKeys: [] },
      ),
    );
    fc.assert(
      fc.property(body, (input) => {
        const result = parseCommandRequest(input);
        if (result.ok) {
          const schema = COMMAND_CATALOG[result.value.command];
          expect(schema.safeParse(result.value.args).success).toBe(true);
        } else {
          expect(result.code).toMatch(/^(invalid_request|unknown_command|invalid_args)$/);
        }
      }),
      { numRuns: 1000 },
    );
  });

  it('accepts exactly the ranges of docs/architecture.md §6', () => {
    expect(parseCommandRequest({ command: 'engine.start', args: { durationMin: 1 } }).ok).toBe(true);
    expect(parseCommandRequest({ command: 'engine.start', args: { durationMin: 15 } }).ok).toBe(true);
    expect(parseCommandRequest({ command: 'climate.start', args: { temperatureC: 16 } }).ok).toBe(true);
    expect(parseCommandRequest({ command: 'climate.start', args: { temperatureC: 30 } }).ok).toBe(true);
    expect(parseCommandRequest({ command: 'climate.start', args: { temperatureC: 15.9 } }).ok).toBe(false);
    expect(parseCommandRequest({ command: 'locate', args: {} }).ok).toBe(true);
  });
});

describe('parsePrincipal (property)', () => {
  it('re-checks row expiry and token expiry carried in the (possibly cached) context', () => {
    const p = parsePrincipal({
      sub: 's',
      vehicles: JSON.stringify({ [VIN]: ['*'] }),
      validUntil: JSON.stringify({ [VIN]: 1000 }),
      tokenExp: '2000',
    });
    expect(p === undefined).toBe(false);
    if (p === undefined) return;
    expect(mayCommand(p, VIN, 999, 'door.lock')).toBe(true);
    expect(mayCommand(p, VIN, 1000, 'door.lock')).toBe(false);
    const q = { ...p, validUntil: new Map<string, number>() };
    expect(mayCommand(q, VIN, 1999, 'door.lock')).toBe(true);
    expect(mayCommand(q, VIN, 2000, 'door.lock')).toBe(false);
  });

  it('any authorizer context yields a principal or undefined; never throws', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.anything(),
          fc.record({
            sub: fc.string(),
            vehicles: fc.oneof(fc.string(), fc.json(), fc.constant(JSON.stringify({ [VIN]: ['*'] }))),
          }),
        ),
        (ctx) => {
          const p = parsePrincipal(ctx);
          if (p !== undefined) expect(typeof p.sub).toBe('string');
        },
      ),
      { numRuns: 500 },
    );
  });

  it('a malformed vehicles map grants nothing', () => {
    expect(parsePrincipal({ sub: 's', vehicles: '{"not-a-vin":["*"]}' })).toBeUndefined();
    const p = parsePrincipal({ sub: 's', vehicles: JSON.stringify({ [VIN]: [] }) });
    expect(p && mayCommand(p, VIN, 0)).toBe(false);
  });
});

import { describe, expect, it } from 'vitest';
import { arn, ConfigError, integer, list, optionalString, requireString } from '../src/index.js';

describe('config getters', () => {
  it('returns a set variable, trimmed', () => {
    expect(requireString({ A: ' x ' }, 'A')).toBe('x');
  });

  it('names the missing variable', () => {
    expect(() => requireString({}, 'ECU_REGISTRY_TABLE')).toThrow(/ECU_REGISTRY_TABLE is required/);
    try {
      requireString({ B: '' }, 'B');
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(ConfigError);
      expect((e as ConfigError).variable).toBe('B');
    }
  });

  it('rejects malformed values and names the variable', () => {
    expect(() => requireString({ V: 'abc' }, 'V', /^\d+$/)).toThrow(/V is malformed/);
    expect(() => integer({ N: '12x' }, 'N', { min: 0, max: 100 })).toThrow(/N must be an integer/);
    expect(() => integer({ N: '101' }, 'N', { min: 0, max: 100 })).toThrow(/between 0 and 100/);
    expect(() => arn({ K: 'not-an-arn' }, 'K', 'kms')).toThrow(/K is malformed/);
    expect(() => list({ L: ' , ' }, 'L')).toThrow(/L must list at least one item/);
    expect(() => list({ L: 'a.example,b_c' }, 'L', { pattern: /^[a-z.]+$/ })).toThrow(/malformed item/);
  });

  it('applies defaults only when unset', () => {
    expect(integer({}, 'T', { min: 1, max: 10, fallback: 5 })).toBe(5);
    expect(integer({ T: '7' }, 'T', { min: 1, max: 10, fallback: 5 })).toBe(7);
    expect(optionalString({}, 'LOG_LEVEL', 'INFO')).toBe('INFO');
    expect(list({ H: 'a, b' }, 'H')).toEqual(['a', 'b']);
    expect(arn({ K: 'arn:aws:kms:eu-west-1:123456789012:key/abc' }, 'K', 'kms')).toMatch(/^arn:aws:kms/);
  });
});

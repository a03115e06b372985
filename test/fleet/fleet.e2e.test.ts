/** End to end: the fleet demo with a small fleet; every server on 127.0.0.1, ephemeral ports, always shut down. */
import { describe, expect, it } from 'vitest';
import { runFleet } from './fleet.js';

describe('fleet lifecycle (local cloud)', () => {
  it('enrols, activates, commands, ingests telemetry and remediates a misbehaving ECU, with IAM enforced and nothing denied', async () => {
    const lines: string[] = [];
    const summary = await runFleet({
      vehicles: 1,
      telemetryPerEcu: 2,
      commandsPerVehicle: 2,
      log: (l) => {
        lines.push(l);
        process.stderr.write(`${l}\n`);
      },
    });
    expect(summary.failures, lines.join('\n')).toEqual([]);
    const row = (name: string) => summary.rows.find(([k]) => k === name)?.[1];
    expect(row('ECUs')).toBe(3);
    expect(row('commands sent / delivered')).toBe('2 / 2');
    expect(row('telemetry stored')).toBe(6);
    expect(row('findings remediated')).toBe(1);
    expect(summary.denials).toEqual([]);
    expect(String(row('IAM requests evaluated / denied'))).toMatch(/^[1-9]\d* \/ 0$/);
  }, 120_000);
});

/** End to end: the fleet demo with a small fleet; every server on 127.0.0.1, ephemeral ports, always shut down. */

import { runFleet } from '@cv/demo';
import { describe, expect, it } from 'vitest';

describe('fleet lifecycle (local cloud)', () => {
  it('enrols, activates, commands, ingests telemetry and remediates a misbehaving ECU (authz-detector) and a reconnecting one (behaviour-detector), with IAM enforced and nothing denied', async () => {
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
    // Counted from the local cloud's tables: readings and command results apart.
    expect(row('telemetry stored')).toBe(6);
    expect(row('command results stored')).toBe(2);
    expect(row('commands SUCCEEDED')).toBe(2);
    // authz-detector's finding (quarantine) and behaviour-detector's (reconnect loop: notify only).
    expect(row('findings remediated')).toBe(2);
    expect(row('ECUs quarantined')).toBe(1);
    // The looping ECU's finding: imported by behaviour-detector (not authz-detector), proven genuine by classify
    // (the stage fails on a refused plan), its playbook's one action done, the finding closed as NOTIFIED.
    expect(row('behaviour findings (behaviour-detector)')).toBe(
      'RECONNECT_LOOP WVWZZZ1JZXW100001_TELEMATICS-00001 (connects 12 >= 12): notify changed, NOTIFIED',
    );
    expect(lines.some((l) => l.startsWith('ok   behaviour: an ECU reconnecting in a loop'))).toBe(true);
    expect(summary.denials).toEqual([]);
    expect(String(row('IAM requests evaluated / denied'))).toMatch(/^[1-9]\d* \/ 0$/);
  }, 120_000);
});

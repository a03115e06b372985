/**
 * IAM self-test of the local cloud (issue 13): the fleet demo on a template with one permission removed; the stage
 * that needs it fails with the service's AccessDenied. Its own file: the handlers keep their cold-start state (trust
 * bundle, clients) per module graph, and vitest gives each file a fresh one.
 */

import { runFleet } from '@cv/demo';
import { withoutPermission } from '@cv/demo/iam';
import { describe, expect, it } from 'vitest';

describe('fleet demo with one permission removed from the packaged template', () => {
  it('self-test: without sns:Publish in the notify step role, both remediation stages fail with AuthorizationError', async () => {
    const lines: string[] = [];
    const summary = await runFleet({
      vehicles: 1,
      telemetryPerEcu: 1,
      commandsPerVehicle: 1,
      iamTemplate: withoutPermission('remediationNotify', 'sns:Publish'),
      log: (l) => lines.push(l),
    });
    const failed = summary.failures.filter((f) => !f.startsWith('IAM denied'));
    // The two stages whose playbooks notify: authz-detector's finding and behaviour-detector's; nothing else.
    expect(failed, lines.join('\n')).toHaveLength(2);
    expect(failed[0]).toMatch(/^remediation: /);
    expect(failed[1]).toMatch(/^behaviour: /);
    expect(lines.join('\n')).toMatch(/AuthorizationError|not authorized to perform: sns:Publish/);
    expect([...new Set(summary.denials?.map((d) => `${d.action} ${d.principal.split('/').pop()}`))]).toEqual([
      'sns:Publish cv-security-local-remediationNotify',
    ]);
    expect(summary.rows.find(([k]) => k === 'SNS alerts / OpsItems')?.[1]).toMatch(/^0 \//);
  }, 120_000);
});

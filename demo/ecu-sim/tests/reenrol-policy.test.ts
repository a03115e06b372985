/** When the ECU re-enrols on its own: only for a refused certificate, never for a policy refusal, and boundedly. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { afterRefusal, DEFAULT_REENROL_POLICY } from '../src/reenrol-policy.js';

const policy = { refusalsBeforeReenrol: 3, activationAttempts: 10, maxReenrolments: 1 };

describe('afterRefusal', () => {
  it('a certificate that worked and is now refused 3 times in a row: re-enrol', () => {
    expect(afterRefusal({ certificateAccepted: true, consecutiveRefusals: 2, reenrolments: 0 }, policy)).toBe(
      'retry',
    );
    expect(afterRefusal({ certificateAccepted: true, consecutiveRefusals: 3, reenrolments: 0 }, policy)).toBe(
      'reenrol',
    );
  });

  it('a fresh certificate gets its activation attempts (JITR) before it counts as refused', () => {
    expect(
      afterRefusal({ certificateAccepted: false, consecutiveRefusals: 9, reenrolments: 0 }, policy),
    ).toBe('retry');
    expect(
      afterRefusal({ certificateAccepted: false, consecutiveRefusals: 10, reenrolments: 0 }, policy),
    ).toBe('reenrol');
  });

  it('never re-enrols more often than allowed for one refused certificate, whatever the counts', () => {
    fc.assert(
      fc.property(fc.boolean(), fc.nat(1000), fc.nat(5), (accepted, refusals, reenrolments) => {
        const next = afterRefusal(
          { certificateAccepted: accepted, consecutiveRefusals: refusals, reenrolments },
          DEFAULT_REENROL_POLICY,
        );
        if (reenrolments >= DEFAULT_REENROL_POLICY.maxReenrolments) expect(next).not.toBe('reenrol');
        if (refusals === 0) expect(next).toBe('retry');
      }),
    );
  });
});

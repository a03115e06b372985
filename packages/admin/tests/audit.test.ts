/** The audit trail's pure parts: what a detail may carry (never a secret), and how an action's outcome is recorded. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type AdminAuditEntry, audited, REDACTED, safeAuditDetail } from '../src/audit.js';
import { AdminError, RefusedError } from '../src/errors.js';

const isAdminError = (e: unknown): e is AdminError => e instanceof AdminError;
const PEM_KEY =
  '-----BEGIN PRIVATE KEY-----\nMIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQg\n-----END PRIVATE KEY-----';
const JWT =
  'eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJ1c2VyLTEiLCJleHAiOjE3OTk5OTk5OTl9.MEUCIQD3s4mVh1Xk6lKk4uQ8i0v3pGk5yTt2';
const AWS_SECRET = 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY';

function recorder(fail = false) {
  const entries: AdminAuditEntry[] = [];
  return {
    entries,
    ctx: {
      audit: {
        record: async (e: AdminAuditEntry) => {
          if (fail) throw new Error('ProvisionedThroughputExceededException');
          entries.push(e);
        },
      },
      actor: 'arn:aws:iam::123456789012:user/operator',
      now: () => new Date('2026-12-03T12:00:00.000Z'),
    },
  };
}

describe('safeAuditDetail', () => {
  it('keeps counts, reason codes, fingerprints and SHA-1 key ids as they are', () => {
    const detail = {
      written: 3,
      dryRun: false,
      reason: 'ca_not_ca',
      attestationIssuerKeySha256: 'ab'.repeat(32),
      subjectKeyId: '0123456789abcdef0123456789abcdef01234567',
    };

    expect(safeAuditDetail(detail)).toEqual(detail);
  });

  it('redacts a value by the name of its key (privateKey, sessionToken, password), whatever the value', () => {
    const out = safeAuditDetail({ privateKey: 'x', sessionToken: 'abc', Password: 'p', apiToken: 'q' });

    expect(out).toEqual({
      privateKey: REDACTED,
      sessionToken: REDACTED,
      Password: REDACTED,
      apiToken: REDACTED,
    });
  });

  it('redacts a PEM private key, a JWT or an AWS secret access key under any key name, embedded or not', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(PEM_KEY, JWT, AWS_SECRET),
        fc.string({ maxLength: 20 }),
        fc.string({ maxLength: 20 }),
        fc.stringMatching(/^[a-z][A-Za-z]{0,10}$/),
        (secret, before, after, key) => {
          const out = safeAuditDetail({ [key]: `${before} ${secret} ${after}` });
          const stored = JSON.stringify(out);
          expect(stored).not.toContain(secret.slice(0, 30));
          expect(stored).not.toContain('PRIVATE KEY');
        },
      ),
    );
  });

  it('stores one printable line of at most 512 characters, drops malformed keys and non-finite numbers', () => {
    fc.assert(
      fc.property(
        fc.dictionary(
          fc.string({ unit: 'binary' }),
          fc.oneof(fc.string({ unit: 'binary', maxLength: 2000 }), fc.double(), fc.boolean()),
        ),
        (detail) => {
          const out = safeAuditDetail(detail);
          expect(Object.keys(out).length).toBeLessThanOrEqual(32);
          for (const [k, v] of Object.entries(out)) {
            expect(k).toMatch(/^[A-Za-z][A-Za-z0-9_.-]{0,63}$/);
            if (typeof v === 'string') {
              expect(v.length).toBeLessThanOrEqual(512);
              expect(v).not.toMatch(/[\p{Cc}\u2028\u2029]/u);
            }
            if (typeof v === 'number') expect(Number.isFinite(v)).toBe(true);
          }
        },
      ),
    );
  });
});

describe('audited', () => {
  it('records who, what, target, when and the outcome the action reports, then returns its result', async () => {
    const { entries, ctx } = recorder();

    const result = await audited(
      ctx,
      'supplier.add',
      'supplier:acme',
      async () => ({ outcome: 'unchanged', result: 42, detail: { fingerprint: 'ab' } }),
      isAdminError,
    );

    expect(result).toBe(42);
    expect(entries).toEqual([
      {
        actor: 'arn:aws:iam::123456789012:user/operator',
        action: 'supplier.add',
        target: 'supplier:acme',
        outcome: 'unchanged',
        at: new Date('2026-12-03T12:00:00.000Z'),
        detail: { fingerprint: 'ab' },
      },
    ]);
  });

  it('a refusal is recorded as refused with its reason code and rethrown', async () => {
    const { entries, ctx } = recorder();
    const refusal = new RefusedError('ca_not_ca', 'not a CA');

    await expect(
      audited(ctx, 'supplier.add', 'supplier:acme', () => Promise.reject(refusal), isAdminError),
    ).rejects.toBe(refusal);

    expect(entries.map((e) => [e.outcome, e.detail])).toEqual([['refused', { reason: 'ca_not_ca' }]]);
  });

  it('an unexpected error is recorded as failed with its class name only (no message), and rethrown', async () => {
    const { entries, ctx } = recorder();
    const failure = new TypeError('secret internals: arn:aws:kms:...:key/1234');

    await expect(
      audited(ctx, 'manifest.import', 'manifest:ab', () => Promise.reject(failure), isAdminError),
    ).rejects.toBe(failure);

    expect(entries.map((e) => [e.outcome, e.detail])).toEqual([['failed', { error: 'TypeError' }]]);
    expect(JSON.stringify(entries)).not.toContain('internals');
  });

  it('the action’s own error is what the operator sees when the audit write fails too', async () => {
    const { ctx } = recorder(true);
    const refusal = new RefusedError('conflict', 'bound elsewhere');

    await expect(
      audited(ctx, 'supplier.add', 'supplier:acme', () => Promise.reject(refusal), isAdminError),
    ).rejects.toBe(refusal);
  });

  it('a succeeded action whose audit write fails is reported as failed (a re-run records it)', async () => {
    const { ctx } = recorder(true);

    await expect(
      audited(
        ctx,
        'supplier.add',
        'supplier:acme',
        async () => ({ outcome: 'succeeded', result: 1 }),
        isAdminError,
      ),
    ).rejects.toThrow('ProvisionedThroughputExceededException');
  });
});

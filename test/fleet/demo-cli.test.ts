/** `npm start -- <flags>` (scripts/main.mjs bundles and runs demo/fleet/src/run.ts): usage, not a parser stack trace. */

import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = join(import.meta.dirname, '..', '..');

function main(
  args: string[],
  script = 'main.mjs',
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [join(ROOT, 'scripts', script), ...args],
      { cwd: ROOT, timeout: 120_000 },
      (error, stdout, stderr) => {
        resolve({
          code: error === null ? 0 : typeof error.code === 'number' ? error.code : null,
          stdout,
          stderr,
        });
      },
    );
  });
}

describe('npm start (the fleet demo) options', () => {
  it.each([[['--help']], [['--', '--help']]])(
    '%j prints the usage and exits 0, starting nothing (`pnpm start -- --help` passes the `--` on)',
    { timeout: 120_000 },
    async (args) => {
      const run = await main(args);
      expect(run.code, run.stderr).toBe(0);
      expect(run.stdout).toMatch(/^usage: npm start -- \[--vehicles N\] \[--duration S\] \[--commands N\]/);
      expect(run.stdout).not.toMatch(/^cv-security fleet demo:|^summary|^ {2}(ok|FAIL) /m);
      expect(run.stderr).toBe('');
    },
  );

  it.each([
    [['--bogus'], /Unknown option '--bogus'/],
    [['--vehicles', '0'], /--vehicles must be an integer from 1 to 200/],
  ])(
    '%j: says what is wrong, then the usage; exit 2, no stack trace',
    { timeout: 120_000 },
    async (args, why) => {
      const run = await main(args);
      expect(run.code).toBe(2);
      expect(run.stderr).toMatch(why);
      expect(run.stderr).toContain('usage: npm start --');
      expect(run.stderr).not.toMatch(/\n\s+at /);
      expect(run.stdout).toBe('');
    },
  );
});

describe('pnpm run fleet-load options', () => {
  it.each([[['--help']], [['--', '--help']], [['-h']]])(
    '%j prints the usage and exits 0, running no load',
    { timeout: 120_000 },
    async (args) => {
      const run = await main(args, 'fleet-load.mjs');
      expect(run.code, run.stderr).toBe(0);
      expect(run.stdout).toMatch(/^usage: pnpm run fleet-load -- \[--ecus N\]/);
      expect(run.stdout).not.toMatch(/^fleet-load: \d+ ECUs/m);
    },
  );

  it.each([
    [['--bogus'], /Unknown option '--bogus'/],
    [['--ecus', '0'], /--ecus must be a number from 1 to 100000/],
    [['--jitr-reserved', '1001'], /--jitr-reserved must be a number from 0 to 1000/],
  ])('%j: says what is wrong; exit 2, no stack trace', { timeout: 120_000 }, async (args, why) => {
    const run = await main(args, 'fleet-load.mjs');
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(why);
    expect(run.stderr).not.toMatch(/\n\s+at /);
  });

  it('refuses an online set the open-file limit cannot hold, saying which --online fits; exit 2', {
    timeout: 120_000,
  }, async () => {
    const limit = Number(/^Max open files\s+(\d+)/m.exec(readFileSync('/proc/self/limits', 'utf8'))?.[1]);
    // Two descriptors per online ECU: an online set above half the limit cannot be held.
    const online = Math.ceil(limit / 2);
    expect(online, 'the open-file limit is above what --online accepts').toBeLessThanOrEqual(100_000);
    const run = await main(['--online', String(online)], 'fleet-load.mjs');
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(
      new RegExp(
        `--online ${online} needs about \\d+ open files at --concurrency 48; this process may have ${limit}`,
      ),
    );
    expect(run.stderr).toMatch(/use --online \d+ or less/);
    // An online set that alone would fit is refused once the trips' connections do not.
    const alone = Math.floor((limit - 2_000) / 2);
    const busy = await main(['--online', String(alone), '--concurrency', '500'], 'fleet-load.mjs');
    expect(busy.code).toBe(2);
    expect(busy.stderr).toMatch(new RegExp(`use --online ${alone - 500} or less`));
    expect(run.stdout).not.toMatch(/^fleet-load: \d+ ECUs/m);
  });
});

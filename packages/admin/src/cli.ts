import { parseArgs } from 'node:util';
import { type AdminConfig, type Env, loadAdminConfig } from './config.js';
import { AdminError, UsageError } from './errors.js';
import { type ReleaseDeps, releaseFromQuarantine } from './quarantine/release.js';

export const USAGE = `usage: cv-admin <command> [options]

commands:
  quarantine release <thingName> [--reason TEXT]   release an ECU's thing from the quarantine thing group

options:
  --stage STAGE   the deployed stage (default: $CV_STAGE)
  --help          this text

AWS credentials, AWS_REGION and (for the local cloud) AWS_ENDPOINT_URL are read as the AWS CLI reads them.`;

export interface CliIo {
  readonly env: Env;
  readonly out: (line: string) => void;
  readonly err: (line: string) => void;
  /** The adapters for a configuration (the AWS ones by default; tests may pass their own). */
  readonly deps: (config: AdminConfig) => ReleaseDeps;
}

/**
 * The `cv-admin` front door: parses the command line, runs the use case, prints its result as one JSON line on
 * stdout, or `{ "error", "message" }` on stderr. Returns the exit code: 0 done, 2 usage or configuration, 3 not found,
 * 4 refused, 1 unexpected (no internals printed).
 *
 * @example process.exitCode = await runCli(process.argv.slice(2), { env: process.env, out, err, deps: awsDeps });
 */
export async function runCli(argv: readonly string[], io: CliIo): Promise<number> {
  try {
    const { values, positionals } = parseArgs({
      args: [...argv],
      allowPositionals: true,
      strict: true,
      options: {
        stage: { type: 'string' },
        reason: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    });
    if (values.help === true || positionals.length === 0) {
      io.out(USAGE);
      return positionals.length === 0 && values.help !== true ? 2 : 0;
    }
    const [group, command, ...rest] = positionals;
    if (group === 'quarantine' && command === 'release') {
      const [thingName, ...extra] = rest;
      if (thingName === undefined || extra.length > 0) {
        throw new UsageError('quarantine release takes exactly one <thingName>');
      }
      const config = loadAdminConfig(io.env, { stage: values.stage });
      const result = await releaseFromQuarantine({ thingName, reason: values.reason }, io.deps(config));
      io.out(JSON.stringify(result));
      return 0;
    }
    throw new UsageError(`unknown command: ${positionals.slice(0, 2).join(' ')}`);
  } catch (error) {
    if (error instanceof AdminError) {
      io.err(JSON.stringify({ error: error.code, message: error.message }));
      if (error instanceof UsageError) io.err(USAGE);
      return error.exitCode;
    }
    if (error instanceof TypeError && 'code' in error && String(error.code).startsWith('ERR_PARSE_ARGS')) {
      io.err(JSON.stringify({ error: 'usage', message: error.message }));
      io.err(USAGE);
      return 2;
    }
    const name = error instanceof Error ? error.name : 'Error';
    io.err(JSON.stringify({ error: 'internal', message: `the operation failed (${name})` }));
    return 1;
  }
}

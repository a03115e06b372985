import { parseArgs } from 'node:util';
import { type AdminConfig, type Env, loadAdminConfig } from './config.js';
import { AdminError, UsageError } from './errors.js';
import { type ReleaseDeps, releaseFromQuarantine } from './quarantine/release.js';

/** The adapters every command may use (the AWS ones by default; tests pass their own). */
export type AdminDeps = ReleaseDeps;

export interface CliIo {
  readonly env: Env;
  readonly out: (line: string) => void;
  readonly err: (line: string) => void;
  readonly deps: (config: AdminConfig) => AdminDeps;
}

/** Parsed options every command sees. */
interface Options {
  readonly stage?: string | undefined;
  readonly reason?: string | undefined;
}

/**
 * One `cv-admin` command: `<group> <verb>`, its usage line, and how it runs its use case. Issue 15's commands
 * (suppliers, manifests, vehicle access, ECU lifecycle) are added to {@link COMMANDS} the same way.
 */
interface Command {
  readonly usage: string;
  run(args: readonly string[], options: Options, io: CliIo): Promise<unknown>;
}

const COMMANDS: Readonly<Record<string, Command>> = {
  'quarantine release': {
    usage:
      "quarantine release <thingName> [--reason TEXT]   release an ECU's thing from the quarantine thing group",
    async run(args, options, io) {
      const [thingName, ...extra] = args;
      if (thingName === undefined || extra.length > 0) {
        throw new UsageError('quarantine release takes exactly one <thingName>');
      }
      const config = loadAdminConfig(io.env, { stage: options.stage });
      return releaseFromQuarantine({ thingName, reason: options.reason }, io.deps(config));
    },
  },
};

export const USAGE = `usage: cv-admin <command> [options]

commands:
${Object.values(COMMANDS)
  .map((c) => `  ${c.usage}`)
  .join('\n')}

options:
  --stage STAGE   the deployed stage (default: $CV_STAGE)
  --help          this text

AWS credentials, AWS_REGION and (for the local cloud) AWS_ENDPOINT_URL are read as the AWS CLI reads them.`;

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
    if (values.help === true) {
      io.out(USAGE);
      return 0;
    }
    const [group, verb, ...args] = positionals;
    const command = COMMANDS[`${group ?? ''} ${verb ?? ''}`];
    if (command === undefined) {
      throw new UsageError(
        positionals.length === 0
          ? 'no command given'
          : `unknown command: ${positionals.slice(0, 2).join(' ')}`,
      );
    }
    const result = await command.run(args, { stage: values.stage, reason: values.reason }, io);
    io.out(JSON.stringify(result));
    return 0;
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

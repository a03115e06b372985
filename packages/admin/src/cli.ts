import { type ParseArgsOptionsConfig, parseArgs } from 'node:util';
import { ACCESS_COMMANDS } from './access/commands.js';
import { AUDIT_COMMANDS } from './audit/commands.js';
import { type AdminDeps, type CliIo, type Command, type Commands, stringFlag } from './command.js';
import { loadAdminConfig } from './config.js';
import { AdminError, UsageError } from './errors.js';
import { LIFECYCLE_COMMANDS } from './lifecycle/commands.js';
import { MANIFEST_COMMANDS } from './manifests/commands.js';
import { releaseFromQuarantine } from './quarantine/release.js';
import { SUPPLIER_COMMANDS } from './suppliers/commands.js';

export type { AdminDeps, CliIo };

/**
 * The commands: `<group> <verb>` to a {@link Command}. Each area keeps its commands in its own `commands.ts` and
 * is merged here.
 */
const COMMANDS: Commands = {
  'quarantine release': {
    usage:
      "quarantine release <thingName> [--reason TEXT]   release an ECU's thing from the quarantine thing group",
    options: { reason: { type: 'string' } },
    async run(args, flags, io) {
      const [thingName, ...extra] = args;
      if (thingName === undefined || extra.length > 0) {
        throw new UsageError('quarantine release takes exactly one <thingName>');
      }
      const config = loadAdminConfig(io.env, { stage: stringFlag(flags, 'stage') });
      return releaseFromQuarantine({ thingName, reason: stringFlag(flags, 'reason') }, io.deps(config));
    },
  },
  ...AUDIT_COMMANDS,
  ...MANIFEST_COMMANDS,
  ...SUPPLIER_COMMANDS,
  ...ACCESS_COMMANDS,
  ...LIFECYCLE_COMMANDS,
};

const GLOBAL_OPTIONS: ParseArgsOptionsConfig = {
  stage: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
};
/** Every command's flags (one type per name across commands); each command then accepts only its own. */
const ALL_OPTIONS: ParseArgsOptionsConfig = Object.assign(
  {},
  ...Object.values(COMMANDS).map((c: Command) => c.options ?? {}),
  GLOBAL_OPTIONS,
);

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
      options: ALL_OPTIONS,
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
    const foreign = Object.keys(values).filter(
      (k) => !(k in GLOBAL_OPTIONS) && !(k in (command.options ?? {})),
    );
    if (foreign.length > 0) {
      throw new UsageError(`--${foreign[0]} does not apply to ${group} ${verb}`);
    }
    const result = await command.run(args, values, io);
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

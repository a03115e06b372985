import type { ParseArgsOptionsConfig } from 'node:util';
import type { AccessDeps } from './access/grant.js';
import type { AuditLogPort, AuditQueryPort } from './audit.js';
import type { AdminConfig, Env } from './config.js';
import type { DecommissionDeps } from './lifecycle/decommission.js';
import type { RegistryImportPort } from './manifests/ports.js';
import type { ProgressStream } from './manifests/progress.js';
import type { ReleaseDeps } from './quarantine/release.js';
import type { SupplierStorePort, TrustPlacesPort } from './suppliers/ports.js';

/** The adapters every command may use (the AWS ones by default; tests pass their own). */
export type AdminDeps = ReleaseDeps &
  AccessDeps &
  DecommissionDeps & {
    readonly audit: AuditLogPort;
    readonly auditQuery: AuditQueryPort;
    readonly registryImport: RegistryImportPort;
    readonly suppliers: SupplierStorePort;
    readonly supplierStore: SupplierStorePort;
    readonly trustPlaces: TrustPlacesPort;
  };

/** What the front door runs with: the environment, where to print, and how to build the adapters. */
export interface CliIo {
  readonly env: Env;
  readonly out: (line: string) => void;
  readonly err: (line: string) => void;
  readonly deps: (config: AdminConfig) => AdminDeps;
  /** Where progress bars are drawn (process.stderr; drawn only when it is a TTY). */
  readonly progress?: ProgressStream | undefined;
}

/** The flags a command was given (its own and the global ones), as node:util's parseArgs returns them. */
export type Flags = Readonly<Record<string, string | boolean | (string | boolean)[] | undefined>>;

/**
 * One `cv-admin` command: `<group> <verb>`, its usage line, its own flags, and how it runs its use case. Each area
 * keeps its commands in its own `commands.ts` (a record keyed `'<group> <verb>'`); cli.ts merges them.
 */
export interface Command {
  readonly usage: string;
  /** Flags this command accepts besides the global ones (`--stage`, `--help`); all string or boolean. */
  readonly options?: ParseArgsOptionsConfig;
  run(args: readonly string[], flags: Flags, io: CliIo): Promise<unknown>;
}

export type Commands = Readonly<Record<string, Command>>;

/** A string flag's value (undefined when absent). */
export function stringFlag(flags: Flags, name: string): string | undefined {
  const value = flags[name];
  return typeof value === 'string' ? value : undefined;
}

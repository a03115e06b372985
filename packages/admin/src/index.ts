/**
 * @cv/admin: the operator's use cases (ports and AWS adapters) and the `cv-admin` CLI front door. Issue 12 item 11
 * brings the first one, the release of a quarantined ECU; issue 15 adds suppliers, manifests, vehicle access and
 * the ECU lifecycle the same way (a use case in its own folder, its ports in ports.ts, a command in cli.ts).
 */

export { ACCESS_COMMANDS } from './access/commands.js';
export { type AccessDeps, type GrantInput, type GrantResult, grantAccess } from './access/grant.js';
export { type ListInput, type ListResult, listAccess } from './access/list.js';
export type * from './access/ports.js';
export { type RevokeInput, type RevokeResult, revokeAccess } from './access/revoke.js';
export { type TransferInput, type TransferResult, transferOwnership } from './access/transfer.js';
export { DynamoDbVehicleAccess } from './adapters/access.js';
export { DynamoDbAuditLog } from './adapters/audit-log.js';
export { StsCaller } from './adapters/caller.js';
export { IotQuarantine } from './adapters/iot.js';
export { IotEcuDevices } from './adapters/lifecycle-iot.js';
export { DynamoDbLifecycleRegistry } from './adapters/lifecycle-registry.js';
export { FileCheckpoints, fileSource } from './adapters/manifest-files.js';
export { PrivateCaRevoker, pcaSerial } from './adapters/pca.js';
export { DynamoDbEcuRegistry } from './adapters/registry.js';
export { DynamoDbRegistryImport } from './adapters/registry-import.js';
export { DynamoDbSupplierDirectory, DynamoDbSupplierStore } from './adapters/suppliers.js';
export { AwsTrustPlaces } from './adapters/trust-places.js';
export { type AuditListDeps, type AuditListInput, type AuditListResult, listAudit } from './audit/list.js';
export {
  type AdminAuditEntry,
  type AdminOutcome,
  type AuditContext,
  type Audited,
  type AuditLogPort,
  type AuditQuery,
  type AuditQueryPort,
  audited,
  auditText,
  REDACTED,
  type StoredAuditEntry,
  safeAuditDetail,
} from './audit.js';
export { awsDeps, trustNames } from './aws.js';
export { type AdminDeps, type CliIo, runCli, USAGE } from './cli.js';
export type { Command, Commands, Flags } from './command.js';
export { type AdminConfig, type Env, loadAdminConfig } from './config.js';
export {
  AdminConfigError,
  AdminError,
  InvalidInputError,
  NotFoundError,
  RefusedError,
  UsageError,
} from './errors.js';
export {
  type BlockInput,
  type BlockResult,
  blockEcu,
  type LifecycleDeps,
  unblockEcu,
} from './lifecycle/block.js';
export { LIFECYCLE_COMMANDS } from './lifecycle/commands.js';
export {
  type DecommissionDeps,
  type DecommissionEcuInput,
  type DecommissionVehicleInput,
  type DecommissionVehicleResult,
  decommissionEcu,
  decommissionVehicle,
  type RetiredEcu,
  retireEcu,
} from './lifecycle/decommission.js';
export type * from './lifecycle/ports.js';
export { type ReplaceInput, type ReplaceResult, replaceEcu } from './lifecycle/replace.js';
export { type ImportDeps, type ImportInput, type ImportReport, importManifest } from './manifests/import.js';
export type * from './manifests/ports.js';
export { isRefusal, type OperatorDeps, operatorAction } from './operator-action.js';
export type * from './ports.js';
export {
  parseReleaseInput,
  type ReleaseDeps,
  type ReleaseInput,
  type ReleaseResult,
  releaseFromQuarantine,
} from './quarantine/release.js';
export {
  addSupplierCa,
  exportBundle,
  listSuppliers,
  retireSupplier,
  type SupplierDeps,
  type SupplierResult,
} from './suppliers/manage.js';
export type * from './suppliers/ports.js';

/**
 * `@cv/crypto/telemetry/decrypt`: only what the cloud side needs to open telemetry (telemetry-ingest). Unlike the
 * `@cv/crypto/telemetry` barrel it brings no encrypt path, no caching materials manager and no Encryption SDK
 * reference decryptor, and it reaches the Encryption SDK through its per-package ESM builds
 * (`@aws-crypto/material-management-node`, `@aws-crypto/kms-keyring-node`) rather than `@aws-crypto/client-node`,
 * whose CommonJS build carries the whole SDK (docs/performance.md).
 */
export * from './context.js';
export * from './decrypt.js';
export * from './envelope.js';
export * from './errors.js';
export * from './keyring.js';
export * from './limits.js';

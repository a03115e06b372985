import { KmsKeyringNode, type KmsNodeClientSupplier } from '@aws-crypto/kms-keyring-node';

// The Encryption SDK's KMS keyring from its own package (ESM build), not the `@aws-crypto/client-node` barrel: the
// decrypt path bundles no encrypt, caching or branch-keystore code (docs/performance.md).

/** A KMS client as the Encryption SDK calls it (`decrypt`, `encrypt`, `generateDataKey`), e.g. SDK v3 `KMS`. */
export type EsdkKmsClient = Exclude<ReturnType<KmsNodeClientSupplier>, false>;

/**
 * A KMS keyring on exactly one key (ARN), calling KMS through the given client (built by the caller, e.g. an SDK v3
 * `KMS` with adaptive retries), never a client the SDK builds itself.
 *
 * @example
 * import { KMS } from '@aws-sdk/client-kms';
 * const keyring = telemetryKmsKeyring({ keyId: process.env.TELEMETRY_KEY_ID, client: new KMS({}) });
 */
export function telemetryKmsKeyring(opts: {
  keyId: string;
  client: EsdkKmsClient;
  grantTokens?: string[];
}): KmsKeyringNode {
  const { client } = opts;
  return new KmsKeyringNode({
    generatorKeyId: opts.keyId,
    clientProvider: () => client,
    ...(opts.grantTokens === undefined ? {} : { grantTokens: opts.grantTokens }),
  });
}

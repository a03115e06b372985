import { EncryptCommand, GetPublicKeyCommand, type KMSClient, SignCommand } from '@aws-sdk/client-kms';
import {
  algorithmForKmsKey,
  algorithmProfile,
  type CommandEncrypter,
  type CommandSigner,
  importPinnedKey,
} from '@cv/crypto/command';

/**
 * The KMS command signer. `GetPublicKey` runs once per container (the promise is cached; a
 * failure is not cached): it yields the key spec, hence the JWS algorithm, and the SPKI
 * public key (checked to parse and to match the algorithm). Each command then costs one
 * `Sign` with `MessageType: DIGEST`.
 *
 * @example const signer = kmsSigner(kms, process.env.COMMAND_SIGNING_KEY_ID); await (await signer.get()).sign(digest);
 */
export function kmsSigner(
  kms: KMSClient,
  keyId: string,
): { get: () => Promise<CommandSigner>; publicKey: () => Promise<Uint8Array> } {
  let loading: Promise<{ signer: CommandSigner; publicKey: Uint8Array }> | undefined;

  const load = async () => {
    const out = await kms.send(new GetPublicKeyCommand({ KeyId: keyId }));
    if (out.KeyUsage !== 'SIGN_VERIFY' || out.PublicKey === undefined || out.KeySpec === undefined) {
      throw new Error('Command signing key is not an asymmetric SIGN_VERIFY key');
    }
    const alg = algorithmForKmsKey(out.KeySpec, out.SigningAlgorithms ?? []);
    const vk = importPinnedKey({ keyId, publicKey: out.PublicKey });
    if (vk.alg !== alg) throw new Error('Command signing key does not match its key spec');
    const { kmsSigningAlgorithm } = algorithmProfile(alg);
    const signer: CommandSigner = {
      alg,
      keyId: out.KeyId ?? keyId,
      sign: async (digest) => {
        const signed = await kms.send(
          new SignCommand({
            KeyId: keyId,
            Message: digest,
            MessageType: 'DIGEST',
            SigningAlgorithm: kmsSigningAlgorithm,
          }),
        );
        if (signed.Signature === undefined) throw new Error('KMS Sign returned no signature');
        return signed.Signature;
      },
    };
    return { signer, publicKey: out.PublicKey };
  };
  const cached = () => {
    loading ??= load().catch((error: unknown) => {
      loading = undefined;
      throw error;
    });
    return loading;
  };
  return { get: async () => (await cached()).signer, publicKey: async () => (await cached()).publicKey };
}

/**
 * KMS `Encrypt` under the command encryption key with the context as encryption context
 * (`{ aud: thingName, jti: commandId }`), which the ECU's IAM condition pins to its thing name.
 * @example const encrypt = kmsEncrypter(kms, process.env.COMMAND_ENCRYPTION_KEY_ID);
 */
export function kmsEncrypter(kms: KMSClient, keyId: string): CommandEncrypter {
  return async (plaintext, context) => {
    const out = await kms.send(
      new EncryptCommand({ KeyId: keyId, Plaintext: plaintext, EncryptionContext: { ...context } }),
    );
    if (out.CiphertextBlob === undefined) throw new Error('KMS Encrypt returned no ciphertext');
    return { ciphertext: out.CiphertextBlob, keyId: out.KeyId };
  };
}

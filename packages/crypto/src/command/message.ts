import { randomUUID } from 'node:crypto';
import { CryptoError } from '../errors.js';
import { fromB64, utf8 } from './encoding.js';
import {
  CommandClaimError,
  CommandDecryptionError,
  CommandEnvelopeError,
  CommandReplayError,
  JwsFormatError,
} from './errors.js';
import {
  COMMAND_JWS_TYPE,
  type CommandSigner,
  importPinnedKey,
  type PinnedKey,
  parseClaims,
  parseJws,
  signCommandJws,
  type VerificationKey,
  verifyJwsSignature,
} from './jws.js';
import {
  type CommandClaims,
  type CommandEnvelope,
  commandClaimsSchema,
  commandEnvelopeSchema,
  type EncryptionContext,
} from './schemas.js';

/** Upper bound on an MQTT command payload; anything larger is rejected before JSON parsing. */
export const MAX_ENVELOPE_BYTES = 64 * 1024;

/**
 * Encrypts the JWS (KMS `Encrypt` with the context as encryption context). May return the
 * key ARN KMS reports (`EncryptResponse.KeyId`), which then goes into the envelope's `keyId`
 * (useful when the caller configured an alias).
 */
export type CommandEncrypter = (
  plaintext: Uint8Array,
  context: EncryptionContext,
) => Promise<Uint8Array | { ciphertext: Uint8Array; keyId?: string | undefined }>;
/** Decrypts on the ECU (KMS `Decrypt` with the same encryption context, optionally pinning `keyId`). */
export type CommandDecrypter = (
  ciphertext: Uint8Array,
  context: EncryptionContext,
  keyId: string,
) => Promise<Uint8Array>;

/** What the caller knows about a command; {@link commandClaims} turns it into docs/architecture.md §6 claims. */
export interface CommandClaimsInput {
  stage: string;
  thingName: string;
  vin: string;
  sub: string;
  cmd: string;
  args: Record<string, unknown>;
  ttlSeconds: number;
  commandId?: string;
  /** Milliseconds since the epoch; defaults to `Date.now()`. */
  now?: number;
}

/**
 * Build docs/architecture.md §6 claims: `iss = cv-security:<stage>`, `aud = thingName`, `jti = commandId`,
 * `exp = iat + ttl`. Validated against the claims schema.
 * @throws CommandClaimError if the result would not pass the ECU's own checks
 * @example const claims = commandClaims({ stage: 'prod', thingName, vin, sub, cmd: 'door.lock', args: {}, ttlSeconds: 120 });
 */
export function commandClaims(input: CommandClaimsInput): CommandClaims {
  const iat = Math.floor((input.now ?? Date.now()) / 1000);
  const claims = {
    iss: `cv-security:${input.stage}`,
    aud: input.thingName,
    sub: input.sub,
    jti: input.commandId ?? randomUUID(),
    iat,
    exp: iat + input.ttlSeconds,
    vin: input.vin,
    cmd: input.cmd,
    args: input.args,
  };
  const parsed = commandClaimsSchema.safeParse(claims);
  if (!parsed.success) {
    const claim = String(parsed.error.issues[0]?.path[0] ?? 'claims');
    throw new CommandClaimError(claim, `Invalid command claim: ${claim}`);
  }
  if (!input.thingName.startsWith(`${input.vin}_`))
    throw new CommandClaimError('aud', 'thingName is not of this VIN');
  if (!(input.ttlSeconds > 0)) throw new CommandClaimError('exp', 'ttlSeconds must be positive');
  return parsed.data;
}

/** The result of {@link buildCommandMessage}. */
export interface CommandMessage {
  readonly envelope: CommandEnvelope;
  /** UTF-8 JSON of the envelope: the MQTT payload. */
  readonly payload: string;
  /** The signed JWS (never log it together with anything identifying; it is the command itself). */
  readonly jws: string;
}

/**
 * Sign-then-encrypt a command (docs/architecture.md §6): JWS by the injected signer, encrypted by the
 * injected encrypter under context `{ aud: thingName, jti: commandId }`, wrapped in the
 * `{ v: 1, kind: "command", ... }` envelope. `keyId` in the envelope is the encryption key
 * the ECU passes to KMS `Decrypt` (the signing key is the JWS `kid`): the key ARN the
 * encrypter reports, else `encryptionKeyId`.
 *
 * @example
 * const { payload } = await buildCommandMessage({ claims, signer, encrypt, encryptionKeyId });
 */
export async function buildCommandMessage(input: {
  claims: CommandClaims;
  signer: CommandSigner;
  encrypt: CommandEncrypter;
  encryptionKeyId: string;
}): Promise<CommandMessage> {
  const { claims } = input;
  const jws = await signCommandJws(claims, input.signer);
  const context: EncryptionContext = { aud: claims.aud, jti: claims.jti };
  let ciphertext: Uint8Array;
  let keyId = input.encryptionKeyId;
  try {
    const out = await input.encrypt(new TextEncoder().encode(jws), context);
    if (out instanceof Uint8Array) ciphertext = out;
    else {
      ciphertext = out.ciphertext;
      keyId = out.keyId ?? keyId;
    }
  } catch (cause) {
    throw new CryptoError('Encrypter failed', { cause });
  }
  const envelope: CommandEnvelope = {
    v: 1,
    kind: 'command',
    commandId: claims.jti,
    keyId,
    context,
    ciphertext: Buffer.from(ciphertext).toString('base64'),
  };
  return { envelope, payload: JSON.stringify(envelope), jws };
}

/**
 * Parse an MQTT command payload (bytes or string) into an envelope. Any input yields a
 * value or throws {@link CommandEnvelopeError}.
 * @example const envelope = parseCommandEnvelope(mqttPayload);
 */
export function parseCommandEnvelope(payload: string | Uint8Array): CommandEnvelope {
  const size = typeof payload === 'string' ? Buffer.byteLength(payload, 'utf8') : payload.length;
  if (size > MAX_ENVELOPE_BYTES) throw new CommandEnvelopeError('Command envelope too large');
  const text = typeof payload === 'string' ? payload : utf8(payload);
  if (text === undefined) throw new CommandEnvelopeError('Command envelope is not UTF-8');
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (cause) {
    throw new CommandEnvelopeError('Command envelope is not JSON', [], { cause });
  }
  const parsed = commandEnvelopeSchema.safeParse(json);
  if (!parsed.success) {
    throw new CommandEnvelopeError(
      'Command envelope has an unexpected shape',
      parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.code}`),
    );
  }
  if (parsed.data.context.jti !== parsed.data.commandId) {
    throw new CommandEnvelopeError('Envelope commandId differs from its encryption context', ['context.jti']);
  }
  if (fromB64(parsed.data.ciphertext) === undefined) {
    throw new CommandEnvelopeError('Envelope ciphertext is not base64', ['ciphertext']);
  }
  return parsed.data;
}

/** Replay cache of accepted command ids, with expiry. May be async (e.g. flash-backed on the ECU). */
export interface ReplayCache {
  has(jti: string): boolean | Promise<boolean>;
  /** Remember `jti` until `expiresAt` (epoch seconds). */
  add(jti: string, expiresAt: number): void | Promise<void>;
}

/**
 * A bounded in-memory {@link ReplayCache}. Entries live until their `exp` (plus skew);
 * when full of live entries it refuses new ones (fail closed) rather than forget one.
 * @example const cache = new InMemoryReplayCache({ maxEntries: 10_000 });
 */
export class InMemoryReplayCache implements ReplayCache {
  readonly #entries = new Map<string, number>();
  readonly #maxEntries: number;
  readonly #now: () => number;
  constructor(opts: { maxEntries?: number; now?: () => number } = {}) {
    this.#maxEntries = opts.maxEntries ?? 10_000;
    this.#now = opts.now ?? Date.now;
  }
  get size(): number {
    return this.#entries.size;
  }
  has(jti: string): boolean {
    const expiresAt = this.#entries.get(jti);
    if (expiresAt === undefined) return false;
    if (expiresAt * 1000 <= this.#now()) {
      this.#entries.delete(jti);
      return false;
    }
    return true;
  }
  add(jti: string, expiresAt: number): void {
    if (this.#entries.size >= this.#maxEntries) {
      const now = this.#now();
      for (const [key, exp] of this.#entries) if (exp * 1000 <= now) this.#entries.delete(key);
      if (this.#entries.size >= this.#maxEntries) throw new CryptoError('Replay cache is full');
    }
    this.#entries.set(jti, expiresAt);
  }
}

/** Options of {@link createCommandDecoder}. */
export interface CommandDecoderOptions {
  /** This ECU's thing name; `aud` and the encryption context must equal it. */
  thingName: string;
  /** Pinned signing public keys (SPKI DER from KMS `GetPublicKey`) by key ARN. */
  keys: readonly PinnedKey[];
  decrypt: CommandDecrypter;
  replayCache: ReplayCache;
  /** If set, `iss` must equal it (e.g. `cv-security:prod`). */
  issuer?: string;
  /** Allowed clock difference in seconds (default 30). */
  clockSkewSeconds?: number;
  /** Longest accepted `exp - iat` in seconds (default 900). */
  maxTtlSeconds?: number;
  /** Milliseconds since the epoch; defaults to `Date.now`. */
  now?: () => number;
}

/** A command that passed every check; safe to act on. */
export interface VerifiedCommand {
  readonly claims: CommandClaims;
  readonly keyId: string;
}

/**
 * The ECU side of docs/architecture.md §6: parse the envelope, decrypt with the context, verify the JWS
 * against the pinned key (alg allowlist bound to the key), check `typ`, `iss`, `aud`,
 * `exp`/`iat` with skew, the envelope binding, and the `jti` replay cache (the id is
 * remembered only once everything else passed).
 *
 * @throws CryptoError subclasses: CommandEnvelopeError, CommandDecryptionError, JwsFormatError,
 *   UnsupportedAlgorithmError, UnknownKeyError, JwsSignatureError, CommandClaimError, CommandReplayError
 * @example
 * const decode = createCommandDecoder({ thingName, keys: [{ keyId, publicKey }], decrypt, replayCache });
 * const { claims } = await decode(mqttPayload);
 */
export function createCommandDecoder(
  opts: CommandDecoderOptions,
): (payload: string | Uint8Array) => Promise<VerifiedCommand> {
  const keys: VerificationKey[] = opts.keys.map(importPinnedKey);
  const skew = opts.clockSkewSeconds ?? 30;
  const maxTtl = opts.maxTtlSeconds ?? 900;
  const now = opts.now ?? Date.now;

  return async (payload) => {
    const envelope = parseCommandEnvelope(payload);
    if (envelope.context.aud !== opts.thingName) {
      throw new CommandClaimError('aud', 'Envelope is addressed to another thing');
    }
    let plaintext: Uint8Array;
    try {
      plaintext = await opts.decrypt(
        new Uint8Array(Buffer.from(envelope.ciphertext, 'base64')),
        envelope.context,
        envelope.keyId,
      );
    } catch (cause) {
      throw new CommandDecryptionError('Command could not be decrypted', { cause });
    }
    const jwsText = utf8(plaintext);
    if (jwsText === undefined) throw new JwsFormatError('jws', 'Decrypted command is not UTF-8');
    const jws = parseJws(jwsText);
    const payloadJson = verifyJwsSignature(jws, keys);
    if (jws.header.typ !== COMMAND_JWS_TYPE) throw new CommandClaimError('typ', 'Unexpected JWS typ');
    const claims = parseClaims(payloadJson);
    if (claims === undefined) throw new CommandClaimError('claims', 'Claims have an unexpected shape');
    checkClaims(claims, envelope, opts, Math.floor(now() / 1000), skew, maxTtl);
    if (await opts.replayCache.has(claims.jti)) throw new CommandReplayError(claims.jti);
    await opts.replayCache.add(claims.jti, claims.exp + skew);
    return { claims, keyId: jws.header.kid };
  };
}

function checkClaims(
  claims: CommandClaims,
  envelope: CommandEnvelope,
  opts: CommandDecoderOptions,
  nowSeconds: number,
  skew: number,
  maxTtl: number,
): void {
  if (claims.aud !== opts.thingName)
    throw new CommandClaimError('aud', 'Command is addressed to another thing');
  if (claims.jti !== envelope.commandId)
    throw new CommandClaimError('jti', 'Command id differs from the envelope');
  if (!claims.aud.startsWith(`${claims.vin}_`))
    throw new CommandClaimError('vin', 'VIN does not match the thing');
  if (opts.issuer !== undefined && claims.iss !== opts.issuer)
    throw new CommandClaimError('iss', 'Unexpected issuer');
  if (claims.exp <= claims.iat) throw new CommandClaimError('exp', 'exp is not after iat');
  if (claims.exp - claims.iat > maxTtl) throw new CommandClaimError('exp', 'Command lifetime too long');
  if (claims.exp + skew <= nowSeconds) throw new CommandClaimError('exp', 'Command expired');
  if (claims.iat - skew > nowSeconds) throw new CommandClaimError('iat', 'Command issued in the future');
}

/**
 * Strict reader of AWS Encryption SDK messages, format version 2, for exactly one algorithm suite:
 * ALG_AES256_GCM_IV12_TAG16_HKDF_SHA512_COMMIT_KEY (0x0478; key commitment, no signature), one encrypted data key,
 * framed content. Layout (big-endian), as written by the Encryption SDK for JavaScript 5.x (serialize /
 * deserialize_header_v2) and the message-format reference:
 *
 * header body: version(1)=0x02 | suite id(2) | message id(32) | AAD length(2) | AAD (count(2), then per pair
 *   key length(2), key, value length(2), value) | EDK count(2) | per EDK: provider id length(2), provider id,
 *   provider info length(2), provider info, ciphertext length(2), ciphertext | content type(1) | frame length(4) |
 *   algorithm suite data(32) = key commitment
 * header auth: tag(16) (AES-GCM over an empty plaintext, IV all zeros, AAD = header body)
 * body, regular frame: sequence number(4) | IV(12) | ciphertext(frame length) | tag(16)
 * body, final frame: 0xFFFFFFFF(4) | sequence number(4) | IV(12) | content length(4) | ciphertext | tag(16)
 *
 * This module reads structure only (no key, no crypto). Everything it refuses is `malformed`.
 */
import { TelemetryDecryptError } from './errors.js';

export const ESDK_MESSAGE_FORMAT_V2 = 0x02;
/** ALG_AES256_GCM_IV12_TAG16_HKDF_SHA512_COMMIT_KEY. */
export const ESDK_COMMIT_KEY_SUITE_ID = 0x0478;
export const ESDK_CONTENT_TYPE_FRAMED = 0x02;
export const ESDK_MESSAGE_ID_LENGTH = 32;
export const ESDK_IV_LENGTH = 12;
export const ESDK_TAG_LENGTH = 16;
export const ESDK_COMMITMENT_LENGTH = 32;
export const ESDK_FINAL_FRAME_MARKER = 0xffffffff;

/** The single encrypted data key of a message, as the keyring sees it. */
export interface EsdkEncryptedDataKey {
  providerId: Buffer;
  providerInfo: Buffer;
  ciphertext: Buffer;
}

/** A structurally valid v2 header (nothing authenticated yet). Buffers are views into the message bytes. */
export interface EsdkHeaderV2 {
  suiteId: number;
  messageId: Buffer;
  /** Encryption context pairs, raw UTF-8 bytes, in wire order. */
  context: ReadonlyArray<readonly [key: Buffer, value: Buffer]>;
  encryptedDataKey: EsdkEncryptedDataKey;
  /**
   * The bytes from the AAD length through the end of the encrypted data key section: the serialized encryption
   * context and encrypted data key, self-delimiting. Used as the data-key cache id.
   */
  keyAndContextBytes: Buffer;
  contentType: number;
  frameLength: number;
  /** Algorithm suite data: the key commitment. */
  commitment: Buffer;
  /** The authenticated header body (version through suite data). */
  headerBody: Buffer;
  headerAuthTag: Buffer;
  /** Offset of the first body byte in the message. */
  bodyOffset: number;
}

/** Reasons the reader gives; a closed set, never quoting input. */
export type EsdkStructureProblem =
  | 'not message format version 2'
  | 'algorithm suite not allowed'
  | 'truncated header'
  | 'encryption context malformed'
  | 'encrypted data key count must be 1'
  | 'encrypted data key malformed';

function malformed(detail: EsdkStructureProblem, messageId: string | undefined): TelemetryDecryptError {
  return new TelemetryDecryptError('malformed', detail, messageId === undefined ? {} : { messageId });
}

/**
 * Reads a v2 header strictly: version 2, suite 0x0478, a well-formed encryption context (pair count > 0, no
 * duplicate key, lengths that add up exactly), exactly one encrypted data key (provider id, provider info and
 * ciphertext non-empty), and the content type, frame length,
 * commitment and header tag all present. Does not look at the body. Throws {@link TelemetryDecryptError}
 * (`malformed`) otherwise; never reads out of bounds, whatever the input.
 *
 * @example
 * const header = readEsdkHeaderV2(Buffer.from(envelope.esdk, 'base64'));
 * header.frameLength; // 4096
 */
export function readEsdkHeaderV2(bytes: Buffer, messageId?: string): EsdkHeaderV2 {
  const size = bytes.length;
  // Fixed prefix: version, suite id, message id, AAD length.
  if (size < 1 + 2 + ESDK_MESSAGE_ID_LENGTH + 2) {
    throw malformed(
      size >= 1 && bytes[0] !== ESDK_MESSAGE_FORMAT_V2 ? 'not message format version 2' : 'truncated header',
      messageId,
    );
  }
  if (bytes[0] !== ESDK_MESSAGE_FORMAT_V2) throw malformed('not message format version 2', messageId);
  const suiteId = bytes.readUInt16BE(1);
  if (suiteId !== ESDK_COMMIT_KEY_SUITE_ID) throw malformed('algorithm suite not allowed', messageId);
  const id = bytes.subarray(3, 3 + ESDK_MESSAGE_ID_LENGTH);
  let pos = 3 + ESDK_MESSAGE_ID_LENGTH;
  const keyAndContextStart = pos;

  // AAD: the serialized encryption context.
  const aadLength = bytes.readUInt16BE(pos);
  pos += 2;
  const aadEnd = pos + aadLength;
  if (aadEnd > size) throw malformed('truncated header', messageId);
  const context: Array<readonly [Buffer, Buffer]> = [];
  if (aadLength > 0) {
    if (aadLength < 2) throw malformed('encryption context malformed', messageId);
    const count = bytes.readUInt16BE(pos);
    pos += 2;
    if (count === 0) throw malformed('encryption context malformed', messageId);
    for (let i = 0; i < count; i++) {
      const key = readField(bytes, pos, aadEnd);
      if (!key) throw malformed('encryption context malformed', messageId);
      pos = key.next;
      const value = readField(bytes, pos, aadEnd);
      if (!value) throw malformed('encryption context malformed', messageId);
      pos = value.next;
      for (const [seen] of context) {
        if (seen.equals(key.field)) throw malformed('encryption context malformed', messageId);
      }
      context.push([key.field, value.field]);
    }
    if (pos !== aadEnd) throw malformed('encryption context malformed', messageId);
  }

  // Encrypted data keys: exactly one.
  if (pos + 2 > size) throw malformed('truncated header', messageId);
  const edkCount = bytes.readUInt16BE(pos);
  pos += 2;
  if (edkCount !== 1) throw malformed('encrypted data key count must be 1', messageId);
  const providerId = readField(bytes, pos, size);
  if (!providerId) throw malformed('truncated header', messageId);
  const providerInfo = readField(bytes, providerId.next, size);
  if (!providerInfo) throw malformed('truncated header', messageId);
  const ciphertext = readField(bytes, providerInfo.next, size);
  if (!ciphertext) throw malformed('truncated header', messageId);
  pos = ciphertext.next;
  // As the Encryption SDK requires of an encrypted data key: provider id, provider info and ciphertext non-empty.
  if (providerId.field.length === 0 || providerInfo.field.length === 0 || ciphertext.field.length === 0) {
    throw malformed('encrypted data key malformed', messageId);
  }
  const keyAndContextBytes = bytes.subarray(keyAndContextStart, pos);

  // Content type, frame length, suite data (commitment), header auth tag.
  const headerEnd = pos + 1 + 4 + ESDK_COMMITMENT_LENGTH;
  if (headerEnd + ESDK_TAG_LENGTH > size) throw malformed('truncated header', messageId);
  const contentType = bytes.readUInt8(pos);
  const frameLength = bytes.readUInt32BE(pos + 1);
  const commitment = bytes.subarray(pos + 5, headerEnd);
  return {
    suiteId,
    messageId: id,
    context,
    encryptedDataKey: {
      providerId: providerId.field,
      providerInfo: providerInfo.field,
      ciphertext: ciphertext.field,
    },
    keyAndContextBytes,
    contentType,
    frameLength,
    commitment,
    headerBody: bytes.subarray(0, headerEnd),
    headerAuthTag: bytes.subarray(headerEnd, headerEnd + ESDK_TAG_LENGTH),
    bodyOffset: headerEnd + ESDK_TAG_LENGTH,
  };
}

/** A uint16-length-prefixed field ending at or before `end`, or undefined. */
function readField(bytes: Buffer, pos: number, end: number): { field: Buffer; next: number } | undefined {
  if (pos + 2 > end) return undefined;
  const length = bytes.readUInt16BE(pos);
  const next = pos + 2 + length;
  if (next > end) return undefined;
  return { field: bytes.subarray(pos + 2, next), next };
}

/** One frame of the body, located but not decrypted. */
export interface EsdkFrame {
  sequenceNumber: number;
  isFinal: boolean;
  iv: Buffer;
  ciphertext: Buffer;
  tag: Buffer;
}

/** Why a body does not have the required frame structure (after the header was authenticated). */
export type EsdkBodyProblem =
  | 'truncated body'
  | 'frame sequence number out of order'
  | 'final frame longer than the frame length'
  | 'bytes after the final frame'
  | 'body exceeds the cap';

/**
 * Walks the framed body strictly: sequence numbers 1, 2, ... in order, regular frames of exactly `frameLength`,
 * one final frame (content length <= frame length) that ends the message exactly (no trailing bytes), the running
 * plaintext length within `maxBodyBytes`. Calls `onFrame` for each frame in order. Returns a problem instead of
 * throwing, so the caller chooses the reason; `onFrame` may throw.
 *
 * @example
 * const problem = walkEsdkFrames(bytes, header, 65536, (frame) => decryptFrame(frame));
 */
export function walkEsdkFrames(
  bytes: Buffer,
  header: Pick<EsdkHeaderV2, 'bodyOffset' | 'frameLength'>,
  maxBodyBytes: number,
  onFrame: (frame: EsdkFrame) => void,
): EsdkBodyProblem | undefined {
  const size = bytes.length;
  const { frameLength } = header;
  let pos = header.bodyOffset;
  let total = 0;
  for (let expected = 1; ; expected++) {
    if (pos + 4 > size) return 'truncated body';
    const first = bytes.readUInt32BE(pos);
    if (first === ESDK_FINAL_FRAME_MARKER) {
      if (pos + 4 + 4 + ESDK_IV_LENGTH + 4 > size) return 'truncated body';
      const sequenceNumber = bytes.readUInt32BE(pos + 4);
      if (sequenceNumber !== expected) return 'frame sequence number out of order';
      const iv = bytes.subarray(pos + 8, pos + 8 + ESDK_IV_LENGTH);
      const contentLength = bytes.readUInt32BE(pos + 8 + ESDK_IV_LENGTH);
      if (contentLength > frameLength) return 'final frame longer than the frame length';
      if (total + contentLength > maxBodyBytes) return 'body exceeds the cap';
      const start = pos + 8 + ESDK_IV_LENGTH + 4;
      const end = start + contentLength + ESDK_TAG_LENGTH;
      if (end > size) return 'truncated body';
      if (end < size) return 'bytes after the final frame';
      onFrame({
        sequenceNumber,
        isFinal: true,
        iv,
        ciphertext: bytes.subarray(start, start + contentLength),
        tag: bytes.subarray(start + contentLength, end),
      });
      return undefined;
    }
    if (first !== expected) return 'frame sequence number out of order';
    if (total + frameLength > maxBodyBytes) return 'body exceeds the cap';
    const start = pos + 4 + ESDK_IV_LENGTH;
    const end = start + frameLength + ESDK_TAG_LENGTH;
    if (end > size) return 'truncated body';
    onFrame({
      sequenceNumber: first,
      isFinal: false,
      iv: bytes.subarray(pos + 4, start),
      ciphertext: bytes.subarray(start, start + frameLength),
      tag: bytes.subarray(start + frameLength, end),
    });
    total += frameLength;
    pos = end;
  }
}

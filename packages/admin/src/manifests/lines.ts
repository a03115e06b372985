import { createHash } from 'node:crypto';
import type { ManifestSource } from './ports.js';

/** The longest manifest line (bytes); a longer one is refused without being held in memory. */
export const MAX_LINE_BYTES = 4096;

export interface Line {
  /** 1-based line number. */
  readonly number: number;
  /** The line's text (UTF-8, without the line break), or undefined when longer than {@link MAX_LINE_BYTES}. */
  readonly text: string | undefined;
  /** Byte offset just after this line's break: where the next line starts. */
  readonly end: number;
}

/**
 * The lines of a byte stream (LF or CRLF; a leading UTF-8 byte order mark dropped), in bounded memory: at most one chunk and one line of
 * {@link MAX_LINE_BYTES} are held; a longer line is skipped to its end and reported with `text: undefined`.
 *
 * @example for await (const line of linesOf(createReadStream(path))) console.log(line.number, line.text);
 */
export async function* linesOf(
  chunks: AsyncIterable<Uint8Array>,
  maxLineBytes = MAX_LINE_BYTES,
): AsyncGenerator<Line> {
  let parts: Buffer[] = [];
  let length = 0;
  let tooLong = false;
  let number = 0;
  let offset = 0;
  const finish = (end: number): Line => {
    number += 1;
    let text: string | undefined;
    if (!tooLong) {
      const bytes = Buffer.concat(parts, length);
      const trimmed = bytes.length > 0 && bytes[bytes.length - 1] === 0x0d ? bytes.subarray(0, -1) : bytes;
      text = trimmed.toString('utf8');
      // A UTF-8 byte order mark (spreadsheets' "CSV UTF-8") is not part of the first line.
      if (number === 1 && text.charCodeAt(0) === 0xfeff) text = text.slice(1);
    }
    parts = [];
    length = 0;
    tooLong = false;
    return { number, text, end };
  };
  for await (const chunk of chunks) {
    const buf = Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    let start = 0;
    while (start < buf.length) {
      const nl = buf.indexOf(0x0a, start);
      const stop = nl === -1 ? buf.length : nl;
      const piece = buf.subarray(start, stop);
      if (!tooLong) {
        if (length + piece.length > maxLineBytes + 1) {
          tooLong = true;
          parts = [];
          length = 0;
        } else {
          parts.push(Buffer.from(piece));
          length += piece.length;
        }
      }
      if (nl === -1) {
        offset += buf.length - start;
        break;
      }
      offset += nl - start + 1;
      start = nl + 1;
      yield finish(offset);
    }
  }
  if (length > 0 || tooLong) yield finish(offset);
}

/** SHA-256 (lowercase hex) of the whole source, read as a stream. */
export async function sha256Of(source: ManifestSource): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of source.open()) hash.update(chunk);
  return hash.digest('hex');
}

import { ECU_ROLES } from '@cv/policy';
import * as z from 'zod';

/** The manifest's columns (JSON lines: these keys; CSV: this header, in any order, `attestation...` optional). */
export const MANIFEST_FIELDS = [
  'ecuId',
  'vin',
  'role',
  'supplier',
  'attestationIssuerKeySha256',
  'attestationCertificateSha256',
] as const;
const REQUIRED_FIELDS = ['ecuId', 'vin', 'role', 'supplier'] as const;

export const SUPPLIER_ID = /^[a-z0-9][a-z0-9-]{1,62}$/;
const SHA256 = /^[0-9a-fA-F]{64}$/;

const RowSchema = z.strictObject({
  ecuId: z.string().regex(/^[A-Za-z0-9-]{1,40}$/),
  vin: z.string().regex(/^[A-HJ-NPR-Z0-9]{17}$/),
  role: z.enum(ECU_ROLES as readonly [string, ...string[]]),
  supplier: z.string().regex(SUPPLIER_ID),
  attestationIssuerKeySha256: z
    .string()
    .regex(SHA256)
    .transform((s) => s.toLowerCase())
    .optional(),
  attestationCertificateSha256: z
    .string()
    .regex(SHA256)
    .transform((s) => s.toLowerCase())
    .optional(),
});

export type ManifestRow = z.infer<typeof RowSchema>;

export type ParsedLine =
  | { readonly kind: 'row'; readonly row: ManifestRow }
  | { readonly kind: 'blank' }
  | {
      readonly kind: 'invalid';
      readonly ecuId: string | undefined;
      readonly reason: string;
      readonly message: string;
    };

export type ManifestFormat = 'jsonl' | 'csv';

/**
 * The fields of a CSV line: comma-separated, each trimmed, a field wholly in double quotes (as spreadsheets
 * write them) unquoted. No manifest value holds a comma or a quote, so a quote anywhere else makes the line
 * malformed (undefined) rather than guessed at.
 */
function csvFields(line: string): string[] | undefined {
  const fields: string[] = [];
  for (const raw of line.split(',')) {
    const field = raw.trim();
    const quoted = /^"([^"]*)"$/.exec(field);
    if (quoted) fields.push((quoted[1] ?? '').trim());
    else if (field.includes('"')) return undefined;
    else fields.push(field);
  }
  return fields;
}

/** A CSV header's column order; throws a message for the operator when it is not a manifest header. */
export function csvColumns(header: string): string[] {
  const columns = csvFields(header);
  if (columns === undefined) throw new Error('the CSV header has a stray double quote');
  const unknown = columns.filter((c) => !(MANIFEST_FIELDS as readonly string[]).includes(c));
  if (unknown.length > 0) throw new Error(`unknown CSV column: ${unknown[0]?.slice(0, 40)}`);
  if (new Set(columns).size !== columns.length) throw new Error('a CSV column appears twice');
  const missing = REQUIRED_FIELDS.filter((c) => !columns.includes(c));
  if (missing.length > 0) throw new Error(`missing CSV column: ${missing[0]}`);
  return columns;
}

function guessEcuId(value: unknown): string | undefined {
  return typeof value === 'string' && /^[A-Za-z0-9-]{1,40}$/.test(value) ? value : undefined;
}

/**
 * One manifest line to a row, or the reason it is refused (`malformed`: not JSON / wrong number of CSV fields;
 * `invalid_<field>`: a field fails its rule; `unknown_field`). Untrusted input: never throws.
 *
 * @example parseLine('{"ecuId":"GW-1","vin":"WVWZZZ1JZXW000001","role":"gateway","supplier":"acme"}', 'jsonl')
 */
export function parseLine(line: string, format: ManifestFormat, columns: readonly string[] = []): ParsedLine {
  if (line.trim() === '') return { kind: 'blank' };
  let raw: unknown;
  if (format === 'jsonl') {
    try {
      raw = JSON.parse(line);
    } catch {
      return { kind: 'invalid', ecuId: undefined, reason: 'malformed', message: 'not a JSON object' };
    }
    if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
      return { kind: 'invalid', ecuId: undefined, reason: 'malformed', message: 'not a JSON object' };
    }
  } else {
    const fields = csvFields(line);
    if (fields === undefined || fields.length !== columns.length) {
      return {
        kind: 'invalid',
        ecuId: undefined,
        reason: 'malformed',
        message: `expected ${columns.length} fields, without commas or quotes inside`,
      };
    }
    const record: Record<string, string> = {};
    columns.forEach((c, i) => {
      const value = fields[i] ?? '';
      if (value !== '') record[c] = value;
    });
    raw = record;
  }
  const parsed = RowSchema.safeParse(raw);
  const ecuId = guessEcuId((raw as Record<string, unknown>).ecuId);
  if (parsed.success) return { kind: 'row', row: parsed.data };
  const issue = parsed.error.issues[0];
  if (issue?.code === 'unrecognized_keys') {
    return {
      kind: 'invalid',
      ecuId,
      reason: 'unknown_field',
      message: 'the row has a field no manifest has',
    };
  }
  const field = String(issue?.path[0] ?? 'row');
  return { kind: 'invalid', ecuId, reason: `invalid_${field}`, message: `${field} is missing or malformed` };
}

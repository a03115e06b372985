/** The text that replaces every redacted value. */
export const REDACTED = '[REDACTED]';

/**
 * Field names whose values are never logged, compared after lower-casing and removing
 * `-`, `_`, `.` and spaces (so `private_key`, `privateKey` and `Private-Key` all match).
 */
const SENSITIVE_KEY_PARTS = [
  'password',
  'passwd',
  'passphrase',
  'secret',
  'token',
  'authorization',
  'cookie',
  'apikey',
  'plaintext',
  'privatekey',
  'ciphertext',
  'esdk',
];

const PATTERNS: ReadonlyArray<readonly [RegExp, string]> = [
  // PEM private keys of any flavour (PKCS#8, EC, RSA, ENCRYPTED, OPENSSH), also when truncated.
  [/-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----[\s\S]*?(?:-----END [A-Z0-9 ]*PRIVATE KEY-----|$)/g, REDACTED],
  // Bearer credentials, e.g. an Authorization header value embedded in a message.
  [/\bBearer\s+[A-Za-z0-9\-._~+/]+=*/gi, `Bearer ${REDACTED}`],
  // JWS / JWT / JWE compact serialisations: base64url JSON header (`{"` or `{\n` encodes to `ey` / `ew`) and 2-4 more segments.
  [/\be[wy][A-Za-z0-9_-]{4,}(?:\.[A-Za-z0-9_-]*){2,4}/g, REDACTED],
  // Any other three long base64url segments.
  [/[A-Za-z0-9_-]{16,}\.[A-Za-z0-9_-]{16,}\.[A-Za-z0-9_-]{16,}/g, REDACTED],
  // key=value / key: value pairs in free text.
  [
    /\b(password|passwd|passphrase|secret|token|api[_-]?key|authorization)(["']?\s*[=:]\s*["']?)(?!Bearer\s|\[REDACTED\])[^\s"',;&]+/gi,
    `$1$2${REDACTED}`,
  ],
];

/**
 * Whether values stored under this field name must never be logged.
 * @example isSensitiveKey('privateKey'); // true
 */
export function isSensitiveKey(key: string): boolean {
  const normalised = key.toLowerCase().replace(/[-_. ]/g, '');
  return SENSITIVE_KEY_PARTS.some((part) => normalised.includes(part));
}

/**
 * Replaces private keys, bearer tokens, JWTs and `secret=...` pairs inside a string.
 * @example redactString('auth: Bearer eyJhbGciOi...'); // 'auth: Bearer [REDACTED]'
 */
export function redactString(text: string): string {
  let out = text;
  for (const [pattern, replacement] of PATTERNS) out = out.replace(pattern, replacement);
  return out;
}

/**
 * A `JSON.stringify` replacer that redacts sensitive fields (by name) and sensitive
 * strings (by content) at any depth. Used by the logger for every log line.
 * @example JSON.stringify({ headers: { authorization: 'x' } }, redactingReplacer); // {"headers":{"authorization":"[REDACTED]"}}
 */
export function redactingReplacer(key: string, value: unknown): unknown {
  if (value === undefined || value === null) return value;
  if (key !== '' && isSensitiveKey(key)) return REDACTED;
  if (typeof value === 'string') return redactString(value);
  return value;
}

/**
 * A redacted deep copy of a JSON-like value (errors become `{ name, message }`).
 * @example redact({ user: 'a', password: 'b' }); // { user: 'a', password: '[REDACTED]' }
 */
export function redact(value: unknown): unknown {
  const seen = new WeakSet<object>();
  const walk = (key: string, v: unknown): unknown => {
    const replaced = redactingReplacer(key, v);
    if (replaced !== v || typeof v !== 'object' || v === null) return replaced;
    if (seen.has(v)) return '[Circular]';
    seen.add(v);
    if (v instanceof Error) return { name: v.name, message: redactString(v.message) };
    if (Array.isArray(v)) return v.map((item, i) => walk(String(i), item));
    const out: Record<string, unknown> = {};
    for (const [k, inner] of Object.entries(v)) out[k] = walk(k, inner);
    return out;
  };
  return walk('', value);
}

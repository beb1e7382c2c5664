/**
 * The one place that hides secrets in store URLs and in messages that may
 * quote one: everything scopefs shows about a store (the serve banner,
 * `/v1/status`, `.sync-status.json`, the MCP `sync_status` tool, serve.json,
 * `scopefs status`, error messages) goes through `redactSecrets`.
 *
 * Masked, in any string (a whole URL or a message with URLs in it):
 * - a URL's userinfo password: `postgres://u:secret@h/db` -> `postgres://u:***@h/db`;
 * - the value of any parameter whose name says secret (`password`,
 *   `sslpassword`, `sslkey`, `apikey`, `service_role_key`, `access_token`,
 *   `secret`, ...; case-insensitive) in a query (`?password=...`), a fragment,
 *   or a libpq `key=value` string (`password='a b'`);
 * - JWTs (Supabase anon and service-role keys, access tokens) and Supabase
 *   `sb_secret_...` / `sb_publishable_...` keys, wherever they appear
 *   (a userinfo, a path, a parameter of any name).
 * Over-masking is preferred to leaking: this is for display, never for use.
 */
export const MASK = '***';

/** Parameter names that hold secrets, matched anywhere in the name. */
const SECRET_NAME = /pass|pwd|secret|token|key|credential|auth|signature/i;

/** `scheme://user:password@`: the password runs to the last `@` before the query, fragment or whitespace. */
const USERINFO = /([a-z][a-z0-9+.-]*:\/\/[^\s/?#@:'"]*):([^\s?#'"]*)@/gi;

/** `name=value` after a start, `?`, `&`, `;`, `#`, whitespace or a comma; the value may be quoted (libpq). */
const ASSIGNMENT = /(^|[?&;#\s,(])([A-Za-z0-9_.%-]+)(\s*=\s*)('(?:[^'\\]|\\.)*'?|"(?:[^"\\]|\\.)*"?|[^\s&;#'"]*)/g;

/** A JSON Web Token: three base64url parts, the first an encoded JSON header (`{"...` is `eyJ`). */
const JWT = /eyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]*/g;

/** Supabase's API keys of the current format. */
const SUPABASE_KEY = /\b(sb_(?:secret|publishable)_)[A-Za-z0-9_-]+/g;

/** `text` with every secret it holds replaced by `***`. */
export function redactSecrets(text: string): string {
  return text
    .replace(USERINFO, (_match, before: string) => `${before}:${MASK}@`)
    .replace(ASSIGNMENT, (match, start: string, name: string, equals: string, value: string) =>
      value !== '' && SECRET_NAME.test(safeDecode(name)) ? `${start}${name}${equals}${MASK}` : match,
    )
    .replace(JWT, MASK)
    .replace(SUPABASE_KEY, `$1${MASK}`);
}

/** Whether `text` holds anything `redactSecrets` would mask. */
export function holdsSecret(text: string): boolean {
  return redactSecrets(text) !== text;
}

function safeDecode(name: string): string {
  try {
    return decodeURIComponent(name);
  } catch {
    return name;
  }
}

/**
 * Store URL schemes for the SQL stores:
 *
 *   postgres://user:password@host:5432/db   (also postgresql://)
 *   supabase:                               project URL and key from the environment
 *   supabase://xyz.supabase.co              this project, key from the environment
 *   supabase:https://xyz.supabase.co        the same
 */
import { ScopeFsError } from '../../src/errors.js';
import { redactSecrets } from '../../src/redact.js';
import { registerStoreScheme } from './open-store.js';
import { PostgresStore } from './postgres-store.js';
import { SupabaseStore } from './supabase-store.js';

export function registerSqlStores(): void {
  const postgres = (url: string) => new PostgresStore({ connectionString: url });
  registerStoreScheme('postgres', postgres);
  registerStoreScheme('postgresql', postgres);
  registerStoreScheme('supabase', (url) => new SupabaseStore({ url: supabaseProjectUrl(url) }));
}

/** The project URL a `supabase:` store URL names, or undefined for "from SUPABASE_URL". */
export function supabaseProjectUrl(storeUrl: string): string | undefined {
  const rest = storeUrl.slice('supabase:'.length);
  if (rest === '') return undefined;
  if (rest.startsWith('//')) return `https:${rest}`;
  if (/^https?:\/\//i.test(rest)) return rest;
  throw new ScopeFsError(
    'EINVAL',
    `invalid supabase store URL ${JSON.stringify(redactSecrets(storeUrl))}: use supabase:, supabase://PROJECT.supabase.co or supabase:https://HOST`,
  );
}

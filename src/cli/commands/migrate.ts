import { Command } from 'commander';
import { ScopeFsError } from '../../errors.js';
import { rootOf } from '../options.js';
import { Output } from '../output.js';
import { migrationProgress, wantsProgress } from '../progress.js';
import { redactSecrets } from '../../redact.js';
import { givenStoreUrl } from '../store-source.js';
import { checkStoreUrl, defaultStoreUrl } from '../store-url.js';

interface MigrateOptions {
  store?: string;
  storeFile?: string;
  root: string;
  json?: boolean;
}

interface MigrateResult {
  store: string;
  /** Schema version before, when the store reports one. */
  from?: number;
  to: number;
  /** The migrations this run applied, oldest first (`NNN_name`); PostgreSQL and Supabase only. */
  applied?: string[];
}

/** `scopefs migrate`: creates or upgrades a store's schema. */
export function migrateCommand(): Command {
  return new Command('migrate')
    .description('create or upgrade the schema of a store (postgres://, supabase:, sqlite:)')
    .option('--store <url>', 'the store (default: SCOPEFS_STORE, else the sqlite store beside --root)')
    .option('--store-file <path>', 'read the store URL from this file (keeps its password off the command line)')
    .option('--root <dir>', 'the workspace whose default store to use', './workspace')
    .option('--json', 'machine-readable output')
    .action(async (options: MigrateOptions) => {
      const url = (await givenStoreUrl(options)) ?? defaultStoreUrl(rootOf(options));
      const output = new Output(options.json === true);
      const bar = wantsProgress(options.json) ? migrationProgress() : undefined;
      let result: MigrateResult;
      try {
        result = await migrateStore(url, bar?.update);
      } finally {
        bar?.stop();
      }
      output.result(result, () => {
        const change = result.from === undefined || result.from === result.to ? '' : ` (was ${result.from})`;
        const applied = result.applied === undefined ? [] : result.applied.length === 0 ? ['no migration to apply'] : result.applied.map((name) => `applied ${name}`);
        return [...applied, `${result.store} is at schema version ${result.to}${change}`];
      });
    });
}

async function migrateStore(url: string, onProgress?: (done: number, total: number) => void): Promise<MigrateResult> {
  const store = redactSecrets(checkStoreUrl(url));
  if (/^(postgres|postgresql):/i.test(url)) return { store, ...(await migratePostgres(url, onProgress)) };
  if (/^supabase:/i.test(url)) {
    // Supabase's API cannot run DDL: the migration goes over the project's database connection.
    const database = process.env.DATABASE_URL;
    if (!database) {
      throw new ScopeFsError('EINVAL', 'migrating a supabase: store needs DATABASE_URL, the project\'s PostgreSQL connection string');
    }
    return { store, ...(await migratePostgres(database, onProgress)) };
  }
  // The embedded stores create or check their schema when opened.
  const [{ openStore }, { SQLITE_SCHEMA_VERSION }] = await Promise.all([
    import('../../../persistence/stores/open-store.js'),
    import('../../../persistence/sql/sqlite-schema.js'),
  ]);
  const opened = await openStore(url);
  await opened.close();
  return { store, to: /^sqlite:/i.test(url) ? SQLITE_SCHEMA_VERSION : 0 };
}

async function migratePostgres(url: string, onProgress?: (done: number, total: number) => void) {
  const { migrate, listMigrations } = await import('../../../persistence/sql/migrate.js');
  const { from, to } = await migrate(url, { onProgress });
  const applied = (await listMigrations()).filter((m) => m.version > from && m.version <= to);
  return { from, to, applied: applied.map((m) => `${String(m.version).padStart(3, '0')}_${m.name}`) };
}

// `scopefs/postgres`: the PostgreSQL store and the migrations of its schema.
// A separate entry, so that `import ... from 'scopefs'` never loads `pg`.
export { PostgresStore, type PostgresStoreOptions } from '../../persistence/stores/postgres-store.js';
export { migrate, type MigrateOptions } from '../../persistence/sql/migrate.js';
export type { LeaseState, StoreLeases, SyncStore } from '../../persistence/stores/types.js';

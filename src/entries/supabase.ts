// `scopefs/supabase`: the Supabase store (PostgREST RPC, Realtime hints).
// A separate entry, so that `import ... from 'scopefs'` never loads supabase-js.
// Its schema is the PostgreSQL one: apply it with `migrate` from `scopefs/postgres`.
export { SupabaseStore, type SupabaseStoreOptions } from '../../persistence/stores/supabase-store.js';
export type { LeaseState, StoreLeases, SyncStore } from '../../persistence/stores/types.js';

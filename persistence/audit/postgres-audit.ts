/**
 * PostgresStore's statement runner, told apart by shape so `pg` is not
 * imported by the side tables that use it. The audit log itself goes through
 * migration 010's functions (sql-audit.ts), on PostgreSQL and Supabase alike.
 */
export type QueryRows = (text: string, values: readonly unknown[]) => Promise<Record<string, unknown>[]>;

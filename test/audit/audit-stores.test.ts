/** The AuditLog contract over the store tables: SQLite (schema 4) and real PostgreSQL (migration 006). */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll } from 'vitest';
import { PostgresAuditLog } from '../../persistence/audit/postgres-audit.js';
import { SqliteAuditLog } from '../../persistence/audit/sqlite-audit.js';
import { migrate } from '../../persistence/sql/migrate.js';
import { describePostgres, useTestDatabase } from '../helpers/postgres.js';
import { auditLogContract } from './audit-contract.js';

let scopes = 0;

auditLogContract('sqlite', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'scopefs-audit-sqlite-'));
  const log = new SqliteAuditLog(join(dir, 'store.db'), `app-${++scopes}`);
  return { log, close: async () => (log.close(), rm(dir, { recursive: true, force: true })) };
});

describePostgres('PostgresAuditLog', () => {
  const db = useTestDatabase('audit');
  let pool: pg.Pool;
  beforeAll(async () => {
    await migrate(db.url);
    pool = new pg.Pool({ connectionString: db.url, max: 2 });
  });
  afterAll(() => pool?.end());
  auditLogContract('postgres', async () => {
    const log = new PostgresAuditLog(async (text, values) => (await pool.query(text, [...values])).rows, `app-${++scopes}`);
    return { log, close: async () => undefined };
  });
});

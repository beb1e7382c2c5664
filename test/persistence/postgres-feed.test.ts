/**
 * The change feed is gap-free: a reader at cursor C never misses a change
 * that commits later with a revision <= C. Revisions come from the app's head
 * row, locked inside the push transaction, so commit order is revision order.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { sha256 } from '../../src/content.js';
import { migrate } from '../../persistence/sql/migrate.js';
import { PostgresStore } from '../../persistence/stores/postgres-store.js';
import { SHARED_OWNER, type PushChange } from '../../persistence/stores/types.js';
import { adminQuery, connectClient, describePostgres, useTestDatabase, waitFor } from '../helpers/postgres.js';

const WRITERS = 8;
const PUSHES_PER_WRITER = 50;

function change(path: string, content: string): PushChange {
  const bytes = new Uint8Array(Buffer.from(content));
  return { owner: SHARED_OWNER, path, baseRevision: 0, content: bytes, hash: sha256(bytes) };
}

const pushSql = (app: string, path: string) => ({
  text: 'SELECT public.scopefs_push($1, $2, $3::jsonb) AS result',
  values: [app, 'raw', JSON.stringify([{ owner: SHARED_OWNER, path, base_revision: 0, content: 'eA==', hash: null }])],
});

async function waitsOnLock(pid: number | undefined): Promise<boolean> {
  const result = await adminQuery<{ wait: string | null }>('SELECT wait_event_type AS wait FROM pg_stat_activity WHERE pid = $1', [pid]);
  return result.rows[0]?.wait === 'Lock';
}

describePostgres('PostgreSQL change feed', () => {
  const db = useTestDatabase('feed');
  const stores: PostgresStore[] = [];
  beforeAll(async () => {
    await migrate(db.url);
  });
  afterAll(async () => {
    await Promise.all(stores.map((store) => store.close()));
  });

  async function store(): Promise<PostgresStore> {
    const created = new PostgresStore({ connectionString: db.url, poolSize: 1, autoMigrate: false });
    stores.push(created);
    await created.open();
    return created;
  }

  it(`a reader polling since(cursor) sees every revision of ${WRITERS} concurrent writers exactly once, in order`, async () => {
    const app = `feed-${process.pid}`;
    const writers = await Promise.all(Array.from({ length: WRITERS }, store));
    const reader = await store();
    const total = WRITERS * PUSHES_PER_WRITER;
    let writing = true;
    const seen: number[] = [];
    let pagesDuringWrites = 0;

    const reading = (async () => {
      let cursor = 0;
      for (;;) {
        // Read the flag before the page: once false, every push has committed.
        const writersDone = !writing;
        const page = await reader.since(app, [SHARED_OWNER], cursor, 17);
        if (page.more) expect(page.cursor).toBe(page.rows.at(-1)!.revision);
        if (!writersDone && page.rows.length > 0) pagesDuringWrites++;
        seen.push(...page.rows.map((row) => row.revision));
        cursor = page.cursor;
        if (writersDone && !page.more) return;
      }
    })();

    const pushed = await Promise.all(
      writers.map(async (writer, w) => {
        const revisions: number[] = [];
        for (let i = 0; i < PUSHES_PER_WRITER; i++) {
          const [outcome] = await writer.push(app, `writer-${w}`, [change(`/w${w}/${i}.txt`, `${w}:${i}`)]);
          if (outcome?.status !== 'ok') throw new Error(`push failed: ${JSON.stringify(outcome)}`);
          revisions.push(outcome.revision);
        }
        return revisions;
      }),
    ).finally(() => (writing = false));
    await reading;

    const expected = Array.from({ length: total }, (_, i) => i + 1);
    expect(pushed.flat().sort((a, b) => a - b)).toEqual(expected);
    expect(seen).toEqual(expected);
    // The reader really ran during the writes, not only after them.
    expect(pagesDuringWrites).toBeGreaterThan(5);
  }, 120_000);

  it('an uncommitted push holds back the cursor and the next writer until it commits', async () => {
    const app = `feed-held-${process.pid}`;
    const reader = await store();
    await reader.push(app, 'setup', [change('/first.txt', 'one')]);
    const slow = await connectClient(db.url);
    const fast = await connectClient(db.url);
    try {
      const fastPid = (await fast.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]?.pid;
      await slow.query('BEGIN');
      const held = await slow.query<{ result: Array<{ revision: number }> }>(pushSql(app, '/slow.txt'));
      expect(held.rows[0]?.result[0]?.revision).toBe(2);

      // Revision 2 exists but is not committed: the reader must not move past 1.
      expect(await reader.since(app, [SHARED_OWNER], 1)).toEqual({ rows: [], cursor: 1, more: false });

      // A second writer waits for the head lock instead of committing revision 3 first.
      const fastPush = fast.query<{ result: Array<{ revision: number }> }>(pushSql(app, '/fast.txt'));
      await waitFor(() => waitsOnLock(fastPid), 10_000, 'the second writer to wait for the head lock');
      expect(await reader.since(app, [SHARED_OWNER], 1)).toEqual({ rows: [], cursor: 1, more: false });

      await slow.query('COMMIT');
      expect((await fastPush).rows[0]?.result[0]?.revision).toBe(3);
      const page = await reader.since(app, [SHARED_OWNER], 1);
      expect(page.rows.map((row) => [row.revision, row.path])).toEqual([
        [2, '/slow.txt'],
        [3, '/fast.txt'],
      ]);
      expect(page.cursor).toBe(3);
    } finally {
      await slow.end();
      await fast.end();
    }
  });
});

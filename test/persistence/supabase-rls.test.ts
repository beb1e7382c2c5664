/**
 * The RLS policies of the migration, tested in the real server the way
 * PostgREST runs a request on Supabase: in a transaction, `SET LOCAL ROLE`
 * to the JWT's role and `request.jwt.claims` set to its claims.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import type pg from 'pg';
import { migrate } from '../../persistence/sql/migrate.js';
import { connectClient, describePostgres, useTestDatabase } from '../helpers/postgres.js';

const APP = 'rls-app';
const OTHER_APP = 'other-app';
const b64 = (text: string) => Buffer.from(text).toString('base64');

type Role = 'anon' | 'authenticated' | 'service_role';
interface Caller {
  role: Role;
  claims?: Record<string, unknown>;
}

const user = (sub: string, extra: Record<string, unknown> = {}): Caller => ({
  role: 'authenticated',
  claims: { sub, role: 'authenticated', ...extra },
});

describePostgres('Supabase RLS policies', () => {
  const db = useTestDatabase('rls');
  let client: pg.Client;

  /** Runs `work` as `caller` in one transaction (committed when `commit`), like PostgREST does per request. */
  async function as<T>(caller: Caller, work: () => Promise<T>, commit = false): Promise<T> {
    await client.query('BEGIN');
    try {
      await client.query(`SET LOCAL ROLE ${caller.role}`);
      await client.query("SELECT set_config('request.jwt.claims', $1, true)", [JSON.stringify(caller.claims ?? { role: caller.role })]);
      const result = await work();
      await client.query(commit ? 'COMMIT' : 'ROLLBACK');
      return result;
    } catch (err) {
      await client.query('ROLLBACK');
      throw err;
    }
  }

  async function call(fn: string, ...args: unknown[]): Promise<unknown> {
    const params = args.map((_, i) => `$${i + 1}`).join(', ');
    return (await client.query<{ r: unknown }>(`SELECT public.${fn}(${params}) AS r`, args)).rows[0]?.r;
  }

  const push = (app: string, owner: string, path: string, base = 0, content = path) =>
    call('scopefs_push', app, 'instance', JSON.stringify([{ owner, path, base_revision: base, content: b64(content), hash: null }]));
  const paths = async (app: string, owners: string[]) => {
    const page = (await call('scopefs_since', app, owners, 0, 100)) as { rows: Array<{ owner: string; path: string }> };
    return page.rows.map((row) => `${row.owner}:${row.path}`);
  };
  const failure = (promise: Promise<unknown>) => promise.then(() => null, (err: { code?: string; message?: string }) => err);

  beforeAll(async () => {
    await migrate(db.url);
    client = await connectClient(db.url);
    // Seeded by the table owner, which RLS does not restrict.
    await push(APP, '_shared', '/shared.md');
    await push(APP, 'u1', '/p1.md');
    await push(APP, 'u2', '/p2.md');
    await push(OTHER_APP, '_shared', '/other.md');
    await client.query("INSERT INTO scopefs.members (app, user_id) VALUES ($1, 'u2'), ($2, 'u4')", [APP, OTHER_APP]);
  });
  afterAll(() => client.end());

  it("hides another owner's private rows from since, get and history", async () => {
    await as(user('u1'), async () => {
      expect(await paths(APP, ['u1', 'u2', '_shared'])).toEqual(['u1:/p1.md']);
      expect(await call('scopefs_get', APP, 'u2', '/p2.md')).toBeNull();
      expect(await call('scopefs_history', APP, 'u2', '/p2.md', 10)).toEqual([]);
      expect(await call('scopefs_get', APP, 'u1', '/p1.md')).toMatchObject({ owner: 'u1', path: '/p1.md' });
    });
  });

  it("refuses writes to another owner's private file, whatever the base revision", async () => {
    const before = await client.query("SELECT revision, content FROM scopefs.files WHERE owner = 'u2'");
    for (const base of [0, 3, 99]) {
      const err = await failure(as(user('u1'), () => push(APP, 'u2', '/p2.md', base, 'overwritten'), true));
      expect(err?.code).toBe('42501');
    }
    const err = await failure(as(user('u1'), () => push(APP, 'u2', '/new.md', 0), true));
    expect(err?.message).toMatch(/no access to files of owner u2/);
    expect((await client.query("SELECT revision, content FROM scopefs.files WHERE owner = 'u2'")).rows).toEqual(before.rows);
  });

  it('filters direct table access too, not only the functions', async () => {
    await as(user('u1'), async () => {
      const visible = await client.query('SELECT owner, path FROM scopefs.files ORDER BY path');
      expect(visible.rows).toEqual([{ owner: 'u1', path: '/p1.md' }]);
      const updated = await client.query("UPDATE scopefs.files SET content = 'x' WHERE owner = 'u2'");
      expect(updated.rowCount).toBe(0);
    });
    const err = await failure(as(user('u1'), () => client.query("DELETE FROM scopefs.files WHERE owner = 'u1'")));
    expect(err?.code).toBe('42501');
  });

  it('lets members of an app read and write its shared files, and nobody else', async () => {
    await as(user('u2'), async () => {
      expect(await paths(APP, ['_shared', 'u2'])).toEqual(['_shared:/shared.md', 'u2:/p2.md']);
      expect(await paths(OTHER_APP, ['_shared'])).toEqual([]);
    });
    const outcome = await as(user('u2'), () => push(APP, '_shared', '/by-member.md'), true);
    expect(outcome).toMatchObject([{ status: 'ok' }]);
    expect((await failure(as(user('u2'), () => push(OTHER_APP, '_shared', '/x.md'), true)))?.code).toBe('42501');

    // u1 is no member of APP: the shared files do not exist for them.
    await as(user('u1'), async () => {
      expect(await paths(APP, ['_shared'])).toEqual([]);
      expect(await call('scopefs_get', APP, '_shared', '/shared.md')).toBeNull();
    });
    expect((await failure(as(user('u1'), () => push(APP, '_shared', '/intruder.md'), true)))?.code).toBe('42501');
  });

  it('accepts membership from the JWT claim app_metadata.apps', async () => {
    const member = user('u3', { app_metadata: { apps: [APP] } });
    await as(member, async () => expect(await paths(APP, ['_shared'])).toContain('_shared:/shared.md'));
    await as(user('u3'), async () => expect(await paths(APP, ['_shared'])).toEqual([]));
    await as(user('u3', { app_metadata: { apps: [OTHER_APP] } }), async () => {
      expect(await paths(APP, ['_shared'])).toEqual([]);
      expect(await paths(OTHER_APP, ['_shared'])).toEqual(['_shared:/other.md']);
    });
  });

  it('lets any signed-in user keep private files in an app without membership, with history', async () => {
    const [created] = (await as(user('u5'), () => push(APP, 'u5', '/mine.md', 0, 'one'), true)) as Array<{ revision: number }>;
    await as(user('u5'), () => push(APP, 'u5', '/mine.md', created!.revision, 'two'), true);
    await as(user('u5'), async () => {
      const history = (await call('scopefs_history', APP, 'u5', '/mine.md', 10)) as Array<{ content: string }>;
      expect(history.map((row) => Buffer.from(row.content, 'base64').toString())).toEqual(['two', 'one']);
      expect(Number(await call('scopefs_head', APP))).toBeGreaterThan(created!.revision);
    });
    await as(user('u1'), async () => {
      expect((await client.query('SELECT count(*)::int AS n FROM scopefs.file_history')).rows[0]?.n).toBe(0);
    });
  });

  it('shows a user only their own membership rows', async () => {
    await as(user('u2'), async () => {
      expect((await client.query('SELECT app, user_id FROM scopefs.members')).rows).toEqual([{ app: APP, user_id: 'u2' }]);
    });
    const err = await failure(as(user('u2'), () => client.query("INSERT INTO scopefs.members VALUES ('x', 'u2')")));
    expect(err?.code).toBe('42501');
  });

  it('gives anon nothing but the schema version', async () => {
    const anon: Caller = { role: 'anon' };
    expect(await as(anon, () => call('scopefs_schema_version'))).toBeGreaterThan(0);
    for (const attempt of [() => call('scopefs_head', APP), () => call('scopefs_since', APP, ['_shared'], 0, 10), () => push(APP, '_shared', '/a.md')]) {
      expect((await failure(as(anon, attempt)))?.code).toBe('42501');
    }
  });

  it('lets the service role see everything', async () => {
    await as({ role: 'service_role' }, async () => {
      expect(await paths(APP, ['_shared', 'u1', 'u2'])).toEqual(
        expect.arrayContaining(['_shared:/shared.md', 'u1:/p1.md', 'u2:/p2.md']),
      );
    });
  });
});

/**
 * Many scopes in one process, as `serve --data` runs them (a ScopePool on a
 * real PostgreSQL store, each scope its own app):
 * 1. N distinct scopes touched in turn (start, one write, release) with at
 *    most `maxActive` running: RSS, open file descriptors and PostgreSQL
 *    connections as N grows (goal: connections independent of N).
 * 2. Cold start of a scope with 1,000 files from a warm store (SQLite and
 *    PostgreSQL) on an empty disk: p50/p99 from acquire to the first read
 *    answered with the file's content.
 * 3. Idle cost of `maxActive` running, unused scopes: CPU (share of a core)
 *    and the queries the process sends per minute (goal: no per-scope
 *    polling), beside the server's transaction count (pg_stat_database),
 *    which also counts the server's own background work.
 *
 *   node --import tsx bench/tenants.ts [--scopes 10000] [--max-active 500] [--cold-runs 20] [--idle-seconds 30]
 * Uses SCOPEFS_BENCH_POSTGRES_URL (default postgres://postgres@127.0.0.1:5432/postgres).
 */
import { randomBytes } from 'node:crypto';
import { readdirSync } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { migrate } from '../persistence/sql/migrate.js';
import { ScopePool } from '../supervisors/scope/scope-pool.js';
import { goalRow, percentile, runIfMain, withTempDir, type BenchRow } from './lib.js';

const ADMIN_URL = process.env.SCOPEFS_BENCH_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

export interface TenantsOptions {
  scopes: number;
  maxActive: number;
  coldRuns: number;
  coldFiles: number;
  idleSeconds: number;
}

const DEFAULTS: TenantsOptions = { scopes: 10_000, maxActive: 500, coldRuns: 20, coldFiles: 1_000, idleSeconds: 30 };

export async function run(options: TenantsOptions = DEFAULTS): Promise<BenchRow[]> {
  return withTempDir('tenants', async (dir) => {
    const db = await createDatabase();
    try {
      await migrate(db.url);
      // The long part last; each part's rows go to stderr as soon as they are measured.
      const rows: BenchRow[] = [];
      const part = async (measured: Promise<BenchRow[]>) => {
        const got = await measured;
        for (const row of got) console.error(`[tenants] ${row.bench} | ${row.metric} | ${row.value}`);
        rows.push(...got);
      };
      await part(coldStarts(`sqlite:${join(dir, 'cold-store.db')}`, 'sqlite', join(dir, 'cold-sqlite'), options));
      await part(coldStarts(db.url, 'postgres', join(dir, 'cold-pg'), options));
      await part(idleCost(db, join(dir, 'idle'), options));
      await part(touchMany(db, join(dir, 'touch'), options));
      return rows;
    } finally {
      await db.drop();
    }
  });
}

interface Database {
  name: string;
  url: string;
  connections(): Promise<number>;
  transactions(): Promise<number>;
  drop(): Promise<void>;
}

async function createDatabase(): Promise<Database> {
  const name = `scopefs_bench_tenants_${randomBytes(4).toString('hex')}`;
  const admin = new pg.Client({ connectionString: ADMIN_URL });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${pg.escapeIdentifier(name)}`);
  const url = new URL(ADMIN_URL);
  url.pathname = `/${name}`;
  const count = async (sql: string) => Number((await admin.query<{ n: string }>(sql, [name])).rows[0]!.n);
  return {
    name,
    url: url.toString(),
    connections: () => count('SELECT count(*) AS n FROM pg_stat_activity WHERE datname = $1'),
    // Commits and rollbacks: every statement outside an explicit transaction is one.
    transactions: async () => {
      await admin.query('SELECT pg_stat_clear_snapshot()');
      return count('SELECT xact_commit + xact_rollback AS n FROM pg_stat_database WHERE datname = $1');
    },
    drop: async () => {
      await admin.query(`DROP DATABASE IF EXISTS ${pg.escapeIdentifier(name)} WITH (FORCE)`);
      await admin.end();
    },
  };
}

function poolOn(store: string, dataDir: string, maxActive: number): ScopePool {
  return new ScopePool({
    dataDir,
    maxActive,
    idleMs: 24 * 3_600_000, // only eviction at the cap stops scopes here
    scopeOptions: (key) => ({ watch: false, audit: { enabled: false }, sync: { store, app: key } }),
  });
}

const mib = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(0)} MiB`;
const openFds = () => readdirSync('/proc/self/fd').length;

async function touchMany(db: Database, dataDir: string, options: TenantsOptions): Promise<BenchRow[]> {
  await mkdir(dataDir, { recursive: true });
  const pool = poolOn(db.url, dataDir, options.maxActive);
  const samples: Array<{ touched: number; rss: number; fds: number; pg: number }> = [];
  const started = performance.now();
  const sampleEvery = Math.max(1, Math.floor(options.scopes / 10));
  try {
    for (let i = 0; i < options.scopes; i++) {
      await pool.withScope(`tenant/${i}`, (scope) => scope.fs.writeFile('/hello.md', `tenant ${i}`));
      if ((i + 1) % sampleEvery === 0) {
        const sample = { touched: i + 1, rss: process.memoryUsage().rss, fds: openFds(), pg: await db.connections() };
        samples.push(sample);
        console.error(`[tenants] touched ${sample.touched} in ${((performance.now() - started) / 1000).toFixed(0)} s: RSS ${mib(sample.rss)}, ${sample.fds} fds, ${sample.pg} PostgreSQL connections`);
      }
    }
  } finally {
    await pool.stop();
  }
  const totalMs = performance.now() - started;
  const name = `tenants touch (max ${options.maxActive} active, PostgreSQL)`;
  const first = samples.find((s) => s.touched >= options.maxActive) ?? samples[0]!;
  const last = samples.at(-1)!;
  const pgMax = Math.max(...samples.map((s) => s.pg));
  return [
    { bench: name, metric: `${options.scopes} scopes touched in turn`, value: `${(totalMs / 1000).toFixed(1)} s (${(totalMs / options.scopes).toFixed(1)} ms per scope)` },
    { bench: name, metric: `RSS at ${first.touched} / ${last.touched} scopes`, value: `${mib(first.rss)} / ${mib(last.rss)}` },
    { bench: name, metric: `open fds at ${first.touched} / ${last.touched} scopes`, value: `${first.fds} / ${last.fds}` },
    // A pool's connections come and go by a few: the goal is that they do not grow with the scopes touched.
    goalRow(name, `PostgreSQL connections at ${first.touched} / ${last.touched} scopes (max ${pgMax})`, last.pg - first.pg, `${first.pg} / ${last.pg}`, {
      max: 2,
      text: 'independent of the number of scopes',
    }),
  ];
}

async function coldStarts(store: string, label: string, dir: string, options: TenantsOptions): Promise<BenchRow[]> {
  const seed = poolOn(store, join(dir, 'seed'), 1);
  const last = `/docs/file-${options.coldFiles - 1}.md`;
  await seed.withScope('cold', async (scope) => {
    for (let i = 0; i < options.coldFiles; i++) await scope.fs.writeFile(`/docs/file-${i}.md`, `# file ${i}\n${'text '.repeat(40)}`);
    await scope.sync!.idle({ timeoutMs: 120_000 });
  });
  await seed.stop();
  const times: number[] = [];
  for (let run = 0; run < options.coldRuns; run++) {
    const dataDir = join(dir, `run-${run}`);
    const pool = poolOn(store, dataDir, 1);
    const started = performance.now();
    await pool.withScope('cold', async (scope) => {
      for (;;) {
        const text = await scope.fs.readFile(last).catch(() => undefined);
        if (text !== undefined) return;
        await new Promise((resolve) => setTimeout(resolve, 2));
      }
    });
    times.push(performance.now() - started);
    await pool.stop();
    await rm(dataDir, { recursive: true, force: true });
  }
  times.sort((a, b) => a - b);
  return [
    {
      bench: `tenants cold start (${label})`,
      metric: `${options.coldFiles}-file scope, empty disk, warm store: to first answered read, p50 / p99 (${options.coldRuns} runs)`,
      value: `${percentile(times, 0.5).toFixed(0)} ms / ${percentile(times, 0.99).toFixed(0)} ms`,
    },
  ];
}

async function idleCost(db: Database, dataDir: string, options: TenantsOptions): Promise<BenchRow[]> {
  const pool = poolOn(db.url, dataDir, options.maxActive);
  try {
    for (let i = 0; i < options.maxActive; i++) {
      await pool.withScope(`idle/${i}`, async (scope) => {
        await scope.fs.writeFile('/hello.md', `idle ${i}`);
        await scope.sync!.idle({ timeoutMs: 60_000 });
      });
    }
    await new Promise((resolve) => setTimeout(resolve, 3_000)); // let start-up work (first reports, checkpoints) finish
    const beforeTx = await db.transactions();
    const sent = countQueries();
    const cpu = process.cpuUsage();
    const started = performance.now();
    await new Promise((resolve) => setTimeout(resolve, options.idleSeconds * 1000));
    const used = process.cpuUsage(cpu);
    const wallMs = performance.now() - started;
    const queries = sent.stop();
    const tx = (await db.transactions()) - beforeTx - 1; // minus the measuring query's own snapshot
    const perMinute = (n: number) => (n / wallMs) * 60_000;
    const share = (used.user + used.system) / 1000 / wallMs;
    const name = `tenants idle (${options.maxActive} active, unused, PostgreSQL)`;
    return [
      goalRow(name, 'CPU', share, `${(share * 100).toFixed(2)} % of a core`, { max: 0.01, text: '< 1% of a core' }),
      goalRow(name, 'queries the process sent per minute', perMinute(queries), `${perMinute(queries).toFixed(1)}`, { max: options.maxActive / 10, text: 'no per-scope polling' }),
      // The server's count includes its own background work on the freshly filled database (autovacuum, analyze).
      { bench: name, metric: 'transactions per minute in pg_stat_database (server side)', value: `${perMinute(tx).toFixed(0)}` },
      { bench: name, metric: 'PostgreSQL connections', value: `${await db.connections()}` },
    ];
  } finally {
    await pool.stop();
  }
}

/** Counts the queries every pg client of this process sends from now until `stop()`. */
function countQueries(): { stop: () => number } {
  const proto = pg.Client.prototype as unknown as { query: (...args: unknown[]) => unknown };
  const original = proto.query;
  let count = 0;
  proto.query = function (this: unknown, ...args: unknown[]) {
    count++;
    return original.apply(this, args);
  };
  return {
    stop: () => {
      proto.query = original;
      return count;
    },
  };
}

function optionsFromArgs(): TenantsOptions {
  const { values } = parseArgs({
    options: {
      scopes: { type: 'string' },
      'max-active': { type: 'string' },
      'cold-runs': { type: 'string' },
      'cold-files': { type: 'string' },
      'idle-seconds': { type: 'string' },
    },
  });
  const num = (value: string | undefined, fallback: number) => (value === undefined ? fallback : Number(value));
  return {
    scopes: num(values.scopes, DEFAULTS.scopes),
    maxActive: num(values['max-active'], DEFAULTS.maxActive),
    coldRuns: num(values['cold-runs'], DEFAULTS.coldRuns),
    coldFiles: num(values['cold-files'], DEFAULTS.coldFiles),
    idleSeconds: num(values['idle-seconds'], DEFAULTS.idleSeconds),
  };
}

await runIfMain(import.meta.url, () => run(optionsFromArgs()));

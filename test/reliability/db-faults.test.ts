/**
 * Database faults under load: another process holds the SQLite store file
 * locked, store calls time out (injected, and real PostgreSQL statement
 * timeouts behind a table lock). Throughout, every instance keeps serving
 * reads and writes from its filesystem and reports that it is not live;
 * afterwards they converge and nothing acknowledged is lost.
 * (PostgreSQL stopped and restarted: pg-restart.test.ts.)
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStore } from '../../persistence/stores/open-store.js';
import type { SyncStore } from '../../persistence/stores/types.js';
import { adminQuery, connectClient, describePostgres, useTestDatabase } from '../helpers/postgres.js';
import { Cluster } from './harness/cluster.js';
import { loadThroughFault, type FaultWindowReport } from './harness/fault-window.js';
import { LONG, printFigures } from './harness/settings.js';


const LOCKER = fileURLToPath(new URL('./fixtures/sqlite-locker.ts', import.meta.url));
/** Longer than the SQLite store's 5 s busy timeout, so pushes really fail. */
const LOCK_MS = LONG ? 30_000 : 7_000;
const TIMEOUT_WINDOW_MS = LONG ? 20_000 : 4_000;
/** The filesystem must answer within this while the database is unusable. */
const SERVING_BUDGET_MS = 1_500;
const TEST_TIMEOUT_MS = 180_000;

let cluster: Cluster;
let dir: string;
const figures = { faultWindows: 0, opsDuringFaults: 0, acknowledged: 0, maxLatencyMs: 0, lost: 0 };

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'scopefs-rel-dbf-'));
  cluster = await Cluster.start(3);
}, 60_000);

afterAll(async () => {
  printFigures('db-faults', figures);
  await cluster?.shutdown();
  await rm(dir, { recursive: true, force: true });
}, 60_000);

/** Runs the load through one fault window on a fresh app and checks the common promises. */
async function throughFault(store: { url: string; view: SyncStore }, app: string, seed: number, holdMs: number, inject: () => Promise<() => Promise<void>>): Promise<FaultWindowReport> {
  await cluster.begin({ dir: join(dir, app), store: store.url, view: store.view, app });
  try {
    const report = await loadThroughFault({ cluster, view: store.view, app, seed, holdMs, inject });
    figures.faultWindows++;
    figures.opsDuringFaults += report.opsDuringFault;
    figures.acknowledged += report.acknowledged;
    figures.maxLatencyMs = Math.max(figures.maxLatencyMs, report.maxLatencyDuringFaultMs);
    figures.lost += report.problems.filter((p) => p.startsWith('LOST')).length;
    expect(report.problems, `${app} (seed ${seed})`).toEqual([]);
    expect(report.opsDuringFault).toBeGreaterThan(0);
    expect(report.maxLatencyDuringFaultMs, 'the filesystem kept serving while the database was unusable').toBeLessThan(SERVING_BUDGET_MS);
    return report;
  } finally {
    await cluster.end();
  }
}

/** Every instance left `live` during the fault (and came back, which verification checked). */
function expectReportedTrouble(report: FaultWindowReport, states: string[]): void {
  for (const [instance, entered] of Object.entries(report.states)) {
    expect(entered.some((s) => states.includes(s)), `${instance} entered ${entered.join(' > ')}`).toBe(true);
  }
}

describe('SQLite store faults', () => {
  it('another process holds the store file locked (BEGIN EXCLUSIVE) longer than the busy timeout', async () => {
    const file = join(dir, 'locked.db');
    const view = await openStore(`sqlite:${file}`);
    try {
      const report = await throughFault({ url: `sqlite:${file}`, view }, 'sqlite-lock', 7_001, LOCK_MS, () => holdSqliteLock(file));
      expectReportedTrouble(report, ['backing_off', 'offline']);
    } finally {
      await view.close();
    }
  }, TEST_TIMEOUT_MS);

  it('every store call hangs and then times out (injected)', async () => {
    const file = join(dir, 'slow.db');
    const view = await openStore(`sqlite:${file}`);
    try {
      const report = await throughFault({ url: `sqlite:${file}`, view }, 'sqlite-timeouts', 7_002, TIMEOUT_WINDOW_MS, async () => {
        await allInstances('fault', { fault: { mode: 'timeout', delayMs: 1_000 } });
        return () => allInstances('fault', { fault: { mode: 'ok' } });
      });
      expectReportedTrouble(report, ['backing_off', 'offline']);
    } finally {
      await view.close();
    }
  }, TEST_TIMEOUT_MS);
});

describePostgres('PostgreSQL statement timeouts', () => {
  const db = useTestDatabase('rel_dbf');

  it('statements time out while another session holds the files table locked', async () => {
    const view = await openStore(db.url);
    try {
      // New sessions of this database (the instances' pools) get a short statement timeout.
      await adminQuery(`ALTER DATABASE ${pg.escapeIdentifier(db.name)} SET statement_timeout = '300ms'`);
      const report = await throughFault({ url: db.url, view }, 'pg-timeouts', 7_003, TIMEOUT_WINDOW_MS, () => lockFilesTable(db.url));
      expectReportedTrouble(report, ['backing_off', 'offline']);
    } finally {
      await view.close();
    }
  }, TEST_TIMEOUT_MS);
});

async function allInstances(op: string, args: Record<string, unknown>): Promise<void> {
  await Promise.all(Array.from({ length: cluster.size }, (_, i) => cluster.call(i, op, args)));
}

/** A separate process takes the SQLite write lock; the returned function makes it let go. */
async function holdSqliteLock(file: string): Promise<() => Promise<void>> {
  const locker = spawn(process.execPath, ['--import', 'tsx', LOCKER, file, String(10 * 60_000)], { stdio: ['pipe', 'pipe', 'inherit'] });
  const lines = createInterface({ input: locker.stdout! })[Symbol.asyncIterator]();
  const first = await lines.next();
  if (first.value !== 'locked') throw new Error(`the locker did not take the lock (said ${JSON.stringify(first.value)})`);
  return async () => {
    const exited = once(locker, 'exit');
    locker.stdin!.end();
    await exited;
  };
}

/** A session that holds ACCESS EXCLUSIVE on the files table: every store statement waits, then times out. */
async function lockFilesTable(url: string): Promise<() => Promise<void>> {
  const client = await connectClient(url);
  await client.query('SET statement_timeout = 0');
  await client.query('BEGIN');
  await client.query('LOCK TABLE scopefs.files IN ACCESS EXCLUSIVE MODE');
  return async () => {
    await client.query('COMMIT');
    await client.end();
  };
}

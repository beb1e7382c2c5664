/**
 * PostgreSQL stopped and restarted during load: three instances keep
 * writing through the outage, serve every operation from their filesystem,
 * report that they are not live, then reconnect, catch up and converge with
 * nothing acknowledged lost. The instances open the store URL themselves (no
 * fault proxy), so reconnecting is entirely the engine's own doing.
 *
 * Serial (`*.serial.test.ts`, see vitest.config.ts): it takes the shared
 * server down, which no other test file may see. It always starts the server
 * again and waits until it accepts connections before finishing.
 */
import { execFile } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { openStore } from '../../persistence/stores/open-store.js';
import type { SyncStore } from '../../persistence/stores/types.js';
import { adminQuery, describePostgres, useTestDatabase, waitFor } from '../helpers/postgres.js';
import { Cluster } from './harness/cluster.js';
import { loadThroughFault, type FaultWindowReport } from './harness/fault-window.js';
import { LONG, printFigures } from './harness/settings.js';


const CLUSTERS_DIR = '/etc/postgresql';
const DOWN_MS = LONG ? 30_000 : 4_000;
const SERVING_BUDGET_MS = 1_500;
const TEST_TIMEOUT_MS = 240_000;

describePostgres('PostgreSQL stopped and restarted during load', () => {
  const db = useTestDatabase('rel_pgrestart');
  const figures = { outages: 0, opsDuringOutages: 0, acknowledged: 0, maxLatencyMs: 0, lost: 0 };
  let cluster: Cluster;
  let view: SyncStore;
  let dir: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'scopefs-rel-pgr-'));
    view = await openStore(db.url);
    cluster = await Cluster.start(3);
  }, 60_000);

  afterAll(async () => {
    // Whatever happened, leave the server running for whoever comes next.
    await postgres('start').catch(() => undefined);
    await untilAcceptingConnections();
    printFigures('pg-restart', figures);
    await cluster?.shutdown();
    await view?.close();
    await rm(dir, { recursive: true, force: true });
  }, 120_000);

  /** `everyInstance`: each must have noticed (a long outage); otherwise at least one (a fast restart can fall between two pushes). */
  async function throughOutage(app: string, seed: number, everyInstance: boolean, inject: () => Promise<() => Promise<void>>): Promise<FaultWindowReport> {
    await cluster.begin({ dir: join(dir, app), store: db.url, view, app, faulty: false });
    try {
      const report = await loadThroughFault({ cluster, view, app, seed, holdMs: DOWN_MS, inject });
      figures.outages++;
      figures.opsDuringOutages += report.opsDuringFault;
      figures.acknowledged += report.acknowledged;
      figures.maxLatencyMs = Math.max(figures.maxLatencyMs, report.maxLatencyDuringFaultMs);
      figures.lost += report.problems.filter((p) => p.startsWith('LOST')).length;
      expect(report.problems, `${app} (seed ${seed})`).toEqual([]);
      expect(report.maxLatencyDuringFaultMs, 'the filesystem kept serving while the server was down').toBeLessThan(SERVING_BUDGET_MS);
      const noticed = Object.values(report.states).map((states) => states.some((s) => s === 'backing_off' || s === 'offline'));
      const summary = JSON.stringify(report.states);
      if (everyInstance) expect(noticed.every(Boolean), summary).toBe(true);
      else expect(noticed.some(Boolean), summary).toBe(true);
      return report;
    } finally {
      await cluster.end();
    }
  }

  it.skipIf(!existsSync(CLUSTERS_DIR))('the server is stopped for a while under load, then started', async () => {
    await throughOutage('pg-stop-start', 8_001, true, async () => {
      await postgres('stop');
      return async () => {
        await postgres('start');
        await untilAcceptingConnections();
      };
    });
  }, TEST_TIMEOUT_MS);

  it.skipIf(!existsSync(CLUSTERS_DIR))('the server restarts (fast) in the middle of the load', async () => {
    await throughOutage('pg-restart', 8_002, false, async () => {
      const restarting = postgres('restart');
      return async () => {
        await restarting;
        await untilAcceptingConnections();
      };
    });
  }, TEST_TIMEOUT_MS);
});

/** `pg_ctlcluster <version> main <action>` for the local cluster. */
async function postgres(action: 'stop' | 'start' | 'restart'): Promise<void> {
  const version = readdirSync(CLUSTERS_DIR)[0]!;
  await promisify(execFile)('pg_ctlcluster', ['--skip-systemctl-redirect', version, 'main', action]);
}

function untilAcceptingConnections(): Promise<void> {
  return waitFor(() => adminQuery('SELECT 1').then(() => true, () => false), 60_000, 'PostgreSQL to accept connections');
}

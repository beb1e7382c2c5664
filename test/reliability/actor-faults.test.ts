/**
 * Actor faults: the sync actor and agents crash in loops. Within the restart
 * intensity the filesystem never notices (same files, no restart of its
 * actor, no pending change lost); beyond it the failure escalates exactly as
 * docs/architecture.md says (the scope tree stops its children in reverse
 * order and exits with RestartIntensityError), and stopping, voluntary or
 * not, still flushes every pending write to disk.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { isScopeFsError } from '../../src/errors.js';
import type { ExitReason } from '../../supervisors/runtime/actor.js';
import { RestartIntensityError } from '../../supervisors/runtime/restart-intensity.js';
import { startScope, type RunningScope, type ScopeOptions } from '../../supervisors/scope/scopes.js';
import type { ChildEvent } from '../../supervisors/runtime/supervisor.js';
import type { AgentSpec } from '../../supervisors/scope/agent.js';
import { printFigures } from './harness/settings.js';

const SYNC_CRASHES = 30;
/** Debounced with a long window: only a flush puts an update on disk, so a test can see that one happened. */
const FLUSH_ONLY = { durability: 'debounced', debounceMs: 600_000 } as const;

let dir: string;
let counter = 0;
const scopes: RunningScope[] = [];
const figures = { syncCrashes: 0, agentCrashes: 0, escalations: 0 };

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'scopefs-rel-actor-'));
});
afterEach(async () => {
  await Promise.all(scopes.splice(0).map((s) => s.stop().catch(() => undefined)));
  await rm(dir, { recursive: true, force: true });
});
afterAll(() => printFigures('actor-faults', figures));

/** Polls a condition with a deadline (the agent loop has no event to await). */
async function until(condition: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

async function start(name: string, options: Partial<ScopeOptions> = {}): Promise<RunningScope> {
  const scope = await startScope({
    scopeKey: ['actor-faults', ++counter, name],
    root: join(dir, name),
    watch: false,
    sync: { store: `sqlite:${join(dir, 'store.db')}`, app: 'actors', instanceId: name, debounceMs: 10, backoff: { initialMs: 20, maxMs: 200 } },
    ...options,
  });
  scopes.push(scope);
  return scope;
}

/** Crashes a child and resolves when the supervisor has restarted it. */
function crashAndAwaitRestart(scope: RunningScope, id: string): Promise<void> {
  const restarted = childEvent(scope, (e) => e.type === 'restarted' && e.id === id);
  scope.supervisor.child(id)!.exit(new Error(`injected crash of ${id}`));
  return restarted.then(() => undefined);
}

function childEvent(scope: RunningScope, match: (event: ChildEvent) => boolean): Promise<ChildEvent> {
  return new Promise((resolve) => {
    const off = scope.supervisor.onChildEvent((event) => {
      if (!match(event)) return;
      off();
      resolve(event);
    });
  });
}

function exitOf(scope: RunningScope): Promise<ExitReason> {
  return new Promise((resolve) => scope.supervisor.onExit(resolve));
}

async function filesOf(scope: RunningScope): Promise<Record<string, string>> {
  const paths = (await scope.fs.listFiles('/')).filter((p) => !p.startsWith('/.sync') && !p.startsWith('/application-state/'));
  return Object.fromEntries(await Promise.all(paths.map(async (p) => [p, await scope.fs.readFile(p)] as const)));
}

function restartsOf(scope: RunningScope, id: string): number {
  return scope.tree().find((c) => c.id === id)?.restarts ?? -1;
}

describe('sync actor crashing in a loop', () => {
  it('leaves the filesystem untouched and still pushes every change once it stays up', async () => {
    const a = await start('a', { intensity: { maxRestarts: 1_000, withinMs: 1_000 } });
    const b = await start('b');
    const expected: Record<string, string> = {};
    for (let i = 0; i < SYNC_CRASHES; i++) {
      const path = `/loop/${i % 7}.md`;
      expected[path] = `version ${i}`;
      await a.fs.writeFile(path, expected[path]);
      // Crash while the pass for that write is likely running.
      await crashAndAwaitRestart(a, 'sync');
      figures.syncCrashes++;
      expect(await filesOf(a)).toEqual(expected);
    }
    expect(restartsOf(a, 'fs')).toBe(0);
    expect(restartsOf(a, 'sync')).toBe(SYNC_CRASHES);
    for (let round = 0; round < 2; round++) for (const s of [a, b]) await s.sync!.idle({ timeoutMs: 30_000 });
    expect(await filesOf(b)).toEqual(expected);
    expect((await a.sync!.status()).pending).toEqual([]);
  }, 60_000);

  it('beyond the restart intensity takes the scope down in reverse order, flushing the filesystem', async () => {
    const scope = await start('escalating', FLUSH_ONLY);
    await scope.fs.writeFile('/draft.md', 'created');
    await scope.fs.writeFile('/draft.md', 'updated, only in memory until a flush');
    const exited = exitOf(scope);
    // Default intensity: 3 restarts in 5 s are allowed, the 4th crash is one too many.
    for (let i = 0; i < 3; i++) await crashAndAwaitRestart(scope, 'sync');
    const order: string[] = [];
    scope.supervisor.onChildEvent((e) => {
      if (e.type === 'exited') order.push(e.id);
    });
    scope.supervisor.child('sync')!.exit(new Error('injected crash, one too many'));
    const reason = await exited;
    figures.syncCrashes += 4;
    figures.escalations++;
    expect(reason).toBeInstanceOf(RestartIntensityError);
    // The crashed sync child first, then the others in reverse start order: agents, then fs last.
    expect(order).toEqual(['sync', 'agents', 'fs']);
    expect(await readFile(join(dir, 'escalating', 'draft.md'), 'utf8')).toBe('updated, only in memory until a flush');
    await expect(scope.fs.readFile('/draft.md')).rejects.toSatisfy((err) => isScopeFsError(err, 'ESTOPPED'));
    await scope.stop(); // a scope that already gave up stops without complaint
  }, 30_000);
});

describe('agents crashing in a loop', () => {
  /**
   * An agent that appends one line, then crashes; counts the appends that
   * were acknowledged. It lets the event loop turn before crashing: a loop
   * that never does starves the process (findings.test.ts, restart-loop-starves-event-loop).
   */
  function crashingAgent(counted: { appends: number }): AgentSpec {
    return {
      id: 'looper',
      run: async ({ fs }) => {
        await fs.appendFile('/agent.log', 'ran\n');
        counted.appends++;
        await new Promise((resolve) => setImmediate(resolve));
        throw new Error('agent bug');
      },
    };
  }

  it('beyond its intensity stop only that agent, reported; the scope keeps running and every append is flushed', async () => {
    const counted = { appends: 0 };
    const scope = await start('agents-contained', { ...FLUSH_ONLY, agents: [crashingAgent(counted)] });
    const stopped = new Promise<{ id: string; reason: string; restarts: number }>((resolve) => {
      const unsubscribe = scope.agents.subscribe((event) => {
        if (event.type !== 'agent_stopped') return;
        unsubscribe();
        resolve(event);
      });
    });
    const event = await stopped;
    figures.agentCrashes += counted.appends;
    expect(event).toMatchObject({ id: 'looper' });
    expect(event.reason).toMatch(/agent bug/);
    // The agent's cell allows 3 restarts (4 runs); nothing above it restarts it again.
    expect(counted.appends).toBe(4);
    expect(scope.agents.list().find((agent) => agent.id === 'looper')).toMatchObject({ status: 'crashed' });
    // The filesystem never noticed: it still answers, and was never restarted.
    await scope.fs.writeFile('/after.md', 'written after the agent was stopped');
    expect(restartsOf(scope, 'fs')).toBe(0);
    await scope.stop();
    expect(await readFile(join(dir, 'agents-contained', 'agent.log'), 'utf8')).toBe('ran\n'.repeat(counted.appends));
    expect(await readFile(join(dir, 'agents-contained', 'after.md'), 'utf8')).toBe('written after the agent was stopped');
  }, 30_000);

  it('within a generous intensity leave the filesystem alone, and stop() in the middle still flushes', async () => {
    const counted = { appends: 0 };
    const scope = await start('agents-stop', {
      ...FLUSH_ONLY,
      intensity: { maxRestarts: 100_000, withinMs: 1_000 },
      agents: [crashingAgent(counted)],
    });
    await scope.fs.writeFile('/keep.md', 'written before the crash loop');
    await until(() => counted.appends >= 200, 20_000, '200 agent crashes');
    expect(await scope.fs.readFile('/keep.md')).toBe('written before the crash loop');
    expect(restartsOf(scope, 'fs')).toBe(0);
    await scope.stop();
    figures.agentCrashes += counted.appends;
    const log = await readFile(join(dir, 'agents-stop', 'agent.log'), 'utf8');
    expect(log).toBe('ran\n'.repeat(counted.appends));
    expect(await readFile(join(dir, 'agents-stop', 'keep.md'), 'utf8')).toBe('written before the crash loop');
  }, 30_000);
});


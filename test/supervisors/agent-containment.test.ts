import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startScope } from 'scopefs';
import type { AgentEvent } from '../../supervisors/scope/agents.js';

let dir: string;
let counter = 0;
const key = (name: string) => ['agent-containment', ++counter, name];

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'scopefs-agents-'));
});
afterEach(() => rm(dir, { recursive: true, force: true }));

describe('an agent that exceeds its restart intensity', () => {
  it('is stopped and reported while the filesystem and the other agents keep running', async () => {
    let loops = 0;
    let idleRuns = 0;
    const scope = await startScope({
      scopeKey: key('loop'),
      root: join(dir, 'root'),
      agents: [
        // The README's old mistake: a run-once agent left `permanent` reruns in a loop.
        { id: 'once', restart: 'permanent', run: async ({ fs }) => void (await fs.writeFile('/out.md', `run ${++loops}`)) },
        { id: 'idle', run: ({ signal }) => (idleRuns++, waitForAbort(signal)) },
      ],
    });
    try {
      const stopped = await new Promise<AgentEvent>((resolve) => {
        const seen = scope.agents.stopped();
        if (seen[0]) resolve(seen[0]);
        scope.agents.subscribe(resolve);
      });
      expect(stopped).toMatchObject({ type: 'agent_stopped', id: 'once', restarts: 3 });
      expect(stopped.reason).toMatch(/restart intensity exceeded/);
      expect(stopped.reason).toMatch(/restart: 'transient'/);

      // The filesystem still answers, and so does the rest of the tree.
      await scope.fs.writeFile('/after.md', 'still here');
      expect(await scope.fs.readFile('/after.md')).toBe('still here');
      expect(await scope.fs.readFile('/out.md')).toBe('run 4');
      const [fs, agents] = scope.tree();
      expect(fs).toMatchObject({ id: 'fs', status: 'running', restarts: 0 });
      expect(agents).toMatchObject({ id: 'agents', status: 'running', restarts: 0 });
      expect(agents!.children!.map((c) => [c.id, c.status])).toEqual([
        ['once', 'crashed'],
        ['idle', 'running'],
      ]);
      expect(agents!.children![0]).toMatchObject({ restarts: 3, reason: stopped.reason });
      expect(idleRuns).toBe(1);
      expect(scope.agents.list().map((a) => [a.id, a.status])).toEqual([
        ['once', 'crashed'],
        ['idle', 'running'],
      ]);
    } finally {
      await scope.stop();
    }
  });

  it('a transient run-once agent ends normally and is not rerun', async () => {
    let runs = 0;
    const scope = await startScope({
      scopeKey: key('transient'),
      agents: [{ id: 'once', restart: 'transient', run: () => void runs++ }],
    });
    try {
      await until(() => scope.agents.list()[0]?.status === 'stopped');
      expect(runs).toBe(1);
      expect(scope.agents.stopped()).toEqual([]);
    } finally {
      await scope.stop();
    }
  });

  it('a temporary agent that crashes shows as crashed, is not rerun, and is not reported as stopped for intensity', async () => {
    let runs = 0;
    const scope = await startScope({
      scopeKey: key('temporary'),
      agents: [{ id: 'once', restart: 'temporary', run: () => { runs++; throw new Error('bad input'); } }],
    });
    try {
      await until(() => scope.agents.list()[0]?.status === 'crashed');
      expect(runs).toBe(1);
      expect(scope.agents.stopped()).toEqual([]);
      expect(scope.tree().map((c) => c.status)).toEqual(['running', 'running']);
    } finally {
      await scope.stop();
    }
  });

  it('a crash loop under a per-agent intensity stops only that agent', async () => {
    const scope = await startScope({
      scopeKey: key('per-agent'),
      agents: [{ id: 'crashy', intensity: { maxRestarts: 1, withinMs: 60_000 }, run: () => { throw new Error('boom'); } }],
    });
    try {
      const stopped = await new Promise<AgentEvent>((resolve) => {
        scope.agents.stopped()[0] ? resolve(scope.agents.stopped()[0]!) : scope.agents.subscribe(resolve);
      });
      expect(stopped).toMatchObject({ id: 'crashy', restarts: 1 });
      expect(stopped.reason).toMatch(/boom/);
      await scope.fs.writeFile('/ok.md', 'ok');
      expect(scope.tree().every((c) => c.status === 'running')).toBe(true);
    } finally {
      await scope.stop();
    }
  });
});

describe('a stopped agent and the rest of the tree', () => {
  it('stays stopped when a sync crash restarts the agents subtree, while the other agents restart', async () => {
    let steadyRuns = 0;
    const scope = await startScope({
      scopeKey: key('sync-crash'),
      sync: { store: `memory:agent-containment-${process.pid}-${counter}`, app: 'agents', debounceMs: 1 },
      agents: [
        { id: 'loop', run: () => undefined },
        { id: 'steady', run: ({ signal }) => (steadyRuns++, waitForAbort(signal)) },
      ],
    });
    try {
      await new Promise<AgentEvent>((resolve) => (scope.agents.stopped()[0] ? resolve(scope.agents.stopped()[0]!) : scope.agents.subscribe(resolve)));
      const restarted = new Promise<void>((resolve) =>
        scope.supervisor.onChildEvent((event) => event.type === 'restarted' && event.id === 'agents' && resolve()),
      );
      scope.supervisor.child('sync')!.exit(new Error('injected sync crash'));
      await restarted;
      expect(steadyRuns).toBe(2);
      expect(scope.agents.list().map((a) => [a.id, a.status])).toEqual([
        ['loop', 'crashed'],
        ['steady', 'running'],
      ]);
      expect(scope.agents.stopped()).toHaveLength(1);
      await scope.fs.writeFile('/ok.md', 'ok');
    } finally {
      await scope.stop();
    }
  });
});

function waitForAbort(signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }));
}

/** Polls a status that has no event of its own (a transient agent ending normally). */
async function until(check: () => boolean, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

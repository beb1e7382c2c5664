/**
 * Agents with isolation 'transaction': a normal return commits the run, a
 * crash discards it before the restart type applies, and two agents editing
 * one file either both commit (disjoint edits) or the later one is rerun on
 * the new state (overlapping edits), never half-applied.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { TransactionEvent } from '../../src/transactions/types.js';
import type { AgentSpec } from '../../supervisors/scope/agent.js';
import { startScope, type RunningScope } from '../../supervisors/scope/scopes.js';

const scopes: RunningScope[] = [];
const roots: string[] = [];
afterEach(async () => {
  await Promise.all(scopes.splice(0).map((scope) => scope.stop()));
  await Promise.all(roots.splice(0).map((root) => rm(root, { recursive: true, force: true })));
});

/** A promise and its resolver: the test opens gates once it has subscribed. */
function gate(): { open: () => void; opened: Promise<void> } {
  let open!: () => void;
  const opened = new Promise<void>((resolve) => (open = resolve));
  return { open, opened };
}

/** A scope whose root holds `seed` before it starts: its agents' first runs already see those files. */
async function withAgents(agents: AgentSpec[], seed: Record<string, string> = {}) {
  const root = await mkdtemp(join(tmpdir(), 'scopefs-tx-agents-'));
  roots.push(root);
  for (const [path, content] of Object.entries(seed)) await writeFile(join(root, path), content);
  const scope = await startScope({ scopeKey: `tx-agents-${randomBytes(4).toString('hex')}`, root, agents });
  scopes.push(scope);
  const events: TransactionEvent[] = [];
  scope.transactions.subscribe((event) => events.push(event));
  const until = async (count: number, type: TransactionEvent['type']) => {
    while (events.filter((e) => e.type === type).length < count) {
      await new Promise<void>((resolve) => {
        const off = scope.transactions.subscribe(() => (off(), resolve()));
      });
    }
  };
  return { scope, events, until };
}

describe('agents with isolation transaction', () => {
  it('a crashed run leaves nothing; the rerun that returns commits, named after the agent and its run', async () => {
    const start = gate();
    let runs = 0;
    const { scope, events, until } = await withAgents([
      {
        id: 'writer',
        restart: 'transient',
        isolation: 'transaction',
        run: async ({ fs }) => {
          await start.opened;
          runs++;
          await fs.writeFile(`/run-${runs}.md`, `run ${runs}`);
          if (runs === 1) throw new Error('first run crashes');
        },
      },
    ]);
    start.open();
    await until(1, 'transaction_committed');
    expect(await scope.fs.listFiles('/')).toEqual(['/run-2.md']);
    expect(events.map((e) => [e.type, e.name, e.actor])).toEqual([
      ['transaction_aborted', 'agent:writer:run-1', 'agent:writer'],
      ['transaction_committed', 'agent:writer:run-2', 'agent:writer'],
    ]);
    expect(events[0]).toMatchObject({ reason: expect.stringContaining('first run crashes'), paths: ['/run-1.md'] });
  });

  it('two agents per file: disjoint edits both commit merged; on one line, one commits and the other conflicts, crashes, and reruns from the new state', async () => {
    const subscribed = gate(); // no run commits before the test hears its events
    const both = gate();
    let edited = 0;
    const setStatus = (id: string): AgentSpec => ({
      id,
      restart: 'transient',
      isolation: 'transaction',
      run: async ({ fs }) => {
        await subscribed.opened;
        const text = await fs.readFile('/memory.md');
        const status = /status: (.*)/.exec(text)![1]!;
        await fs.writeFile('/memory.md', text.replace(/status: .*/, `status: ${id} (was ${status})`));
        if (++edited === 2) both.open();
        await both.opened;
      },
    });
    const disjoint = gate();
    let disjointEdited = 0;
    const note = (id: string, line: string): AgentSpec => ({
      id,
      restart: 'temporary',
      isolation: 'transaction',
      run: async ({ fs }) => {
        await subscribed.opened;
        await fs.editFile('/notes.md', `${line}: 0`, `${line}: ${id}`);
        if (++disjointEdited === 2) disjoint.open();
        await disjoint.opened;
      },
    });
    const { scope, events, until } = await withAgents(
      [setStatus('alpha'), setStatus('beta'), note('left', 'top'), note('right', 'bottom')],
      { '/memory.md': 'name: Ada\nstatus: idle\n', '/notes.md': 'top: 0\nmiddle\nmore\nbottom: 0\n' },
    );
    subscribed.open();
    await until(4, 'transaction_committed');
    // Disjoint lines of one file: both runs committed, merged three ways.
    expect(await scope.fs.readFile('/notes.md')).toBe('top: left\nmiddle\nmore\nbottom: right\n');
    // The same line: the loser's first run committed nothing; its rerun saw the winner's status.
    const memory = await scope.fs.readFile('/memory.md');
    expect(memory).toMatch(/^name: Ada\nstatus: (alpha|beta) \(was (alpha|beta) \(was idle\)\)\n$/);
    const [, last, first] = /status: (\w+) \(was (\w+)/.exec(memory)!;
    expect(last).not.toBe(first);
    const aborted = events.filter((e) => e.type === 'transaction_aborted');
    expect(aborted).toEqual([expect.objectContaining({ name: `agent:${last}:run-1`, reason: expect.stringContaining('conflicting') })]);
  });
});

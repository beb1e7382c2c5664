/**
 * The agents' subtree of a scope, built so that an agent's failures stay in
 * it. Each agent runs under its own one_for_one supervisor (its "cell"),
 * which is a temporary child of the scope's `agents` supervisor. An agent
 * that exceeds its restart intensity takes down only its cell: the cell is
 * not restarted, the agent is recorded as stopped (status, reason) and an
 * `agent_stopped` event goes to subscribers, while the filesystem, watcher,
 * sync and the other agents keep running. Since cells are never restarted,
 * the `agents` supervisor itself never exceeds its intensity, so the scope
 * tree (rest_for_one) is never asked to give up because of an agent.
 *
 * The runtime stays generic: this policy is plain supervisors and child
 * specs, composed here in the scope layer.
 */
import type { Transactions } from '../../src/transactions/transactions.js';
import { EventEmitter } from 'eventemitter3';
import { actingAs } from '../../src/audit/audit-fs.js';
import type { FileSystem, ScopeKey } from '../../src/types.js';
import { describeReason, isAbnormal, type ExitReason } from '../runtime/actor.js';
import type { ChildInfo } from '../runtime/child.js';
import { RestartIntensityError, type IntensityLimit } from '../runtime/restart-intensity.js';
import { Supervisor, type ChildSpec } from '../runtime/supervisor.js';
import { startAgent, type AgentSpec } from './agent.js';

/** Sent once when an agent exceeded its restart intensity and was stopped for good. */
export interface AgentStoppedEvent {
  type: 'agent_stopped';
  /** The agent's id. */
  id: string;
  /** Why it was stopped, with the last crash and what to change. */
  reason: string;
  /** Restarts it went through before it was stopped. */
  restarts: number;
  /** ISO time it was stopped. */
  at: string;
}

export type AgentEvent = AgentStoppedEvent;

/** One agent as `tree()` and `agents.list()` show it. */
export interface AgentInfo extends ChildInfo {
  /** Set once the agent was stopped for exceeding its restart intensity. */
  reason?: string;
}

/** What a scope handle offers about its agents. */
export interface AgentsHandle {
  /** Every agent in start order with its status. */
  list(): AgentInfo[];
  /** The agents stopped for exceeding their restart intensity. */
  stopped(): AgentStoppedEvent[];
  /** Returns an unsubscribe function. */
  subscribe(listener: (event: AgentEvent) => void): () => void;
}

interface Cell {
  spec: AgentSpec;
  supervisor: Supervisor | undefined;
  /** The agent's last exit, kept for agents whose cell forgot them (temporary ones). */
  lastExit: ExitReason | undefined;
  stopped: AgentStoppedEvent | undefined;
  /** Runs started so far, across restarts: names each run's transaction. */
  runs: number;
}

export class AgentsSubtree implements AgentsHandle {
  private readonly cells: Cell[];
  private readonly events = new EventEmitter<{ agent: [AgentEvent] }>();

  constructor(
    specs: AgentSpec[],
    private readonly fs: FileSystem,
    private readonly transactions: Transactions,
    private readonly scopeKey: ScopeKey,
    private readonly name: string,
    private readonly intensity: IntensityLimit | undefined,
  ) {
    this.cells = specs.map((spec) => ({ spec, supervisor: undefined, lastExit: undefined, stopped: undefined, runs: 0 }));
  }

  /** The scope tree's `agents` child. Restarted with the rest (rest_for_one), it skips agents stopped for good. */
  childSpec(): ChildSpec {
    return {
      id: 'agents',
      type: 'supervisor',
      shutdownMs: Infinity,
      start: () =>
        Supervisor.start({
          name: `${this.name}/agents`,
          strategy: 'one_for_one',
          intensity: this.intensity,
          children: this.cells.filter((cell) => !cell.stopped).map((cell) => this.cellSpec(cell)),
        }),
    };
  }

  list(): AgentInfo[] {
    return this.cells.map((cell) => this.infoOf(cell));
  }

  stopped(): AgentStoppedEvent[] {
    return this.cells.flatMap((cell) => (cell.stopped ? [cell.stopped] : []));
  }

  subscribe(listener: (event: AgentEvent) => void): () => void {
    this.events.on('agent', listener);
    return () => this.events.off('agent', listener);
  }

  /** The `agents` node of `tree()` with each cell shown as the agent it runs. */
  flatten(node: ChildInfo): ChildInfo {
    return node.id === 'agents' && node.type === 'supervisor' ? { ...node, children: this.list() } : node;
  }

  private cellSpec(cell: Cell): ChildSpec {
    const { spec } = cell;
    return {
      id: spec.id,
      type: 'supervisor',
      // Never restarted from above: a cell that gave up means the agent is stopped.
      restart: 'temporary',
      shutdownMs: Infinity,
      start: async () => {
        const supervisor = await Supervisor.start({
          name: `${this.name}/agents/${spec.id}`,
          strategy: 'one_for_one',
          intensity: spec.intensity ?? this.intensity,
          children: [
            {
              id: spec.id,
              restart: spec.restart ?? 'permanent',
              shutdownMs: (spec.shutdownMs ?? 5_000) + 1_000,
              // Its changes name it: `agent:<id>` in events, history and the audit log.
              start: () => startAgent(spec, actingAs(this.fs, `agent:${spec.id}`), this.scopeKey, { transactions: this.transactions, run: ++cell.runs }),
            },
          ],
        });
        cell.supervisor = supervisor;
        supervisor.onChildEvent((event) => {
          if (event.type === 'exited' && event.reason !== undefined) cell.lastExit = event.reason;
        });
        supervisor.onExit((reason) => this.cellExited(cell, supervisor, reason));
        return supervisor;
      },
    };
  }

  private cellExited(cell: Cell, supervisor: Supervisor, reason: ExitReason): void {
    // Only giving up is a stop for good; a shutdown (or a kill) comes from the scope stopping.
    if (!(reason instanceof RestartIntensityError)) return;
    const restarts = supervisor.children()[0]?.restarts ?? 0;
    const event: AgentStoppedEvent = {
      type: 'agent_stopped',
      id: cell.spec.id,
      reason: stopReason(cell, reason),
      restarts,
      at: new Date().toISOString(),
    };
    cell.stopped = event;
    this.events.emit('agent', event);
  }

  private infoOf(cell: Cell): AgentInfo {
    const restartType = cell.spec.restart ?? 'permanent';
    if (cell.stopped) {
      return { id: cell.spec.id, type: 'worker', status: 'crashed', restarts: cell.stopped.restarts, restartType, reason: cell.stopped.reason };
    }
    const inner = cell.supervisor?.children()[0];
    if (inner) return inner;
    const status = cell.lastExit === undefined ? 'starting' : isAbnormal(cell.lastExit) ? 'crashed' : 'stopped';
    return { id: cell.spec.id, type: 'worker', status, restarts: 0, restartType };
  }
}

/** The intensity error, the agent's last exit, and for an agent that kept returning, the likely fix. */
function stopReason(cell: Cell, reason: ExitReason): string {
  const parts = [describeReason(reason)];
  const last = cell.lastExit;
  if (last !== undefined && last !== reason) {
    parts.push(`last exit: ${describeReason(last)}`);
  }
  if (last === 'normal' && (cell.spec.restart ?? 'permanent') === 'permanent') {
    parts.push(`the agent returned normally and 'permanent' reran it each time; a run-once agent needs restart: 'transient'`);
  }
  return parts.join('; ');
}

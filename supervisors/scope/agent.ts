import { hasLocks, ownedLocks, type OwnedLocks } from '../../src/coordination/owned-locks.js';
import type { FileLocks } from '../../src/coordination/locks.js';
import type { FileSystem, ScopeKey } from '../../src/types.js';
import { Actor, raceTimeout, toError, type ActorCallbacks } from '../runtime/actor.js';

/** What an agent's run function receives. */
export interface AgentContext {
  fs: FileSystem;
  /** Aborted when the agent is being stopped; long-running agents should watch it. */
  signal: AbortSignal;
  scopeKey: ScopeKey;
  agentId: string;
  /**
   * The scope's locks, held as `agent:<id>` unless another owner is given; every lock still held is
   * released when the agent stops (returns, crashes or is stopped). Absent when `fs` has no locks.
   */
  locks?: FileLocks;
}

export interface AgentSpec {
  id: string;
  /** User code. Returning ends the agent normally; throwing crashes it. */
  run: (context: AgentContext) => unknown;
  /**
   * Default `permanent`: rerun whenever `run` ends, even normally. A run-once
   * agent is `transient` (rerun only after a crash); `temporary` never reruns.
   */
  restart?: 'permanent' | 'transient' | 'temporary';
  /**
   * Restarts tolerated before this agent is stopped for good (reported as an
   * `agent_stopped` event; the rest of the scope keeps running). Default: the
   * scope's `intensity`, else 3 in 5 s.
   */
  intensity?: { maxRestarts: number; withinMs: number };
  /** How long stopping waits for `run` to notice the abort signal. Default 5000 ms. */
  shutdownMs?: number;
}

/**
 * Runs an agent's code as a supervised actor. `run` starts once the actor is
 * up; when it returns the actor exits `normal`, when it throws the actor
 * crashes with that error and its supervisor decides what happens next.
 */
class AgentRunner implements ActorCallbacks<never, never> {
  actor!: Actor<never, never>;
  private readonly abort = new AbortController();
  private running: Promise<unknown> | undefined;
  private locks: OwnedLocks | undefined;

  constructor(
    private readonly spec: AgentSpec,
    private readonly fs: FileSystem,
    private readonly scopeKey: ScopeKey,
  ) {}

  launch(): void {
    this.locks = hasLocks(this.fs) ? ownedLocks(this.fs, `agent:${this.spec.id}`) : undefined;
    const context = { fs: this.fs, signal: this.abort.signal, scopeKey: this.scopeKey, agentId: this.spec.id, locks: this.locks };
    const locks = this.locks;
    this.running = (async () => {
      try {
        return await this.spec.run(context);
      } finally {
        await locks?.releaseAll(); // before the exit: a rerun (or anyone else) finds the paths free
      }
    })();
    this.running.then(
      () => this.actor.exit('normal'),
      (err) => this.actor.exit(this.abort.signal.aborted ? 'shutdown' : toError(err)),
    );
  }

  handleCall(): never {
    throw new Error(`agent ${this.spec.id} takes no calls`);
  }

  async terminate(): Promise<void> {
    this.abort.abort();
    try {
      if (this.running) await raceTimeout(this.running, this.spec.shutdownMs ?? 5_000);
    } finally {
      await this.locks?.releaseAll();
    }
  }
}

export async function startAgent(spec: AgentSpec, fs: FileSystem, scopeKey: ScopeKey): Promise<Actor<never, never>> {
  const runner = new AgentRunner(spec, fs, scopeKey);
  runner.actor = new Actor<never, never>(runner, { name: `agent:${spec.id}` });
  await runner.actor.start();
  runner.launch();
  return runner.actor;
}

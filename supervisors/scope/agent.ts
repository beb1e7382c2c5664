import { hasLocks, ownedLocks, type OwnedLocks } from '../../src/coordination/owned-locks.js';
import type { FileLocks } from '../../src/coordination/locks.js';
import { ScopeFsError } from '../../src/errors.js';
import type { Transactions } from '../../src/transactions/transactions.js';
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
  /**
   * `transaction`: every run is a transaction (docs/transactions.md). Its `fs` sees the scope as of the
   * run's start plus its own writes; a normal return commits them as one step, and a crash (or a commit
   * that conflicts) discards them before the restart type applies. Default: changes apply as they are made.
   */
  isolation?: 'none' | 'transaction';
  /** With isolation `transaction`: what a conflicting commit does (docs/transactions.md). Default `fail`, which crashes the run. */
  onConflict?: 'fail' | 'copy';
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
    private readonly isolation: RunIsolation | undefined,
  ) {}

  launch(): void {
    this.locks = hasLocks(this.fs) ? ownedLocks(this.fs, `agent:${this.spec.id}`) : undefined;
    const locks = this.locks;
    this.running = (async () => {
      try {
        return await this.runOnce();
      } finally {
        await locks?.releaseAll(); // before the exit: a rerun (or anyone else) finds the paths free
      }
    })();
    this.running.then(
      () => this.actor.exit('normal'),
      (err) => this.actor.exit(this.abort.signal.aborted ? 'shutdown' : toError(err)),
    );
  }

  /** One run: directly on the scope's fs, or as a transaction that commits on return and is discarded on a crash. */
  private async runOnce(): Promise<unknown> {
    const context = (fs: FileSystem) => ({ fs, signal: this.abort.signal, scopeKey: this.scopeKey, agentId: this.spec.id, locks: this.locks });
    if (this.spec.isolation !== 'transaction') return this.spec.run(context(this.fs));
    if (!this.isolation) throw new Error(`agent ${this.spec.id} asks for transaction isolation, which needs a scope (startScope)`);
    const name = `agent:${this.spec.id}:run-${this.isolation.run}`;
    const options = { name, actor: `agent:${this.spec.id}`, signal: this.abort.signal, onConflict: this.spec.onConflict ?? 'fail' } as const;
    const result = await this.isolation.transactions.run((fs) => this.spec.run(context(fs)), options);
    // A run whose work could not be committed did not do its job: it crashes, and its restart type decides.
    if (!result.committed) {
      throw new ScopeFsError('ECONFLICT', `agent ${this.spec.id}: the run's changes conflict with changes made meanwhile (${result.conflicts.map((c) => c.path).join(', ')}); nothing was committed`);
    }
    return result.value;
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

/** What a run with isolation `transaction` needs: the scope's transactions, and which run of the agent this is (1, 2, ...). */
export interface RunIsolation {
  transactions: Transactions;
  run: number;
}

export async function startAgent(spec: AgentSpec, fs: FileSystem, scopeKey: ScopeKey, isolation?: RunIsolation): Promise<Actor<never, never>> {
  const runner = new AgentRunner(spec, fs, scopeKey, isolation);
  runner.actor = new Actor<never, never>(runner, { name: `agent:${spec.id}` });
  await runner.actor.start();
  runner.launch();
  return runner.actor;
}

import { RuntimeError, errorMessage, toError } from './errors.js';
import { CallDeadlines } from './call-deadlines.js';
import { nextTurn, overBudget } from './turn-budget.js';

/**
 * Why a process stopped. `normal` and `shutdown` are clean exits (a transient
 * child is not restarted after them); `killed` means the shutdown timeout ran
 * out; an Error is a crash.
 */
export type ExitReason = 'normal' | 'shutdown' | 'killed' | Error;

export function isAbnormal(reason: ExitReason): boolean {
  return reason !== 'normal' && reason !== 'shutdown';
}

export function describeReason(reason: ExitReason): string {
  return typeof reason === 'string' ? reason : `crash: ${reason.message}`;
}

export type ProcessStatus = 'starting' | 'running' | 'stopping' | 'stopped' | 'crashed';

/**
 * What a supervisor needs from a child: Actors and Supervisors both are one.
 */
export interface Process {
  readonly name: string;
  readonly status: ProcessStatus;
  /** Graceful stop; forced (reason `killed`) when it takes longer than timeoutMs. */
  stop(reason?: ExitReason, timeoutMs?: number): Promise<void>;
  /** Ends the process now: stops it with `reason` without waiting for terminate hooks. */
  exit(reason: ExitReason): void;
  /**
   * Called once, after the process has fully stopped (on a microtask when it
   * already has, so a late subscriber still hears the reason). Returns an
   * unsubscribe function.
   */
  onExit(listener: (reason: ExitReason) => void): () => void;
}

/**
 * The callbacks an actor runs (the gen_server split: Actor is the behaviour,
 * these are yours). State lives in the object that implements them.
 */
export interface ActorCallbacks<Call, Cast> {
  init?(): void | Promise<void>;
  handleCall(message: Call): unknown;
  handleCast?(message: Cast): void | Promise<void>;
  terminate?(reason: ExitReason): void | Promise<void>;
}

export interface ActorOptions {
  name?: string;
  /** Default timeout for call(). */
  callTimeoutMs?: number;
  /**
   * Errors for which a handler's throw is an answer to the caller, not a
   * crash. By default: RuntimeError and its subclasses (typed, expected errors such as ENOENT).
   */
  isExpectedError?: (err: unknown) => boolean;
}

interface Envelope {
  kind: 'call' | 'cast';
  message: unknown;
  resolve?: (value: unknown) => void;
  reject?: (err: unknown) => void;
  /** Watching the call's timeout (call-deadlines.ts): told when it settles. */
  deadlines?: CallDeadlines<Envelope>;
  settled?: boolean;
}

export const DEFAULT_CALL_TIMEOUT_MS = 5_000;
export const DEFAULT_SHUTDOWN_MS = 5_000;

let anonymousCounter = 0;

/**
 * An actor: one mailbox, one message handled at a time, in arrival order,
 * even while a handler awaits I/O. A handler that throws an unexpected error
 * crashes the actor; pending calls reject with ESTOPPED. Once the runtime's
 * turn budget is spent (turn-budget.ts), the next message waits for the
 * event loop's next turn, so a caller awaiting calls in a tight loop cannot
 * starve timers, I/O or other actors.
 */
export class Actor<Call = unknown, Cast = Call> implements Process {
  readonly name: string;
  private readonly callbacks: ActorCallbacks<Call, Cast>;
  private readonly callTimeoutMs: number;
  private readonly deadlines = new CallDeadlines<Envelope>((envelope, timeoutMs) =>
    settle(envelope, () => envelope.reject!(new RuntimeError('ETIMEDOUT', `call to ${this.name} timed out after ${timeoutMs} ms`))),
  );
  private readonly isExpectedError: (err: unknown) => boolean;
  private readonly mailbox: Envelope[] = [];
  private head = 0;
  private draining = false;
  private current: Promise<unknown> | undefined;
  private pendingExit: ExitReason | undefined;
  private exitListeners = new Set<(reason: ExitReason) => void>();
  private exitReason: ExitReason | undefined;
  private stopped: Promise<void> | undefined;
  private _status: ProcessStatus = 'starting';

  constructor(callbacks: ActorCallbacks<Call, Cast>, options: ActorOptions = {}) {
    this.callbacks = callbacks;
    this.name = options.name ?? `actor-${++anonymousCounter}`;
    this.callTimeoutMs = options.callTimeoutMs ?? DEFAULT_CALL_TIMEOUT_MS;
    this.isExpectedError = options.isExpectedError ?? ((err) => err instanceof RuntimeError);
  }

  /** Creates and starts an actor; rejects when init throws. */
  static async start<Call, Cast = Call>(
    callbacks: ActorCallbacks<Call, Cast>,
    options?: ActorOptions,
  ): Promise<Actor<Call, Cast>> {
    const actor = new Actor(callbacks, options);
    await actor.start();
    return actor;
  }

  get status(): ProcessStatus {
    return this._status;
  }

  /** True when no message is queued or being handled. */
  get idle(): boolean {
    return !this.draining && this.head === this.mailbox.length;
  }

  get queueLength(): number {
    return this.mailbox.length - this.head;
  }

  async start(): Promise<void> {
    if (this._status !== 'starting' || this.current) {
      throw new RuntimeError('EINVAL', `actor ${this.name} was already started`);
    }
    // While init runs it counts as the current handler, so a stop() waits for
    // it before running terminate.
    const init = (async () => this.callbacks.init?.())();
    this.current = init;
    try {
      await init;
    } catch (err) {
      this.stopped ??= Promise.resolve();
      this.finish(toError(err));
      throw err;
    } finally {
      this.current = undefined;
    }
    if (this._status !== 'starting') return; // stopped while initialising
    this._status = 'running';
    if (this.pendingExit !== undefined) {
      void this.stop(this.pendingExit, DEFAULT_SHUTDOWN_MS).catch(() => undefined);
      return;
    }
    this.drainSoon();
  }

  /** Sends a message and waits for the handler's return value. */
  call<R = unknown>(message: Call, options: { timeoutMs?: number } = {}): Promise<R> {
    if (this._status !== 'running' && this._status !== 'starting') {
      return Promise.reject(this.notRunningError());
    }
    return new Promise<R>((resolve, reject) => {
      const envelope: Envelope = { kind: 'call', message, resolve: resolve as (v: unknown) => void, reject };
      const timeoutMs = options.timeoutMs ?? this.callTimeoutMs;
      if (fitsTimer(timeoutMs)) {
        envelope.deadlines = this.deadlines;
        this.deadlines.add(envelope, timeoutMs);
      }
      this.enqueue(envelope);
    });
  }

  /** Sends a message without waiting. Dropped silently when the actor is not running. */
  cast(message: Cast): void {
    if (this._status !== 'running' && this._status !== 'starting') return;
    this.enqueue({ kind: 'cast', message });
  }

  /**
   * Graceful stop: lets the current handler finish, fails queued calls with
   * ESTOPPED, runs terminate. Forced (reason `killed`) after timeoutMs.
   */
  stop(reason: ExitReason = 'normal', timeoutMs: number = DEFAULT_SHUTDOWN_MS): Promise<void> {
    if (this.stopped) return this.stopped;
    this._status = 'stopping';
    this.stopped = this.shutdown(reason, timeoutMs);
    return this.stopped;
  }

  /**
   * Stops the actor with `reason`. While a handler (or init) is running, it
   * takes effect once that handler returns: JavaScript cannot preempt it, and
   * this is how a handler exits itself. Otherwise the actor stops now
   * (terminate still runs, but nobody waits for it). To stop an actor whose
   * handler may hang, use stop(reason, timeoutMs).
   */
  exit(reason: ExitReason): void {
    if (this.stopped) return;
    if (this.current) {
      this.pendingExit = reason;
      return;
    }
    this._status = 'stopping';
    this.stopped = this.shutdown(reason, 0, true);
    void this.stopped.catch(() => undefined);
  }

  /** A listener added after the actor stopped still hears the reason (on a microtask). */
  onExit(listener: (reason: ExitReason) => void): () => void {
    if (this.exitReason !== undefined) {
      const reason = this.exitReason;
      let subscribed = true;
      queueMicrotask(() => subscribed && callSafely(listener, reason));
      return () => {
        subscribed = false;
      };
    }
    this.exitListeners.add(listener);
    return () => this.exitListeners.delete(listener);
  }

  private enqueue(envelope: Envelope): void {
    this.mailbox.push(envelope);
    this.drainSoon();
  }

  private drainSoon(): void {
    if (this.draining || this._status !== 'running') return;
    this.draining = true;
    queueMicrotask(() => void this.drain());
  }

  private async drain(): Promise<void> {
    while (this.head < this.mailbox.length && this._status === 'running') {
      if (overBudget()) {
        // The process has run long enough without a macrotask turn: let
        // timers, I/O and other actors go first. The message stays queued
        // (so order holds and a stop still fails it cleanly) and is handled
        // first thing in the next turn.
        await nextTurn();
        if (this._status !== 'running') break;
      }
      const envelope = this.mailbox[this.head]!;
      this.mailbox[this.head++] = undefined as unknown as Envelope;
      if (this.head > 1024 && this.head * 2 > this.mailbox.length) this.compactMailbox();
      const handling = this.handle(envelope);
      this.current = handling;
      const crash = await handling;
      this.current = undefined;
      if (crash) {
        this.draining = false;
        void this.stop(crash, DEFAULT_SHUTDOWN_MS).catch(() => undefined);
        return;
      }
      if (this.pendingExit !== undefined) {
        const reason = this.pendingExit;
        this.draining = false;
        void this.stop(reason, DEFAULT_SHUTDOWN_MS).catch(() => undefined);
        return;
      }
    }
    this.draining = false;
  }

  /** Runs one handler; returns the crash reason if it crashed the actor. */
  private async handle(envelope: Envelope): Promise<Error | undefined> {
    try {
      if (envelope.kind === 'call') {
        const result = await this.callbacks.handleCall(envelope.message as Call);
        settle(envelope, () => envelope.resolve!(result));
      } else {
        await this.callbacks.handleCast?.(envelope.message as Cast);
      }
      return undefined;
    } catch (err) {
      if (envelope.kind === 'call' && this.isExpectedError(err)) {
        settle(envelope, () => envelope.reject!(err));
        return undefined;
      }
      const reason = toError(err);
      if (envelope.kind === 'call') {
        settle(envelope, () =>
          envelope.reject!(
            new RuntimeError('ESTOPPED', `actor ${this.name} crashed handling this call: ${reason.message}`, {
              cause: reason,
            }),
          ),
        );
      }
      return reason;
    }
  }

  private compactMailbox(): void {
    this.mailbox.splice(0, this.head);
    this.head = 0;
  }

  private async shutdown(reason: ExitReason, timeoutMs: number, keepReason = false): Promise<void> {
    const graceful = (async () => {
      await this.waitForCurrentHandler();
      this.failQueued(reason);
      await this.callbacks.terminate?.(reason);
    })();
    let finalReason = reason;
    const forced = await raceTimeout(graceful, timeoutMs);
    if (forced && !keepReason && !isAbnormal(reason)) finalReason = 'killed';
    this.failQueued(finalReason);
    this.finish(finalReason);
  }

  private async waitForCurrentHandler(): Promise<void> {
    // The drain loop checks the status after each handler, so once the
    // current handler returns nothing else runs.
    await this.current;
  }

  private failQueued(reason: ExitReason): void {
    const queued = this.mailbox.slice(this.head);
    this.mailbox.length = 0;
    this.head = 0;
    for (const envelope of queued) {
      if (envelope.kind === 'call') {
        settle(envelope, () =>
          envelope.reject!(
            new RuntimeError('ESTOPPED', `actor ${this.name} stopped (${describeReason(reason)}) before handling this call`),
          ),
        );
      }
    }
  }

  private notRunningError(): RuntimeError {
    return new RuntimeError('ESTOPPED', `actor ${this.name} is ${this._status}`);
  }

  /** Records the exit reason and tells the listeners, once. */
  private finish(reason: ExitReason): void {
    if (this.exitReason !== undefined) return;
    this.exitReason = reason;
    this._status = isAbnormal(reason) ? 'crashed' : 'stopped';
    const listeners = [...this.exitListeners];
    this.exitListeners.clear();
    for (const listener of listeners) callSafely(listener, reason);
  }
}

function callSafely(listener: (reason: ExitReason) => void, reason: ExitReason): void {
  try {
    listener(reason);
  } catch {
    // A broken exit listener must not stop the others from hearing about it.
  }
}

function settle(envelope: Envelope, action: () => void): void {
  if (envelope.settled) return;
  envelope.settled = true;
  envelope.deadlines?.settled();
  action();
}

export { toError };

/** Node runs a timer over 2^31-1 ms (or Infinity) after 1 ms, so longer waits get no timer at all. */
const MAX_TIMER_MS = 2 ** 31 - 1;

function fitsTimer(timeoutMs: number): boolean {
  return timeoutMs <= MAX_TIMER_MS;
}

/**
 * Resolves true when `timeoutMs` elapsed before `work` settled. Rejections of
 * work count as done. An Infinity (or over-long) timeout waits for work.
 */
export async function raceTimeout(work: Promise<unknown>, timeoutMs: number): Promise<boolean> {
  if (!fitsTimer(timeoutMs)) {
    await work.catch(() => undefined);
    return false;
  }
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<boolean>((resolve) => {
    timer = setTimeout(() => resolve(true), Math.max(0, timeoutMs));
  });
  const done = work.then(
    () => false,
    () => false,
  );
  try {
    return await Promise.race([done, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

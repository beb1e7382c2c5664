import type { Transactions } from '../../src/transactions/transactions.js';
import { EventEmitter } from 'eventemitter3';
import { ScopeFsError, isScopeFsError } from '../../src/errors.js';
import * as syncClient from '../../src/sync/sync-client.js';
import type { SyncEvent, SyncHandle } from '../../src/sync/types.js';
import type { ChildInfo, ScopeHandle, ScopeKey } from '../../src/types.js';
import { DynamicSupervisor } from '../runtime/dynamic-supervisor.js';
import { registerScopeAudit } from '../../src/audit/scope-audit.js';
import { lockRoot } from './root-lock.js';
import { canonicalScopeKey } from './scope-key.js';
import { startScopeTree, type ScopeOptions, type ScopeTree } from './scope-tree.js';
import type { Supervisor } from '../runtime/supervisor.js';
import type { AgentsHandle } from './agents.js';

export type { ScopeOptions } from './scope-tree.js';
export type { AgentEvent, AgentInfo, AgentsHandle, AgentStoppedEvent } from './agents.js';

/** A running scope: the public handle plus the supervisor for introspection. */
export interface RunningScope extends ScopeHandle {
  readonly supervisor: Supervisor;
  /** The agents' status and their `agent_stopped` events (agents.ts). */
  readonly agents: AgentsHandle;
  readonly transactions: Transactions;
  transaction: NonNullable<ScopeHandle['transaction']>;
}

const running = new Map<string, Promise<RunningScope>>();
let scopesSupervisor: Promise<DynamicSupervisor<ScopeKey>> | undefined;

function topSupervisor(): Promise<DynamicSupervisor<ScopeKey>> {
  // Scope trees are temporary children (never restarted from here), so this
  // limit only matters for starts that fail; keep it generous.
  scopesSupervisor ??= DynamicSupervisor.start<ScopeKey>({
    name: 'scopes',
    intensity: { maxRestarts: 1000, withinMs: 1000 },
    idOf: canonicalScopeKey,
  });
  return scopesSupervisor;
}

/**
 * Starts a scope's supervision tree, or returns the running one for the same
 * key. Two concurrent calls with the same key share one start.
 */
export function startScope(options: ScopeOptions): Promise<RunningScope> {
  return startScopeUnder(topSupervisor(), options);
}

/**
 * startScope under another dynamic supervisor (a ScopePool's, with its idle
 * and maxActive limits). Scopes are still found by key in one registry per
 * process, whichever supervisor runs them.
 */
export function startScopeUnder(dynamic: Promise<DynamicSupervisor<ScopeKey>>, options: ScopeOptions): Promise<RunningScope> {
  const key = canonicalScopeKey(options.scopeKey);
  const existing = running.get(key);
  if (existing) return existing;
  const starting = launch(key, options, dynamic);
  running.set(key, starting);
  starting.catch(() => {
    if (running.get(key) === starting) running.delete(key);
  });
  return starting;
}

/** The running scope with this key, if any. */
export async function getScope(scopeKey: ScopeKey): Promise<RunningScope | undefined> {
  const starting = running.get(canonicalScopeKey(scopeKey));
  return starting?.catch(() => undefined);
}

/** Stops every running scope (each flushes its filesystem). */
export async function stopAllScopes(): Promise<void> {
  const scopes = await Promise.all([...running.values()].map((p) => p.catch(() => undefined)));
  await Promise.all(scopes.map((scope) => scope?.stop()));
}

async function launch(key: string, options: ScopeOptions, dynamic: Promise<DynamicSupervisor<ScopeKey>>): Promise<RunningScope> {
  const unlock = options.root ? await lockRoot(options.root, options.lockWaitMs) : async () => undefined;
  try {
    return await launchTree(key, options, unlock, await dynamic);
  } catch (err) {
    await unlock();
    throw err;
  }
}

async function launchTree(
  key: string,
  options: ScopeOptions,
  unlock: () => Promise<void>,
  dynamic: DynamicSupervisor<ScopeKey>,
): Promise<RunningScope> {
  const events = new EventEmitter<{ sync: [SyncEvent] }>();
  let tree: ScopeTree | undefined;
  // Temporary: a scope tree that gives up (restart intensity exceeded) stays
  // down; its handle reports ESTOPPED and startScope can start it afresh.
  await dynamic.startChild(key, {
    restart: 'temporary',
    type: 'supervisor',
    shutdownMs: Infinity,
    start: async () => {
      tree = await startScopeTree(options, `scope:${key}`, (event) => events.emit('sync', event));
      return tree.supervisor;
    },
  });
  const started = tree!;
  const terminate = () =>
    // A tree that already gave up (restart intensity exceeded) is gone: nothing to stop.
    dynamic.terminateChild(key).catch((err) => {
      if (!isScopeFsError(err, 'ENOENT')) throw err;
    });
  const handle = createHandle(key, options, started, events, async () => {
    await terminate();
    await started.closed; // nothing of the scope writes under its root after stop() returns
    await unlock();
  });
  started.supervisor.onExit(() => {
    if (running.get(key) !== undefined) running.delete(key);
    void unlock();
  });
  return handle;
}

function createHandle(
  key: string,
  options: ScopeOptions,
  tree: ScopeTree,
  events: EventEmitter<{ sync: [SyncEvent] }>,
  terminate: () => Promise<void>,
): RunningScope {
  let stopping: Promise<void> | undefined;
  const { audit } = tree;
  const handle: RunningScope = {
    scopeKey: options.scopeKey,
    key,
    root: options.root,
    // Its refusals are recorded by the stable filesystem, its changes by the filesystem server (scope-tree.ts).
    fs: tree.fs,
    audit: audit && ((query) => audit.query(query)),
    locks: tree.fs,
    records: tree.records,
    tail: tree.tail,
    webhooks: tree.webhooks,
    supervisor: tree.supervisor,
    sync: options.sync ? createSyncHandle(tree, events) : undefined,
    agents: tree.agents,
    transactions: tree.transactions,
    transaction: (fn, transactionOptions) => tree.transactions.run(fn, transactionOptions),
    tree: () => tree.supervisor.children().map((node) => tree.agents.flatten(node)),
    stop: () => {
      stopping ??= terminate().finally(() => running.delete(key));
      return stopping;
    },
  };
  if (audit) registerScopeAudit(handle, audit);
  return handle;
}

function createSyncHandle(tree: ScopeTree, events: EventEmitter<{ sync: [SyncEvent] }>): SyncHandle {
  const actor = (): syncClient.SyncActor => {
    const current = tree.sync()?.actor;
    if (!current || current.status !== 'running') {
      throw new ScopeFsError('ESTOPPED', 'the sync actor is not running (it may be restarting)');
    }
    return current;
  };
  return {
    status: async () => syncClient.status(actor()),
    conflicts: async () => syncClient.conflicts(actor()),
    resolveConflict: async (path, resolution) => syncClient.resolveConflict(actor(), path, resolution),
    idle: (options = {}) => withTimeout(waitForIdle(tree), options.timeoutMs ?? 60_000),
    pause: async () => syncClient.pause(actor()),
    resume: async () => syncClient.resume(actor()),
    confirm: async () => syncClient.confirm(actor()),
    resync: async () => syncClient.resync(actor()),
    subscribe: (listener) => {
      events.on('sync', listener);
      return () => events.off('sync', listener);
    },
  };
}

/** Idle survives a sync actor restart: it waits on whichever worker is current. */
async function waitForIdle(tree: ScopeTree): Promise<void> {
  for (;;) {
    const current = tree.sync()?.actor;
    if (current && current.status === 'running') {
      await syncClient.idle(current);
      if (tree.sync()?.actor === current && current.status === 'running') return;
    } else {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }
}

function withTimeout<T>(work: Promise<T>, timeoutMs: number): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new ScopeFsError('ETIMEDOUT', `sync did not become idle within ${timeoutMs} ms`)),
      timeoutMs,
    );
    work.then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      (err) => {
        clearTimeout(timer);
        reject(err);
      },
    );
  });
}

export type { ChildInfo };

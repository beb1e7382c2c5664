import { Transactions } from '../../src/transactions/transactions.js';
import type { TransactionLimits } from '../../src/transactions/types.js';
import { join } from 'node:path';
import { DiskDriver } from '../../persistence/drivers/disk.js';
import { FileSystemServer } from '../../src/fs/file-system-server.js';
import type { ChangeAudit } from '../../src/fs/change.js';
import type { HistoryTarget } from '../../src/fs/history-recorder.js';
import type { Retention } from '../../persistence/history/types.js';
import { DiskWatcher } from '../../src/sync/disk-watcher.js';
import { FailureLog } from '../../src/sync/failure-log.js';
import { SyncWorker, type SyncOptions } from '../../src/sync/sync-actor.js';
import { SyncStateDb } from '../../src/sync/state-db.js';
import type { Durability, PersistenceConfig, ScopeKey } from '../../src/types.js';
import type { SyncEvent } from '../../src/sync/types.js';
import type { Process } from '../runtime/actor.js';
import type { AgentSpec } from './agent.js';
import { AgentsSubtree } from './agents.js';
import { openScopeHistory } from './history-target.js';
import { StableFileSystem } from './stable-fs.js';
import { recordRefusal } from '../../src/audit/audit-fs.js';
import { openScopeAudit, type AuditOptions, type ScopeAudit } from '../../src/audit/scope-audit.js';
import { openAuditStore } from './audit-store.js';
import { openScopeWebhooks, type OpenedWebhooks } from '../../src/webhooks/scope-webhooks.js';
import type { WebhookOptions } from '../../src/webhooks/types.js';
import { openWebhookStore } from './webhook-store.js';
import { openScopeLocks } from './lock-store.js';
import { Supervisor, type ChildSpec } from '../runtime/supervisor.js';
import { scopeTail, type ScopeRecords, type ScopeTailHandle } from '../../src/tail/scope-tail.js';
import type { TailOption } from '../../src/tail/config.js';
import { openScopeRecords } from './records-store.js';

export interface ScopeOptions {
  scopeKey: ScopeKey;
  /** Directory for the default disk persistence, the journal and sync state. Memory-only when absent. */
  root?: string;
  /** Extra persistence configs (a `default` one replaces the disk default). */
  configs?: PersistenceConfig[];
  durability?: Durability;
  debounceMs?: number;
  maxFileBytes?: number;
  agents?: AgentSpec[];
  sync?: SyncOptions;
  /** Pick up edits other programs make under the root. Default: on when syncing a root. */
  watch?: boolean;
  /** Restart intensity of the scope tree. Default 3 restarts in 5 s. */
  intensity?: { maxRestarts: number; withinMs: number };
  /** Shutdown timeout of the filesystem server (its terminate flushes). Default 30 s. */
  fsShutdownMs?: number;
  /** How long to wait for another process that has the root open (its lock). Default 15 s. */
  lockWaitMs?: number;
  /** History retention (docs/history.md); pruned incrementally as versions are recorded. Default: keep everything. */
  historyRetention?: Retention;
  /** The audit log (docs/coordination.md#audit-log): on by default, under `<root>/.scopefs/audit/` or in memory. */
  audit?: AuditOptions;
  /** JSONL files to tail into records (docs/tail.md). */
  tail?: TailOption;
  /** Webhooks (docs/webhooks.md): subscriptions, the outbox under `<root>/.scopefs/`, delivery limits and the URL allow-list. */
  webhooks?: WebhookOptions;
  /** Limits of the scope's transactions (docs/transactions.md): open at once, bytes each, idle time. */
  transactions?: TransactionLimits;
}

/** The running pieces of one scope that its handle needs. */
export interface ScopeTree {
  supervisor: Supervisor;
  fs: StableFileSystem;
  agents: AgentsSubtree;
  /** The current sync worker (replaced on every restart), if syncing. */
  sync(): SyncWorker | undefined;
  /** Who changed what, and what was refused (undefined when auditing is off). */
  audit: ScopeAudit | undefined;
  /** Subscriptions, the outbox and its deliveries (undefined when webhooks are off). */
  webhooks: OpenedWebhooks | undefined;
  /** Tailed records and the tail's status (docs/tail.md). */
  records: ScopeRecords;
  tail: ScopeTailHandle;
  /** The scope's transactions: on the stable fs, so they outlive restarts of the filesystem server. */
  transactions: Transactions;
  /** Settles once the tree has exited and its history, audit log and locks are closed. */
  closed: Promise<void>;
}

/**
 * Builds one scope's supervision tree (rest_for_one): the FileSystemServer
 * first, then the disk watcher and the sync actor, then the agents'
 * supervisor (one_for_one). A crash of sync or an agent restarts only what
 * comes after it; the filesystem keeps its state. Stopping goes in reverse,
 * so the filesystem stops last and flushes.
 */
export async function startScopeTree(
  options: ScopeOptions,
  name: string,
  emitSync: (event: SyncEvent) => void,
): Promise<ScopeTree> {
  const fs = new StableFileSystem();
  // Syncing: the scope's locks live in the store, so every instance of the app excludes the others.
  const storeLocks = await openScopeLocks(options.sync, fs.lockTable);
  if (storeLocks) fs.backLocksWith(storeLocks);
  const audit = openScopeAudit(options.root, options.audit, options.audit?.enabled === false ? undefined : await openAuditStore(options.sync));
  // The outbox row of a change is written as its event is heard, before the change is acknowledged (scope-webhooks.ts).
  const webhookOptions = options.webhooks;
  const webhooks = await openScopeWebhooks(options.root, canonicalName(name), webhookOptions, webhookOptions?.enabled === false ? undefined : await openWebhookStore(options.sync));
  if (webhooks) fs.subscribe((event) => webhooks.event(event));
  let syncWorker: SyncWorker | undefined;
  // Without a root (or an explicit state file) the sync state lives in
  // memory; it must still survive restarts of the sync actor.
  const sharedState = options.sync && !options.root && !options.sync.stateFile ? SyncStateDb.open(':memory:') : undefined;
  // One history per scope tree: it outlives restarts of the filesystem server.
  const history = await openScopeHistory(options.root, options.sync, options.historyRetention, sharedState);
  // The server makes each change's audit entries, and its journal records carry them (audit-recorder.ts);
  // a refused call, whoever makes it, is recorded where it entered the scope.
  if (audit) fs.reportRefusalsTo((method, args, err) => recordRefusal(audit.recorder, method, args, 'local', err));
  const children: ChildSpec[] = [fsChild(options, name, fs, history.target, audit?.recorder)];
  const recordTables = await openScopeRecords(options.root, options.sync);
  let tailing: ReturnType<typeof scopeTail>;
  try {
    tailing = scopeTail(options.tail, options.root, recordTables);
  } catch (err) {
    await Promise.all([history.close(), audit?.close(), storeLocks?.close(), recordTables.close(), webhooks?.close()].map((c) => c?.catch(() => undefined)));
    throw err;
  }
  const watch = options.watch ?? (options.root !== undefined && options.sync !== undefined);
  // Failures outlive sync actor restarts, and the watcher reports into them too.
  const failures = options.sync ? new FailureLog() : undefined;
  if (failures) noteDiskProblems(fs, failures);
  if (watch && options.root) {
    const root = options.root;
    children.push({ id: 'watcher', start: async () => (await DiskWatcher.start(fs, root)).actor });
  }
  if (options.sync) {
    const syncOptions = options.sync;
    children.push({
      id: 'sync',
      shutdownMs: 10_000,
      start: async () => {
        // A path a conflict strategy settled or held is audited, naming the strategy and its rule.
        const emit = audit ? (event: SyncEvent) => (audit.recorder.syncEvent(event), emitSync(event)) : emitSync;
        syncWorker = await SyncWorker.start({ fs, root: options.root, options: syncOptions, emit, sharedState, failures });
        return syncWorker.actor;
      },
    });
  }
  // Records only go to the store's table, never into files: nothing tailed comes back as a change.
  const startTail = tailing.start;
  if (startTail) children.push({ id: 'tail', shutdownMs: 10_000, start: async () => (await startTail()).actor });
  // Each agent in its own cell: one that exceeds its intensity stops alone (agents.ts).
  const transactions = new Transactions(fs, options.transactions, () => fs.snapshotVersions());
  const agents = new AgentsSubtree(options.agents ?? [], fs, transactions, options.scopeKey, name, options.intensity);
  children.push(agents.childSpec());
  let supervisor: Supervisor;
  try {
    supervisor = await Supervisor.start({ name, strategy: 'rest_for_one', intensity: options.intensity, children });
  } catch (err) {
    await history.close().catch(() => undefined);
    await audit?.close();
    await storeLocks?.close().catch(() => undefined);
    await recordTables.close();
    await webhooks?.close();
    throw err;
  }
  let sideTablesClosed!: () => void;
  const closed = new Promise<void>((resolve) => (sideTablesClosed = resolve));
  supervisor.onExit(() => {
    transactions.abortAll('the scope stopped');
    fs.close();
    sharedState?.close();
    // History, the audit log (its last shipment) and locks close after the tree: stop() waits for them.
    const closes = [history.close(), audit?.close(), storeLocks?.close(), recordTables.close(), webhooks?.close()];
    void Promise.all(closes.map((closing) => closing?.catch(() => undefined))).then(sideTablesClosed);
  });
  return { supervisor, fs, agents, sync: () => syncWorker, audit, webhooks, records: tailing.records, tail: tailing.tail, transactions, closed };
}

/**
 * Disk conflicts and alerts go to the failure log, so `.sync-failures.json`
 * and status show them (the sync actor rewrites its status files when it
 * hears the same event). Noted here, as the event happens, because the log
 * outlives sync actor restarts.
 */
function noteDiskProblems(fs: StableFileSystem, failures: FailureLog): void {
  fs.subscribe((event) => {
    if (event.type === 'disk_conflict') failures.note(event.path, `an outside edit could not be merged (${event.reason}); it is kept as ${event.copyPath}`);
    else if (event.type === 'disk_alert') failures.note(event.path, `${event.alert}: ${event.message}`);
  });
}

function fsChild(options: ScopeOptions, name: string, fs: StableFileSystem, history: HistoryTarget, audit: ChangeAudit | undefined): ChildSpec {
  return {
    id: 'fs',
    shutdownMs: options.fsShutdownMs ?? 30_000,
    start: async (): Promise<Process> => {
      const server = await FileSystemServer.start({
        name: `${name}/fs`,
        configs: persistenceConfigs(options),
        durability: options.durability,
        journalPath: options.root ? join(options.root, '.scopefs', 'journal.log') : undefined,
        debounceMs: options.debounceMs,
        maxFileBytes: options.maxFileBytes,
        history,
        locks: fs.lockTable,
        audit,
      });
      fs.attach(server);
      server.onExit(() => fs.detach(server));
      return server;
    },
  };
}

function persistenceConfigs(options: ScopeOptions): PersistenceConfig[] {
  const configs = [...(options.configs ?? [])];
  if (options.root && !configs.some((c) => c.default)) {
    configs.push({ base: '/', default: true, driver: new DiskDriver({ root: options.root }) });
  }
  return configs;
}

/** The scope's key from its tree's name (`scope:user/123`). */
function canonicalName(name: string): string {
  return name.startsWith('scope:') ? name.slice('scope:'.length) : name;
}

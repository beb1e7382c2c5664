/**
 * Health: the sync lifecycle (state, why it is paused, pending, failed and
 * held paths, the safety gate with its confirm action), the supervision tree
 * with restart counts, the locks and their holders, and the transactions in
 * progress. Refreshed on every sync event and every 5 s.
 */
import { useEffect, useState } from 'preact/hooks';
import type { Api } from '../api.js';
import type { ViewProps } from './types.js';

interface SyncStatus {
  enabled: boolean;
  connected?: boolean;
  state?: string;
  pending?: string[];
  failedPaths?: string[];
  held?: Array<{ path: string; reason?: string }>;
  pausedReason?: string;
  error?: string;
  cursor?: number;
  instanceId?: string;
  store?: string;
  lastSyncedAt?: string | null;
}

interface TreeNode {
  id: string;
  type: string;
  status?: string;
  restarts?: number;
  restartType?: string;
  children?: TreeNode[];
}

interface Health {
  status: { sync: SyncStatus; tree?: TreeNode[]; files?: Record<string, unknown> };
  locks: Array<{ path: string; owner: string; fence: number; expiresAt: number }>;
  transactions: Array<{ id: string; name?: string; actor: string; startedAt: number; paths: string[]; bytes: number }>;
}

const REFRESH_MS = 5_000;

async function loadHealth(api: Api): Promise<Health> {
  const [status, locks, transactions] = await Promise.all([
    api.get<Health['status']>('v1/status'),
    api.get<{ locks: Health['locks'] }>('v1/locks').then((answer) => answer.locks, () => []),
    api.get<{ transactions: Health['transactions'] }>('v1/transactions').then((answer) => answer.transactions, () => []),
  ]);
  return { status, locks, transactions };
}

export function HealthView({ api, onEvent }: ViewProps) {
  const [health, setHealth] = useState<Health>();
  const [message, setMessage] = useState<{ text: string; bad?: boolean }>();
  const refresh = () => loadHealth(api).then(setHealth, (err: Error) => setMessage({ text: err.message, bad: true }));
  useEffect(() => {
    void refresh();
    const timer = setInterval(() => void refresh(), REFRESH_MS);
    return () => clearInterval(timer);
  }, [api]);
  useEffect(() => onEvent((event) => (event.type.startsWith('sync') || event.type.startsWith('conflict') ? void refresh() : undefined)), [onEvent]);
  const control = async (action: 'confirm' | 'pause' | 'resume' | 'resync') => {
    try {
      await api.json('POST', `v1/sync/${action}`);
      setMessage({ text: `Sync ${action}: done.` });
      await refresh();
    } catch (err) {
      setMessage({ text: err instanceof Error ? err.message : String(err), bad: true });
    }
  };
  if (!health) return message ? <p class="notice bad" role="alert">{message.text}</p> : <p class="hint">Loading health…</p>;
  const { sync, tree } = health.status;
  return (
    <section class="health">
      {message && <p class={message.bad ? 'notice bad' : 'notice'} role="status">{message.text}</p>}
      <SyncPanel sync={sync} control={control} />
      <h2>Supervision tree</h2>
      {tree ? <ul class="tree-nodes">{tree.map((node) => <Node key={node.id} node={node} />)}</ul> : <p class="hint">Not reported.</p>}
      <h2>Locks</h2>
      {health.locks.length === 0 ? (
        <p class="hint">No locks held.</p>
      ) : (
        <table class="grid" data-testid="locks">
          <thead><tr><th>Path</th><th>Holder</th><th>Fence</th><th>Expires</th></tr></thead>
          <tbody>
            {health.locks.map((lock) => (
              <tr key={`${lock.path}:${lock.fence}`}><td>{lock.path}</td><td>{lock.owner}</td><td>{lock.fence}</td><td>{new Date(lock.expiresAt).toLocaleTimeString()}</td></tr>
            ))}
          </tbody>
        </table>
      )}
      <h2>Transactions in progress</h2>
      {health.transactions.length === 0 ? (
        <p class="hint">None open.</p>
      ) : (
        <table class="grid">
          <thead><tr><th>Name</th><th>Actor</th><th>Started</th><th>Paths</th><th>Bytes</th></tr></thead>
          <tbody>
            {health.transactions.map((tx) => (
              <tr key={tx.id}><td>{tx.name ?? tx.id}</td><td>{tx.actor}</td><td>{new Date(tx.startedAt).toLocaleTimeString()}</td><td>{tx.paths.length}</td><td>{tx.bytes}</td></tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}

function SyncPanel({ sync, control }: { sync: SyncStatus; control: (action: 'confirm' | 'pause' | 'resume' | 'resync') => void }) {
  if (!sync.enabled) return <p class="notice" data-testid="sync-state">Sync is off for this scope.</p>;
  const gateHolds = sync.state === 'paused' && /safety gate/i.test(sync.pausedReason ?? '');
  return (
    <div class="sync-panel">
      <h2>Sync</h2>
      <p data-testid="sync-state">
        State <strong class={`state state-${sync.state}`}>{sync.state}</strong>
        {sync.connected ? ', connected' : ', not connected'}
        {sync.instanceId ? ` as ${sync.instanceId}` : ''}
        {sync.lastSyncedAt ? `, last synced ${new Date(sync.lastSyncedAt).toLocaleTimeString()}` : ''}
      </p>
      {sync.store && <p class="hint">Store: {sync.store}</p>}
      {sync.pausedReason && <p class="notice">Paused: {sync.pausedReason}</p>}
      {sync.error && <p class="notice bad">{sync.error}</p>}
      {gateHolds && (
        <p class="notice bad" data-testid="safety-gate">
          The safety gate holds a pass that would delete many files.{' '}
          <button class="danger" onClick={() => control('confirm')}>Confirm and let it go ahead</button>
        </p>
      )}
      <PathList title="Pending" paths={sync.pending ?? []} />
      <PathList title="Failed" paths={sync.failedPaths ?? []} />
      <PathList title="Held" paths={(sync.held ?? []).map((held) => held.path)} />
      <div class="toolbar">
        {sync.state === 'paused' ? <button onClick={() => control('resume')}>Resume</button> : <button onClick={() => control('pause')}>Pause</button>}
        <button onClick={() => control('resync')}>Full pass now</button>
      </div>
    </div>
  );
}

function PathList({ title, paths }: { title: string; paths: string[] }) {
  return (
    <p>
      {title}: {paths.length === 0 ? <span class="hint">none</span> : `${paths.length} (${paths.slice(0, 20).join(', ')}${paths.length > 20 ? ', …' : ''})`}
    </p>
  );
}

function Node({ node }: { node: TreeNode }) {
  return (
    <li>
      <span class="node-id">{node.id}</span> <span class="hint">{node.type}{node.restartType ? `, ${node.restartType}` : ''}</span>{' '}
      {node.status && <span class={`state state-${node.status}`}>{node.status}</span>}{' '}
      {node.restarts !== undefined && <span data-restarts={node.restarts}>{node.restarts} restart(s)</span>}
      {node.children && node.children.length > 0 && <ul>{node.children.map((child) => <Node key={child.id} node={child} />)}</ul>}
    </li>
  );
}

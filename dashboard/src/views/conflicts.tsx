/**
 * Conflicts: the sync conflicts waiting for a decision (GET /v1/conflicts),
 * each with a side-by-side diff of the local file (at its path) and the
 * remote version (kept beside it at copyPath), and three ways out through
 * POST /v1/conflicts/resolve: keep local, keep remote, or edit then resolve.
 */
import { useEffect, useState } from 'preact/hooks';
import type { Api } from '../api.js';
import { DiffTable } from './diff-table.js';
import type { ViewProps } from './types.js';

export interface ConflictRecord {
  path: string;
  copyPath: string;
  localSnippet: string;
  remoteSnippet: string;
  remoteRevision: number;
  remoteInstance: string;
  detectedAt: string;
  strategy?: string;
}

async function readText(api: Api, path: string): Promise<string> {
  return (await api.request('GET', api.filePath(path))).text();
}

export function ConflictsView({ api, onEvent }: ViewProps) {
  const [conflicts, setConflicts] = useState<ConflictRecord[]>();
  const [open, setOpen] = useState<string>();
  const [error, setError] = useState<string>();
  const load = async () => {
    try {
      setConflicts((await api.get<{ conflicts: ConflictRecord[] }>('v1/conflicts')).conflicts);
      setError(undefined);
    } catch (err) {
      setError(err instanceof Error ? err.message : String(err));
    }
  };
  useEffect(() => void load(), [api]);
  useEffect(() => onEvent((event) => (event.type === 'conflict' || event.type === 'conflict_resolved' ? void load() : undefined)), [onEvent]);
  if (error) return <p class="notice bad" role="alert">{error}</p>;
  if (!conflicts) return <p class="hint">Loading conflicts…</p>;
  if (conflicts.length === 0) return <p class="notice" data-testid="no-conflicts">No conflicts: every synced file agrees with the other instances.</p>;
  return (
    <section class="conflicts">
      <h2>{conflicts.length} conflict(s)</h2>
      <ul class="conflict-list">
        {conflicts.map((conflict) => (
          <li key={conflict.path}>
            <button aria-expanded={open === conflict.path} onClick={() => setOpen(open === conflict.path ? undefined : conflict.path)}>
              {conflict.path}
            </button>{' '}
            <span class="hint">
              remote revision {conflict.remoteRevision} from {conflict.remoteInstance}, {new Date(conflict.detectedAt).toLocaleString()}
            </span>
            {open === conflict.path && <ConflictDetail api={api} conflict={conflict} onResolved={() => void load()} />}
          </li>
        ))}
      </ul>
    </section>
  );
}

function ConflictDetail({ api, conflict, onResolved }: { api: Api; conflict: ConflictRecord; onResolved: () => void }) {
  const [sides, setSides] = useState<{ local: string; remote: string }>();
  const [editing, setEditing] = useState<string>();
  const [status, setStatus] = useState<{ text: string; bad?: boolean }>();
  useEffect(() => {
    Promise.all([readText(api, conflict.path), readText(api, conflict.copyPath)])
      .then(([local, remote]) => setSides({ local, remote }))
      // A side may be gone (deleted or binary): show what the record kept.
      .catch(() => setSides({ local: conflict.localSnippet, remote: conflict.remoteSnippet }));
  }, [api, conflict.path, conflict.copyPath]);
  const resolve = async (body: Record<string, unknown>, what: string) => {
    try {
      await api.json('POST', 'v1/conflicts/resolve', { path: conflict.path, ...body });
      setStatus({ text: `Resolved: ${what}.` });
      onResolved();
    } catch (err) {
      setStatus({ text: err instanceof Error ? err.message : String(err), bad: true });
    }
  };
  if (!sides) return <p class="hint">Loading both versions…</p>;
  return (
    <div class="conflict-detail" data-testid="conflict-detail">
      <DiffTable left={sides.local} right={sides.remote} leftTitle={`local (${conflict.path})`} rightTitle={`remote (${conflict.copyPath})`} />
      {editing === undefined ? (
        <div class="toolbar">
          <button onClick={() => void resolve({ keep: 'local' }, 'kept the local version')}>Keep local</button>
          <button onClick={() => void resolve({ keep: 'remote' }, 'kept the remote version')}>Keep remote</button>
          <button onClick={() => setEditing(sides.local)}>Edit, then resolve</button>
        </div>
      ) : (
        <div class="editor">
          <label>
            The resolved text of {conflict.path}
            <textarea aria-label="resolved text" rows={12} value={editing} onInput={(event) => setEditing(event.currentTarget.value)} />
          </label>
          <div class="toolbar">
            <button class="primary" onClick={() => void resolve({ content: editing }, 'saved your edit')}>Resolve with this text</button>
            <button onClick={() => setEditing(undefined)}>Cancel</button>
          </div>
        </div>
      )}
      {status && <p class={status.bad ? 'notice bad' : 'notice'} role="status">{status.text}</p>}
    </div>
  );
}

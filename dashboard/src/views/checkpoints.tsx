/**
 * Checkpoints (owner only): list, create, diff against the current files,
 * and roll back, always through a dry-run preview of what would change first.
 */
import { useEffect, useState } from 'preact/hooks';
import type { Api } from '../api.js';

interface CheckpointInfo {
  name: string;
  message?: string;
  prefix: string;
  at: number;
  fileCount: number;
  bytes: number;
}

interface CheckpointDiff {
  added: string[];
  removed: string[];
  changed: string[];
}

interface CheckpointRestore {
  dryRun: boolean;
  written: string[];
  created: string[];
  deleted: string[];
  unchanged: number;
}

const named = (name: string) => `v1/checkpoints/${encodeURIComponent(name)}`;

export function CheckpointsPanel({ api }: { api: Api }) {
  const [checkpoints, setCheckpoints] = useState<CheckpointInfo[]>();
  const [draft, setDraft] = useState({ name: '', message: '' });
  const [detail, setDetail] = useState<{ name: string; diff?: CheckpointDiff; preview?: CheckpointRestore; done?: CheckpointRestore }>();
  const [error, setError] = useState<string>();
  const attempt = async (work: () => Promise<void>) => {
    try {
      setError(undefined);
      await work();
    } catch (err) {
      setError(err instanceof Error ? err.message : String(err));
    }
  };
  const load = () => attempt(async () => setCheckpoints((await api.get<{ checkpoints: CheckpointInfo[] }>('v1/checkpoints')).checkpoints));
  useEffect(() => void load(), [api]);
  const create = () =>
    attempt(async () => {
      const body: Record<string, string> = {};
      if (draft.name.trim()) body.name = draft.name.trim();
      if (draft.message.trim()) body.message = draft.message.trim();
      await api.json('POST', 'v1/checkpoints', body);
      setDraft({ name: '', message: '' });
      await load();
    });
  const diff = (name: string) => attempt(async () => setDetail({ name, diff: await api.get<CheckpointDiff>(`${named(name)}/diff`) }));
  const preview = (name: string) => attempt(async () => setDetail({ name, preview: await api.json<CheckpointRestore>('POST', `${named(name)}/restore`, { dryRun: true }) }));
  const rollBack = (name: string) =>
    attempt(async () => {
      setDetail({ name, done: await api.json<CheckpointRestore>('POST', `${named(name)}/restore`, { dryRun: false }) });
      await load();
    });
  return (
    <div class="checkpoints">
      <h2>Checkpoints</h2>
      <form class="filters" onSubmit={(event) => (event.preventDefault(), void create())}>
        <input aria-label="checkpoint name" placeholder="name (optional)" value={draft.name} onInput={(event) => setDraft({ ...draft, name: event.currentTarget.value })} />
        <input aria-label="checkpoint message" placeholder="message (optional)" value={draft.message} onInput={(event) => setDraft({ ...draft, message: event.currentTarget.value })} />
        <button type="submit">Create checkpoint</button>
      </form>
      {error && <p class="notice bad" role="alert">{error}</p>}
      {checkpoints && checkpoints.length === 0 && <p class="hint">No checkpoints yet.</p>}
      {checkpoints && checkpoints.length > 0 && (
        <table class="grid">
          <thead><tr><th>Name</th><th>When</th><th>Files</th><th>Message</th><th /></tr></thead>
          <tbody>
            {checkpoints.map((checkpoint) => (
              <tr key={checkpoint.name} data-checkpoint={checkpoint.name}>
                <td>{checkpoint.name}</td>
                <td>{new Date(checkpoint.at).toLocaleString()}</td>
                <td>{checkpoint.fileCount} under {checkpoint.prefix}</td>
                <td>{checkpoint.message ?? ''}</td>
                <td>
                  <button onClick={() => void diff(checkpoint.name)}>Diff with current</button>{' '}
                  <button onClick={() => void preview(checkpoint.name)}>Roll back…</button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {detail?.diff && <PathLists title={`Since ${detail.name}`} lists={{ added: detail.diff.added, removed: detail.diff.removed, changed: detail.diff.changed }} />}
      {detail?.preview && (
        <div class="preview" data-testid="rollback-preview">
          <PathLists title={`Rolling back to ${detail.name} would`} lists={restoreLists(detail.preview)} />
          <div class="toolbar">
            <button class="danger" onClick={() => void rollBack(detail.name)}>Roll back now</button>
            <button onClick={() => setDetail(undefined)}>Cancel</button>
          </div>
        </div>
      )}
      {detail?.done && <PathLists title={`Rolled back to ${detail.name}`} lists={restoreLists(detail.done)} />}
    </div>
  );
}

function restoreLists(restore: CheckpointRestore): Record<string, string[]> {
  return { 'write back': restore.written, 'create again': restore.created, delete: restore.deleted };
}

function PathLists({ title, lists }: { title: string; lists: Record<string, string[]> }) {
  const total = Object.values(lists).reduce((sum, list) => sum + list.length, 0);
  return (
    <div class="path-lists" role="status">
      <h3>{title}{total === 0 ? ': nothing to change' : ''}</h3>
      {Object.entries(lists).map(([label, paths]) =>
        paths.length === 0 ? null : (
          <p key={label}>
            <strong>{label}</strong> ({paths.length}): {paths.slice(0, 50).join(', ')}{paths.length > 50 ? ', …' : ''}
          </p>
        ),
      )}
    </div>
  );
}

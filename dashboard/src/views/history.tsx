/**
 * History: a file's versions (GET /v1/history/<path>), each with a diff
 * against the current content and a restore (POST /v1/restore, an ordinary
 * change that syncs); below, the scope's checkpoints (checkpoints.tsx).
 */
import { useEffect, useState } from 'preact/hooks';
import type { Api } from '../api.js';
import { CheckpointsPanel } from './checkpoints.js';
import { DiffTable } from './diff-table.js';
import type { ViewProps } from './types.js';

interface HistoryVersion {
  path: string;
  revision: number;
  size: number;
  at: number;
  origin: string;
  actor?: string;
  instance?: string;
  deleted: boolean;
}

export function HistoryView({ api, caller, rest, navigate }: ViewProps) {
  const path = rest ? `/${rest.replace(/^\/+/, '')}` : '';
  const [input, setInput] = useState(path);
  useEffect(() => setInput(path), [path]);
  return (
    <section class="history">
      <form class="filters" onSubmit={(event) => (event.preventDefault(), navigate('history', input))}>
        <label>
          File <input aria-label="file path" placeholder="/notes/plan.md" value={input} onInput={(event) => setInput(event.currentTarget.value)} />
        </label>
        <button type="submit">Show versions</button>
      </form>
      {path && <FileVersions key={path} api={api} path={path} navigate={navigate} />}
      {caller.owner && <CheckpointsPanel api={api} />}
    </section>
  );
}

function FileVersions({ api, path, navigate }: { api: Api; path: string; navigate: ViewProps['navigate'] }) {
  const [versions, setVersions] = useState<HistoryVersion[]>();
  const [error, setError] = useState<string>();
  const [compare, setCompare] = useState<{ revision: number; old: string; current: string }>();
  const [status, setStatus] = useState<string>();
  const historyPath = `v1/history/${api.filePath(path).slice('v1/files/'.length)}`;
  const load = () =>
    api
      .get<{ versions: HistoryVersion[] }>(historyPath)
      .then((answer) => (setVersions(answer.versions), setError(undefined)))
      .catch((err: Error) => setError(err.message));
  useEffect(() => void load(), [api, path]);
  const showDiff = async (revision: number) => {
    try {
      const old = await (await api.request('GET', `${api.filePath(path)}?revision=${revision}`)).text();
      const current = await api.request('GET', api.filePath(path)).then((response) => response.text(), () => '');
      setCompare({ revision, old, current });
    } catch (err) {
      setError(err instanceof Error ? err.message : String(err));
    }
  };
  const restore = async (revision: number) => {
    try {
      await api.json('POST', 'v1/restore', { path, revision });
      setStatus(`Restored ${path} to version ${revision}.`);
      setCompare(undefined);
      await load();
    } catch (err) {
      setError(err instanceof Error ? err.message : String(err));
    }
  };
  if (error) return <p class="notice bad" role="alert">{error}</p>;
  if (!versions) return <p class="hint">Loading versions…</p>;
  return (
    <div class="versions">
      <h2>
        Versions of <a href={`#/files${path}`} onClick={(event) => (event.preventDefault(), navigate('files', path))}>{path}</a>
      </h2>
      {status && <p class="notice" role="status">{status}</p>}
      {versions.length === 0 ? (
        <p class="hint">No recorded versions of this path.</p>
      ) : (
        <table class="grid">
          <thead><tr><th>Version</th><th>When</th><th>Origin</th><th>Who</th><th>Size</th><th /></tr></thead>
          <tbody>
            {versions.map((version) => (
              <tr key={version.revision} data-revision={version.revision}>
                <td>{version.revision}{version.deleted ? ' (deleted)' : ''}</td>
                <td>{new Date(version.at).toLocaleString()}</td>
                <td>{version.origin}</td>
                <td>{version.actor ?? version.instance ?? ''}</td>
                <td>{version.size}</td>
                <td>
                  {!version.deleted && <button onClick={() => void showDiff(version.revision)}>Diff with current</button>}{' '}
                  {!version.deleted && <button onClick={() => void restore(version.revision)}>Restore</button>}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {compare && <DiffTable left={compare.old} right={compare.current} leftTitle={`version ${compare.revision}`} rightTitle="current" />}
    </div>
  );
}

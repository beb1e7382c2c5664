/** Files: the scope's tree (sizes, revisions) kept live from the event stream, and the open file. */
import { useEffect, useMemo, useState } from 'preact/hooks';
import { mayWrite } from '../lib/grant.js';
import { applyEvent, buildTree, formatSize, type FileEntry, type TreeNode } from '../lib/tree.js';
import { FilePane } from './file-pane.js';
import { focusOnMount } from '../route.js';
import type { ViewProps } from './types.js';

/** A directory is open when the user opened it, or by default in a small scope or on the way to the open file. */
interface Openness {
  isOpen: (path: string) => boolean;
  toggle: (path: string) => void;
}

// Above this many files only the way to the open file starts expanded: the tree stays quick to draw.
const EXPAND_ALL_UP_TO = 300;

function Tree({ node, open, onOpen, dirs }: { node: TreeNode; open: string; onOpen: (path: string) => void; dirs: Openness }) {
  return (
    <ul>
      {node.children.map((child) => (
        <li key={child.path}>
          {child.file ? (
            <div class="row" aria-current={child.path === open ? 'true' : undefined}>
              <a href={`#/files${child.path.split('/').map(encodeURIComponent).join('/')}`} class="file-link" onClick={(event) => { event.preventDefault(); onOpen(child.path); }}>{child.name}</a>
              <span class="meta">{formatSize(child.size)} · r{child.file.revision}</span>
            </div>
          ) : (
            <>
              <button class="row dir" aria-expanded={dirs.isOpen(child.path)} onClick={() => dirs.toggle(child.path)}>
                <span>{dirs.isOpen(child.path) ? '▾' : '▸'} {child.name}/</span><span class="meta">{child.count} files · {formatSize(child.size)}</span>
              </button>
              {dirs.isOpen(child.path) && <Tree node={child} open={open} onOpen={onOpen} dirs={dirs} />}
            </>
          )}
        </li>
      ))}
    </ul>
  );
}

export function FilesView({ api, caller, rest, navigate, onEvent }: ViewProps) {
  const [files, setFiles] = useState<Map<string, FileEntry>>();
  const [error, setError] = useState<string>();
  const [creating, setCreating] = useState<string>();
  const open = rest ? `/${rest.replace(/^\/+/, '')}` : '';

  const reload = () => api.get<{ files: FileEntry[] }>('v1/files').then(
    (listing) => setFiles(new Map(listing.files.map((file) => [file.path, file]))),
    (err: unknown) => setError(err instanceof Error ? err.message : String(err)),
  );
  useEffect(() => void reload(), [api]);
  useEffect(() => onEvent((event) => {
    setFiles((current) => {
      if (!current) return current;
      const next = new Map(current);
      const outcome = applyEvent(next, event.type, event.data);
      if (outcome === 'reload') void reload();
      return outcome === 'changed' ? next : current;
    });
  }), [onEvent]);
  const tree = useMemo(() => buildTree(files?.values() ?? []), [files]);
  const [toggled, setToggled] = useState<Map<string, boolean>>(new Map());
  const dirs: Openness = {
    isOpen: (path) => toggled.get(path) ?? ((files?.size ?? 0) <= EXPAND_ALL_UP_TO || open.startsWith(`${path}/`)),
    toggle: (path) => setToggled((current) => new Map(current).set(path, !dirs.isOpen(path))),
  };

  const create = async (path: string) => {
    const full = `/${path.replace(/^\/+/, '')}`;
    try {
      await api.request('PUT', api.filePath(full), { body: '', headers: { 'if-none-match': '*', 'content-type': 'text/plain; charset=utf-8' } });
      setCreating(undefined);
      navigate('files', full);
    } catch (err) {
      setError(err instanceof Error ? err.message : String(err));
    }
  };
  const mayCreateSomewhere = caller.owner || (caller.grant?.write.length ?? 0) > 0;

  return (
    <div class="files">
      <aside>
        <div class="toolbar">
          <strong>Files</strong>
          {files && <span class="hint">{files.size} files · {formatSize(tree.size)}</span>}
          {mayCreateSomewhere && creating === undefined && <button onClick={() => setCreating(caller.owner ? '/' : `${caller.grant!.write[0]!.replace(/\/?$/, '/')}`)}>New file</button>}
        </div>
        {creating !== undefined && (
          <form class="toolbar" onSubmit={(event) => { event.preventDefault(); void create(creating); }} onKeyDown={(event) => event.key === 'Escape' && setCreating(undefined)}>
            <input aria-label="New file path" ref={focusOnMount} value={creating} onInput={(event) => setCreating(event.currentTarget.value)} />
            <button type="submit" class="primary" disabled={!mayWrite(caller, `/${creating.replace(/^\/+/, '')}`)}>Create</button>
            <button type="button" onClick={() => setCreating(undefined)}>Cancel</button>
          </form>
        )}
        {error && <p class="error" role="alert">{error}</p>}
        {files && files.size === 0 && <p class="hint">No files yet.</p>}
        <nav class="tree" aria-label="File tree"><Tree node={tree} open={open} onOpen={(path) => navigate('files', path)} dirs={dirs} /></nav>
      </aside>
      <div>
        {open ? <FilePane api={api} caller={caller} path={open} navigate={navigate} onEvent={onEvent} /> : <p class="hint">Choose a file to view it.</p>}
      </div>
    </div>
  );
}

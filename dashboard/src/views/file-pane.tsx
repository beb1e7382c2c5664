/**
 * One file: shown by its type (text with line numbers, JSON pretty-printed,
 * images, binary as size and type with a download), and edited with
 * If-Match so a newer revision is never overwritten: a stale save shows the
 * newer text and offers a three-way merge.
 */
import { useEffect, useRef, useState } from 'preact/hooks';
import { ApiError, type Api } from '../api.js';
import { mayDelete, mayMove, mayWrite } from '../lib/grant.js';
import { highlightedLines } from '../lib/highlighter.js';
import { threeWayMerge } from '../lib/merge.js';
import { formatSize, kindOf } from '../lib/tree.js';
import { focusOnMount } from '../route.js';
import type { Caller, ViewProps } from './types.js';

interface Loaded {
  bytes: Uint8Array;
  revision: string;
  type: string;
}

async function load(api: Api, path: string): Promise<Loaded> {
  const response = await api.request('GET', api.filePath(path));
  const revision = response.headers.get('x-scopefs-revision') ?? (response.headers.get('etag') ?? '').replace(/"/g, '');
  return { bytes: new Uint8Array(await response.arrayBuffer()), revision, type: response.headers.get('content-type') ?? '' };
}

const decode = (bytes: Uint8Array) => new TextDecoder().decode(bytes);

export function Lines({ text, path = '' }: { text: string; path?: string }) {
  return <pre class="code" tabIndex={0}>{highlightedLines(text, path).map((line, index) => <span class="ln" key={index}>{line}{'\n'}</span>)}</pre>;
}

function Content({ file, path }: { file: Loaded; path: string }) {
  const kind = kindOf(file.type, file.bytes);
  const [url, setUrl] = useState<string>();
  useEffect(() => {
    if (kind !== 'image' && kind !== 'binary') return;
    const made = URL.createObjectURL(new Blob([file.bytes as BlobPart], { type: file.type }));
    setUrl(made);
    return () => URL.revokeObjectURL(made);
  }, [file]);
  if (kind === 'json') {
    let text = decode(file.bytes);
    try {
      text = JSON.stringify(JSON.parse(text), null, 2);
    } catch {
      // not valid JSON after all: shown as it is
    }
    return <Lines text={text} path={path} />;
  }
  if (kind === 'text') return <Lines text={decode(file.bytes)} path={path} />;
  if (kind === 'image') return url ? <img class="image" src={url} alt={path} /> : null;
  return (
    <p>
      Binary file, {formatSize(file.bytes.byteLength)}, {file.type || 'unknown type'}.{' '}
      {url && <a href={url} download={path.split('/').pop()}>Download</a>}
    </p>
  );
}

/** Unsaved edits of files the user left for another one, by API root and path (this tab only, in memory). */
const drafts = new Map<string, { base: string; revision: string; text: string }>();

interface Stale {
  theirs: string;
  revision: string;
}

export function FilePane({ api, caller, path, navigate, onEvent }: { api: Api; caller: Caller; path: string } & Pick<ViewProps, 'navigate' | 'onEvent'>) {
  const [file, setFile] = useState<Loaded>();
  const [error, setError] = useState<string>();
  const [editing, setEditing] = useState<{ base: string; revision: string; text: string }>();
  const [stale, setStale] = useState<Stale>();
  const [changedMeanwhile, setChangedMeanwhile] = useState(false);
  const [action, setAction] = useState<'rename' | 'delete'>();
  const [target, setTarget] = useState(path);
  const [note, setNote] = useState<string>();
  const editingRef = useRef(editing);
  editingRef.current = editing;

  const refresh = () => load(api, path).then(setFile, (err: unknown) => setError(err instanceof Error ? err.message : String(err)));
  useEffect(() => {
    const key = `${api.root}${path}`;
    const draft = drafts.get(key);
    drafts.delete(key);
    setFile(undefined); setError(undefined); setEditing(draft); setStale(undefined); setAction(undefined); setChangedMeanwhile(false);
    setNote(draft ? 'Your unsaved edit of this file was kept: save it (a newer version is offered for merging) or cancel it.' : undefined);
    setTarget(path);
    void refresh();
    // Leaving for another file keeps an unsaved edit for when the user comes back.
    return () => {
      const current = editingRef.current;
      if (current && current.text !== current.base) drafts.set(key, current);
    };
  }, [api, path]);
  useEffect(() => onEvent((event) => {
    if (event.data['path'] !== path && event.data['from'] !== path) return;
    if (event.type === 'file_deleted' || event.type === 'file_moved') setNote(`This file was ${event.type === 'file_deleted' ? 'deleted' : `moved to ${String(event.data['to'])}`} (${String(event.data['origin'] ?? '')}).`);
    else if (event.type === 'file_updated') {
      if (editingRef.current) setChangedMeanwhile(true);
      else void refresh();
    }
  }), [onEvent, path]);

  // Unsaved text is not dropped silently by closing or reloading the tab.
  const unsaved = editing !== undefined && editing.text !== editing.base;
  useEffect(() => {
    if (!unsaved) return;
    const warn = (event: BeforeUnloadEvent) => event.preventDefault();
    addEventListener('beforeunload', warn);
    return () => removeEventListener('beforeunload', warn);
  }, [unsaved]);

  const save = async () => {
    if (!editing) return;
    try {
      const response = await api.request('PUT', api.filePath(path), { body: editing.text, headers: { 'if-match': `"${editing.revision}"`, 'content-type': file?.type || 'text/plain; charset=utf-8' } });
      const meta = (await response.json()) as { revision: string | number };
      setEditing(undefined); setStale(undefined); setChangedMeanwhile(false);
      setNote(`Saved as revision ${meta.revision}.`);
      await refresh();
    } catch (err) {
      if (err instanceof ApiError && err.status === 412) {
        const newer = await load(api, path);
        setFile(newer);
        setStale({ theirs: decode(newer.bytes), revision: newer.revision });
        return;
      }
      setError(err instanceof Error ? err.message : String(err));
    }
  };

  const mergeNow = () => {
    if (!editing || !stale) return;
    const merged = threeWayMerge(editing.base, editing.text, stale.theirs);
    setEditing({ base: stale.theirs, revision: stale.revision, text: merged.text });
    setStale(undefined); setChangedMeanwhile(false);
    setNote(merged.conflict ? 'Merged with conflicts: resolve the <<<<<<< / >>>>>>> blocks, then save.' : 'Merged cleanly with the newer version: review, then save.');
  };

  const move = async () => {
    try {
      await api.json('POST', 'v1/move', { from: path, to: target });
      navigate('files', target);
    } catch (err) {
      setError(err instanceof Error ? err.message : String(err));
    }
  };
  const remove = async () => {
    try {
      await api.request('DELETE', api.filePath(path), { headers: file ? { 'if-match': `"${file.revision}"` } : {} });
      navigate('files', '');
    } catch (err) {
      setError(err instanceof Error ? err.message : String(err));
    }
  };

  const text = file ? kindOf(file.type, file.bytes) !== 'binary' && kindOf(file.type, file.bytes) !== 'image' : false;
  return (
    <section class="file" aria-label={`File ${path}`}>
      <div class="toolbar">
        <span class="path">{path}</span>
        {file && <span class="hint">revision {file.revision}, {formatSize(file.bytes.byteLength)}, {file.type}</span>}
        {file && text && !editing && mayWrite(caller, path) && <button onClick={() => setEditing({ base: decode(file.bytes), revision: file.revision, text: decode(file.bytes) })}>Edit</button>}
        {file && !editing && mayMove(caller, path, path) && <button onClick={() => setAction('rename')}>Rename</button>}
        {file && !editing && mayDelete(caller, path) && <button class="danger" onClick={() => setAction('delete')}>Delete</button>}
      </div>
      {action === 'rename' && (
        <form class="toolbar" onSubmit={(event) => { event.preventDefault(); void move(); }} onKeyDown={(event) => event.key === 'Escape' && setAction(undefined)}>
          <input aria-label="New path" value={target} ref={focusOnMount} onInput={(event) => setTarget(event.currentTarget.value)} />
          <button type="submit" class="primary">Move</button>
          <button type="button" onClick={() => setAction(undefined)}>Cancel</button>
        </form>
      )}
      {action === 'delete' && (
        <div class="notice bad" role="alertdialog" aria-label="Confirm delete" onKeyDown={(event) => event.key === 'Escape' && setAction(undefined)}>
          Delete {path}? <button class="danger" ref={focusOnMount} onClick={() => void remove()}>Delete</button> <button onClick={() => setAction(undefined)}>Cancel</button>
        </div>
      )}
      {error && <p class="error" role="alert">{error}</p>}
      {note && <p class="notice" role="status">{note}</p>}
      {stale && (
        <div class="notice bad stale" role="alert">
          <p>Not saved: this file changed on the server (now revision {stale.revision}) since you opened it. Nothing was overwritten.</p>
          <button class="primary" onClick={mergeNow}>Merge my changes into the newer version</button>{' '}
          <button onClick={() => { setEditing(undefined); setStale(undefined); }}>Discard mine, keep the newer version</button>
          <h4>The newer version</h4>
          <Lines text={stale.theirs} path={path} />
        </div>
      )}
      {editing ? (
        <div onKeyDown={(event) => {
          if ((event.ctrlKey || event.metaKey) && event.key === 's') { event.preventDefault(); void save(); }
        }}>
          {changedMeanwhile && !stale && <p class="notice">This file changed on the server while you edit; saving will offer a merge.</p>}
          <textarea class="editor" aria-label="File content" ref={focusOnMount} value={editing.text} onInput={(event) => setEditing({ ...editing, text: event.currentTarget.value })} />
          <div class="toolbar">
            <button class="primary" onClick={() => void save()}>Save</button>
            <button onClick={() => setEditing(undefined)}>Cancel</button>
            <span class="hint">Ctrl+S saves. Saved only if nobody changed it meanwhile (If-Match revision {editing.revision}).</span>
          </div>
        </div>
      ) : file ? <Content file={file} path={path} /> : !error && <p class="hint">Loading…</p>}
    </section>
  );
}

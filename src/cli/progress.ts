import cliProgress from 'cli-progress';
import type { SyncHandle } from '../sync/types.js';

export interface ProgressHandle {
  stop(): void;
}

/** Progress is drawn only for a person watching: stdout is a terminal and no `--json`. */
export function wantsProgress(json: boolean | undefined, stream: NodeJS.WriteStream = process.stdout): boolean {
  return !json && stream.isTTY === true;
}

function bar(format: string, stream: NodeJS.WritableStream): cliProgress.SingleBar {
  return new cliProgress.SingleBar(
    { format, stream, hideCursor: true, clearOnComplete: false, barsize: 30 },
    cliProgress.Presets.shades_classic,
  );
}

/**
 * A bar for sync catching up: files synced (push or pull) out of those synced
 * plus those still pending. Pending work is read from the status a few times
 * a second; the caller stops the bar when sync goes idle.
 */
export function showSyncProgress(sync: SyncHandle, stream: NodeJS.WritableStream = process.stdout): ProgressHandle {
  const progress = bar('sync  {bar} {files}  {state}', stream);
  const synced = new Set<string>();
  let pending = 0;
  let state = 'connecting';
  // The running pass's own count (sync_progress): a pull of many files shows its real size while it runs.
  let pass: { done: number; total: number } | undefined;
  const counts = () => (pass ? pass : { done: synced.size, total: synced.size + pending });
  const payload = () => ({ state, files: `${counts().done}/${counts().total} files` });
  progress.start(1, 0, payload());
  const redraw = () => {
    // cli-progress needs a total above zero; the text shows the real counts.
    progress.setTotal(Math.max(1, counts().total));
    progress.update(counts().done, payload());
  };
  const unsubscribe = sync.subscribe((event) => {
    if (event.type === 'synced') for (const path of event.paths) synced.add(path);
    if (event.type === 'sync_state') state = event.state;
    if (event.type === 'sync_progress') pass = event.done < event.total ? { done: event.done, total: event.total } : undefined;
    redraw();
  });
  const poll = setInterval(() => {
    sync.status().then(
      (status) => {
        pending = status.pending.length;
        state = status.state;
        redraw();
      },
      () => undefined, // restarting: the next poll will tell
    );
  }, 250);
  return {
    stop: () => {
      clearInterval(poll);
      unsubscribe();
      pending = 0;
      pass = undefined;
      state = synced.size === 0 ? 'up to date' : 'done';
      progress.setTotal(1);
      progress.update(1, payload());
      progress.stop();
    },
  };
}

/** A bar for store migrations; feed it `(done, total)` as the migrator reports them. */
export function migrationProgress(stream: NodeJS.WritableStream = process.stdout): {
  update(done: number, total: number): void;
  stop(): void;
} {
  const progress = bar('migrate  {bar} {value}/{total} migrations', stream);
  let started = false;
  return {
    update: (done, total) => {
      if (!started) progress.start(Math.max(total, 1), done);
      else progress.update(done);
      started = true;
    },
    stop: () => {
      if (started) progress.stop();
    },
  };
}

/** A bar for a tail backfill: files read out of those chosen; fed from the serve's tail status. */
export function backfillProgress(stream: NodeJS.WritableStream = process.stdout): { update(done: number, total: number): void; stop(): void } {
  const progress = bar('backfill  {bar} {value}/{total} files', stream);
  let state: 'idle' | 'running' | 'stopped' = 'idle';
  return {
    update: (done, total) => {
      if (state === 'stopped') return;
      if (state === 'idle') progress.start(Math.max(total, 1), done);
      else {
        progress.setTotal(Math.max(total, 1));
        progress.update(done);
      }
      state = 'running';
    },
    stop: () => {
      if (state === 'running') progress.stop();
      state = 'stopped';
    },
  };
}

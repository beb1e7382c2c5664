import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MemoryStore } from '../../persistence/stores/memory-store.js';
import type { SyncStore } from '../../persistence/stores/types.js';
import { startScope, type RunningScope } from '../../supervisors/scope/scopes.js';
import type { SyncOptions } from '../../src/sync/sync-actor.js';
import type { SyncEvent } from '../../src/sync/types.js';

let counter = 0;

export interface SyncedScope extends RunningScope {
  events: SyncEvent[];
  dir: string;
}

/** A temp directory holding instance roots; remove() stops every scope started in it. */
export class SyncLab {
  readonly scopes: SyncedScope[] = [];
  private constructor(
    readonly dir: string,
    readonly store: SyncStore,
  ) {}

  static async create(store: SyncStore = new MemoryStore()): Promise<SyncLab> {
    return new SyncLab(await mkdtemp(join(tmpdir(), 'scopefs-sync-')), store);
  }

  /** Starts (or restarts) an instance whose root is `<dir>/<name>`. */
  async start(name: string, sync: Partial<SyncOptions> = {}, extra: { watch?: boolean } = {}): Promise<SyncedScope> {
    const scope = (await startScope({
      scopeKey: ['lab', ++counter, name],
      root: join(this.dir, name),
      watch: extra.watch ?? false,
      sync: { store: this.store, app: 'lab', instanceId: name, debounceMs: 5, backoff: { initialMs: 20, maxMs: 200 }, ...sync },
    })) as SyncedScope;
    scope.events = [];
    scope.dir = join(this.dir, name);
    scope.sync!.subscribe((event) => scope.events.push(event));
    this.scopes.push(scope);
    return scope;
  }

  /** Waits until every given scope is idle twice in a row (their pushes reach each other). */
  async settle(...scopes: SyncedScope[]): Promise<void> {
    for (let round = 0; round < 2; round++) {
      for (const scope of scopes) await scope.sync!.idle({ timeoutMs: 20_000 });
    }
  }

  /**
   * Concurrent edits: `edit` runs while `a` is cut off (paused), `b` pushes
   * its side first, then `a` reconnects and has to reconcile both.
   */
  async editConcurrently(a: SyncedScope, b: SyncedScope, edit: () => Promise<void>): Promise<void> {
    await a.sync!.pause();
    await edit();
    await b.sync!.idle();
    await a.sync!.resume();
  }

  /** Two instances that both edited /c.json (JSON values: no merge possible); `a` holds the conflict. */
  async conflictOnC(): Promise<{ a: SyncedScope; b: SyncedScope; conflict: Extract<SyncEvent, { type: 'conflict' }> }> {
    const a = await this.start('a');
    const b = await this.start('b');
    await a.fs.writeFile('/c.json', '{"v":0}');
    await this.settle(a, b);
    await this.editConcurrently(a, b, async () => {
      await a.fs.writeFile('/c.json', '{"v":"a"}');
      await b.fs.writeFile('/c.json', '{"v":"b"}');
    });
    return { a, b, conflict: await nextEvent(a, 'conflict') };
  }

  async remove(): Promise<void> {
    await Promise.all(this.scopes.map((s) => s.stop().catch(() => undefined)));
    await rm(this.dir, { recursive: true, force: true });
  }
}

/** Resolves with the first event of `scope` that matches (past or future). */
export function nextEvent<T extends SyncEvent['type']>(
  scope: SyncedScope,
  type: T,
  predicate: (event: Extract<SyncEvent, { type: T }>) => boolean = () => true,
): Promise<Extract<SyncEvent, { type: T }>> {
  const match = (e: SyncEvent): e is Extract<SyncEvent, { type: T }> =>
    e.type === type && predicate(e as Extract<SyncEvent, { type: T }>);
  const past = scope.events.find(match);
  if (past) return Promise.resolve(past);
  return new Promise((resolve) => {
    const unsubscribe = scope.sync!.subscribe((event) => {
      if (match(event)) {
        unsubscribe();
        resolve(event);
      }
    });
  });
}

/**
 * A sandbox for hostile inputs: a temp directory holding instance roots, a
 * SQLite store, and an `outside` directory beside the roots with a secret in
 * it. After each case it answers the three questions every case must pass:
 * did anything change outside the roots, did a secret reach the store, did
 * any actor crash.
 */
import Database from 'better-sqlite3';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative, sep } from 'node:path';
import { sha256 } from '../../../src/content.js';
import type { SyncOptions } from '../../../src/sync/sync-actor.js';
import { startScope, type RunningScope, type ScopeOptions } from '../../../supervisors/scope/scopes.js';

/** Content of every secret the sandbox plants; it must never appear in the store. */
export const SECRET = 'SCOPEFS-HOSTILE-SECRET-7f3a9c';

let scopeCounter = 0;

export class Sandbox {
  readonly outside: string;
  readonly storeFile: string;
  readonly crashes: string[] = [];
  private readonly scopes: RunningScope[] = [];
  private baseline = new Map<string, string>();

  private constructor(readonly dir: string) {
    this.outside = join(dir, 'outside');
    this.storeFile = join(dir, 'store.db');
  }

  static async create(): Promise<Sandbox> {
    const sandbox = new Sandbox(await mkdtemp(join(tmpdir(), 'scopefs-rel-hostile-')));
    await mkdir(join(sandbox.outside, 'nested'), { recursive: true });
    await writeFile(join(sandbox.outside, 'secret.txt'), `${SECRET} in a file outside the root\n`);
    await writeFile(join(sandbox.outside, 'nested', 'id_rsa'), `${SECRET} private key\n`);
    sandbox.baseline = await sandbox.outsideTree();
    return sandbox;
  }

  rootOf(name: string): string {
    return join(this.dir, name);
  }

  get storeUrl(): string {
    return `sqlite:${this.storeFile}`;
  }

  /** Starts an instance rooted at `<dir>/<name>`, recording any actor crash. */
  async start(name: string, options: { sync?: Partial<SyncOptions>; scope?: Partial<ScopeOptions> } = {}): Promise<RunningScope> {
    const scope = await startScope({
      scopeKey: ['hostile', ++scopeCounter, name],
      root: this.rootOf(name),
      watch: false,
      ...options.scope,
      sync: { store: this.storeUrl, app: 'hostile', instanceId: name, debounceMs: 5, backoff: { initialMs: 20, maxMs: 200 }, ...options.sync },
    });
    scope.supervisor.onChildEvent((event) => {
      if (event.type === 'exited' && event.reason instanceof Error) this.crashes.push(`${name}/${event.id}: ${event.reason.message}`);
    });
    this.scopes.push(scope);
    return scope;
  }

  /** Files outside the roots and the store that appeared or changed since the sandbox was made. */
  async escapes(): Promise<string[]> {
    const problems: string[] = [];
    const now = await this.outsideTree();
    for (const [path, hash] of this.baseline) {
      if (now.get(path) !== hash) problems.push(`outside file ${path} changed or vanished`);
    }
    for (const path of now.keys()) if (!this.baseline.has(path)) problems.push(`new file outside the root: outside/${path}`);
    const roots = new Set(this.scopes.map((s) => relative(this.dir, s.root!).split(sep)[0]));
    for (const entry of await readdir(this.dir)) {
      if (entry === 'outside' || entry.startsWith('store.db') || roots.has(entry)) continue;
      problems.push(`unexpected entry beside the roots: ${entry}`);
    }
    return problems;
  }

  /** Store rows whose path or content carries the secret, or whose path is in `forbidden`. */
  storeLeaks(forbidden: readonly string[] = []): string[] {
    if (!existsSync(this.storeFile)) return []; // another store is in use, or nothing was pushed
    const db = new Database(this.storeFile, { readonly: true });
    try {
      const rows = db.prepare('SELECT path, content FROM scopefs_files').all() as Array<{ path: unknown; content: unknown }>;
      return rows
        .filter(({ path, content }) => String(path).includes(SECRET) || forbidden.includes(String(path)) || contentHasSecret(content))
        .map(({ path }) => `store row ${JSON.stringify(String(path))} carries a secret`);
    } catch (err) {
      if ((err as { code?: string }).code === 'SQLITE_ERROR') return []; // no table yet: nothing was pushed
      throw err;
    } finally {
      db.close();
    }
  }

  /** Everything a case must never do, as messages (empty when clean). */
  async violations(forbidden: readonly string[] = []): Promise<string[]> {
    return [...(await this.escapes()), ...this.storeLeaks(forbidden), ...this.crashes.map((c) => `actor crashed: ${c}`)];
  }

  async remove(): Promise<void> {
    await Promise.all(this.scopes.splice(0).map((s) => s.stop().catch(() => undefined)));
    await rm(this.dir, { recursive: true, force: true });
  }

  private async outsideTree(): Promise<Map<string, string>> {
    const tree = new Map<string, string>();
    for (const entry of await readdir(this.outside, { recursive: true, withFileTypes: true })) {
      if (!entry.isFile()) continue;
      const full = join(entry.parentPath, entry.name);
      tree.set(relative(this.outside, full), sha256(await readFile(full)));
    }
    return tree;
  }
}

function contentHasSecret(content: unknown): boolean {
  if (content === null || content === undefined) return false;
  return Buffer.from(content as Uint8Array | string).toString('latin1').includes(SECRET);
}

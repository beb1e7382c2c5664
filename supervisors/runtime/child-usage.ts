/**
 * Which children of a DynamicSupervisor are in use, and since when the
 * others are idle: the decisions behind `idleMs` and `maxActive`. Pure: the
 * clock is given, nothing is stopped here.
 */
export class ChildUsage {
  constructor(private readonly now: () => number = Date.now) {}

  private readonly users = new Map<string, number>();
  private readonly lastUsed = new Map<string, number>();
  /** Order of last use (a clock can tie): what least-recently-used compares. */
  private readonly lastSeq = new Map<string, number>();
  private seq = 0;

  /** One more use of `id` (a request in flight); call the returned function once when it ends. */
  use(id: string): () => void {
    this.users.set(id, (this.users.get(id) ?? 0) + 1);
    this.touch(id);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const left = (this.users.get(id) ?? 1) - 1;
      if (left > 0) this.users.set(id, left);
      else this.users.delete(id);
      this.touch(id);
    };
  }

  private touch(id: string): void {
    this.lastUsed.set(id, this.now());
    this.lastSeq.set(id, ++this.seq);
  }

  inUse(id: string): boolean {
    return this.users.has(id);
  }

  /** Since when `id` has been idle (ms since the epoch), or undefined while in use or never seen. */
  idleSince(id: string): number | undefined {
    return this.inUse(id) ? undefined : this.lastUsed.get(id);
  }

  /** Among `running`, the ones idle for at least `idleMs` now. */
  expired(running: readonly string[], idleMs: number): string[] {
    const now = this.now();
    return running.filter((id) => {
      const since = this.idleSince(id);
      return since !== undefined && now - since >= idleMs;
    });
  }

  /** Among `running`, the idle one used least recently (the first to evict), if any. */
  leastRecentlyUsed(running: readonly string[]): string | undefined {
    let best: string | undefined;
    let bestSeq = Infinity;
    for (const id of running) {
      if (this.inUse(id)) continue;
      const since = this.lastSeq.get(id) ?? -Infinity; // never used: first to go
      if (since < bestSeq) {
        best = id;
        bestSeq = since;
      }
    }
    return best;
  }

  /** Forgets a stopped child. */
  forget(id: string): void {
    if (this.users.has(id)) return;
    this.lastUsed.delete(id);
    this.lastSeq.delete(id);
  }
}

/**
 * Paths a `fail-stop` rule holds, and the resolutions asked for them. A
 * held path is decided again whenever it is a candidate (so it is released
 * as soon as its sides agree or its rule changes) but nothing is applied to
 * it; resolving it with `local` or `remote` makes its next decision use that
 * strategy instead, so the loser is kept as a resolved copy like any other
 * rule's. Not persisted: a restart's full pass holds the same paths again.
 */
import { ScopeFsError } from '../errors.js';
import type { ReconcileCase } from './reconcile.js';
import { describeRule, type AppliedRule, type HeldPath } from './strategies.js';

export class HeldPaths {
  private readonly held = new Map<string, HeldPath>();
  private readonly resolutions = new Map<string, 'local' | 'remote'>();

  has(path: string): boolean {
    return this.held.has(path);
  }

  /** Every held path, by path. */
  list(): HeldPath[] {
    return [...this.held.values()].sort((a, b) => a.path.localeCompare(b.path));
  }

  /** Holds a path; returns its entry when it was newly held (so the event is sent once), else undefined. */
  hold(path: string, rule: AppliedRule, kase: ReconcileCase, at: Date): HeldPath | undefined {
    const known = this.held.get(path);
    const entry: HeldPath = { path, strategy: rule.strategy, rule: describeRule(rule), case: kase, since: known?.since ?? at.toISOString() };
    this.held.set(path, entry);
    return known === undefined ? entry : undefined;
  }

  /** The path was decided and carried out without being held: it is free again, and its resolution used. */
  settled(path: string): void {
    this.held.delete(path);
    this.resolutions.delete(path);
  }

  /** Asks for the held path's next decision to keep `side`. */
  resolve(path: string, side: 'local' | 'remote'): void {
    if (!this.held.has(path)) throw new ScopeFsError('ENOENT', `${JSON.stringify(path)} is not held by a fail-stop rule`, { path });
    this.resolutions.set(path, side);
  }

  /** The rule a path is decided under: its own, or the resolution asked for it. */
  ruleFor(path: string, own: AppliedRule): AppliedRule {
    const side = this.resolutions.get(path);
    return side === undefined ? own : { strategy: side, source: 'resolution', pattern: own.pattern, index: own.index };
  }

  /** The config changed: every path is decided afresh under its new rule. */
  clear(): void {
    this.held.clear();
    this.resolutions.clear();
  }
}

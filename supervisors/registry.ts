import { ScopeFsError } from '../src/errors.js';
import type { ScopeKey } from '../src/types.js';
import { canonicalScopeKey } from './scope-key.js';

/**
 * Finds things (running scopes) by scope key. Keys are canonicalised, so
 * `['user', 123]`, `'user/123'` and `['user', '123']` are one entry.
 * An invalid key is EINVAL, whatever the method.
 */
export class Registry<V> {
  private readonly entries = new Map<string, V>();

  /** EEXIST if the key is taken. */
  register(key: ScopeKey, value: V): void {
    const canonical = canonicalScopeKey(key);
    if (this.entries.has(canonical)) {
      throw new ScopeFsError('EEXIST', `scope key "${canonical}" is already registered`);
    }
    this.entries.set(canonical, value);
  }

  lookup(key: ScopeKey): V | undefined {
    return this.entries.get(canonicalScopeKey(key));
  }

  /**
   * Removes the entry; returns whether there was one. With `value`, only when
   * that is still the registered value, so a late cleanup of an old entry
   * cannot remove its replacement.
   */
  unregister(key: ScopeKey, value?: V): boolean {
    const canonical = canonicalScopeKey(key);
    if (value !== undefined && this.entries.get(canonical) !== value) return false;
    return this.entries.delete(canonical);
  }

  /** Canonical keys, in registration order. */
  keys(): string[] {
    return [...this.entries.keys()];
  }

  get size(): number {
    return this.entries.size;
  }
}

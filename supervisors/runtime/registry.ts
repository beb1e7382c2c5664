import { RuntimeError } from './errors.js';

/**
 * Finds things by key. Keys go through `canonical` first, so different forms
 * of one key are one entry; whatever `canonical` throws (a bad key) is thrown
 * by every method. The runtime does not know what a key is: the scope layer
 * supplies scope keys (see ScopeRegistry).
 */
export class Registry<K, V> {
  private readonly entries = new Map<string, V>();

  constructor(
    private readonly canonical: (key: K) => string,
    /** How a key is named in errors: "scope key". */
    private readonly label = 'key',
  ) {}

  /** EEXIST if the key is taken. */
  register(key: K, value: V): void {
    const canonical = this.canonical(key);
    if (this.entries.has(canonical)) {
      throw new RuntimeError('EEXIST', `${this.label} "${canonical}" is already registered`);
    }
    this.entries.set(canonical, value);
  }

  lookup(key: K): V | undefined {
    return this.entries.get(this.canonical(key));
  }

  /**
   * Removes the entry; returns whether there was one. With `value`, only when
   * that is still the registered value, so a late cleanup of an old entry
   * cannot remove its replacement.
   */
  unregister(key: K, value?: V): boolean {
    const canonical = this.canonical(key);
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

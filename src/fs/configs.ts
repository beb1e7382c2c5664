/**
 * Persistence configs: which driver (if any) owns a virtual path. The
 * longest matching `base` wins, then the `default` config; a path under
 * neither is memory-only.
 */
import { fsErrors } from '../errors.js';
import { normalizePrefix } from '../paths.js';
import type { PersistenceConfig, PersistenceConfigInfo } from '../types.js';
import type { PersistenceDriver } from '../../persistence/drivers/types.js';

export const DEFAULT_MAX_FILE_BYTES = 64 * 1024 * 1024;
export const DEFAULT_DEBOUNCE_MS = 500;

/** A validated config with every limit resolved. */
export interface ResolvedConfig {
  /** Unique within one server; names the config in location keys. */
  readonly id: number;
  /** Normalised prefix with a trailing slash (`/docs/`); `/` for the default config. */
  readonly prefix: string;
  readonly base: string;
  readonly driver: PersistenceDriver;
  readonly debounceMs: number;
  readonly readonly: boolean;
  readonly isDefault: boolean;
  readonly maxFileBytes: number;
}

/** Where a virtual path lives in persistence. */
export interface Location {
  readonly config: ResolvedConfig;
  /** The path as the driver sees it (relative to the config's base). */
  readonly driverPath: string;
}

export interface ConfigDefaults {
  debounceMs: number;
  maxFileBytes: number;
}

export class ConfigTable {
  private readonly defaults: ConfigDefaults;
  /** Non-default configs, longest prefix first, so the first match wins. */
  private bases: ResolvedConfig[] = [];
  private fallback: ResolvedConfig | undefined;
  private nextId = 1;

  constructor(defaults: ConfigDefaults) {
    this.defaults = defaults;
  }

  /** Validates and adds a config; throws EINVAL for a bad or duplicate one. */
  add(config: PersistenceConfig): ResolvedConfig {
    const resolved = this.resolve(config);
    if (resolved.isDefault) {
      if (this.fallback) throw fsErrors.invalid('there is already a default persistence config');
      this.fallback = resolved;
    } else {
      if (this.bases.some((c) => c.prefix === resolved.prefix)) {
        throw fsErrors.invalid(`a persistence config for ${JSON.stringify(resolved.base)} already exists`, resolved.base);
      }
      this.bases = [...this.bases, resolved].sort((a, b) => b.prefix.length - a.prefix.length);
    }
    return resolved;
  }

  /** Removes a config added by `add` (used to undo a registration whose indexing failed). */
  remove(config: ResolvedConfig): void {
    if (this.fallback === config) this.fallback = undefined;
    this.bases = this.bases.filter((c) => c !== config);
  }

  /** The config owning `path` and the driver's name for it; undefined when memory-only. */
  locate(path: string): Location | undefined {
    const config = this.bases.find((c) => path.startsWith(c.prefix)) ?? this.fallback;
    if (!config) return undefined;
    return { config, driverPath: `/${path.slice(config.prefix.length)}` };
  }

  /** The virtual path of a driver path under `config`. */
  virtualPath(config: ResolvedConfig, driverPath: string): string {
    return config.prefix + driverPath.replace(/^\/+/, '');
  }

  /** Size limit for a path (the owning config's, else the server default). */
  maxFileBytes(path: string): number {
    return this.locate(path)?.config.maxFileBytes ?? this.defaults.maxFileBytes;
  }

  all(): ResolvedConfig[] {
    return this.fallback ? [...this.bases, this.fallback] : [...this.bases];
  }

  info(): PersistenceConfigInfo[] {
    return this.all().map((c) => ({
      base: c.base,
      driver: c.driver.name,
      debounceMs: c.debounceMs,
      readonly: c.readonly,
      default: c.isDefault,
      maxFileBytes: c.maxFileBytes,
    }));
  }

  private resolve(config: PersistenceConfig): ResolvedConfig {
    if (!config || typeof config !== 'object') throw fsErrors.invalid('a persistence config must be an object');
    if (!config.driver || typeof config.driver.write !== 'function') {
      throw fsErrors.invalid(`persistence config for ${JSON.stringify(config.base)} has no driver`);
    }
    const isDefault = config.default === true;
    // The default config's base is ignored: it catches every path, so it maps them 1:1.
    const prefix = isDefault ? '/' : normalizePrefix(config.base);
    return {
      id: this.nextId++,
      prefix,
      base: isDefault ? '/' : prefix === '/' ? '/' : prefix.slice(0, -1),
      driver: config.driver,
      debounceMs: nonNegative(config.debounceMs, this.defaults.debounceMs, 'debounceMs'),
      readonly: config.readonly === true,
      isDefault,
      maxFileBytes: nonNegative(config.maxFileBytes, this.defaults.maxFileBytes, 'maxFileBytes'),
    };
  }
}

/** Identifies a location across configs (configs have distinct ids). */
export function locationKey(location: Location): string {
  return `${location.config.id}:${location.driverPath}`;
}

export function nonNegative(value: number | undefined, fallback: number, name: string): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
    throw fsErrors.invalid(`${name} must be a non-negative number, got ${String(value)}`);
  }
  return value;
}

/**
 * Refused requests, recorded before the caller sees the error: a typed
 * error of a change, an access refusal of a read. A scope's own filesystem
 * reports every failed call (stable-fs.ts, into `recordRefusal`); an
 * interface wraps what it hands a caller in `auditedFileSystem`, so the
 * refusals of its own layers (a token's grant) are recorded too. Applied
 * changes are recorded by the filesystem server itself (audit-recorder.ts).
 */
import type { AuditRecorder } from './audit-recorder.js';
import type { FileSystem } from '../types.js';

interface Audited {
  operation: string;
  /** How many leading arguments are paths; `items`: the first argument is a batch, whose items name them. */
  paths: number | 'items';
  /** Where the ChangeOptions (with the actor) are, if any. */
  options?: number;
}

const AUDITED = {
  writeFile: { operation: 'write', paths: 1, options: 2 },
  appendFile: { operation: 'append', paths: 1, options: 2 },
  editFile: { operation: 'edit', paths: 1, options: 3 },
  deleteFile: { operation: 'delete', paths: 1, options: 1 },
  moveFile: { operation: 'move', paths: 2, options: 2 },
  applyBatch: { operation: 'batch', paths: 'items', options: 1 },
  restore: { operation: 'restore', paths: 1, options: 2 },
  restoreCheckpoint: { operation: 'restore_checkpoint', paths: 0, options: 1 },
  deleteCheckpoint: { operation: 'delete_checkpoint', paths: 0 },
  readFile: { operation: 'read', paths: 1 },
  readEntry: { operation: 'read', paths: 1 },
  stat: { operation: 'read', paths: 1 },
  history: { operation: 'read', paths: 1 },
  listFiles: { operation: 'list', paths: 1 },
  listEntries: { operation: 'list', paths: 1 },
} satisfies Record<string, Audited>;

/** A FileSystem method whose refusals are recorded. */
export type AuditedMethod = keyof typeof AUDITED;

/** Records the failure of `method` called with `args` if it is a refusal; `actor` names the caller when the options name none. */
export function recordRefusal(recorder: AuditRecorder, method: AuditedMethod, args: unknown[], actor: string, err: unknown): void {
  const audited: Audited = AUDITED[method];
  recorder.refused(audited.operation, pathsOf(args, audited), actorOf(args, audited) ?? actor, err);
}

/** `fs` with its refusals recorded; `actor` names the caller when the options name none (default `local`). A Proxy, so methods added to FileSystem pass through unchanged. */
export function auditedFileSystem<F extends FileSystem>(fs: F, recorder: AuditRecorder, actor = 'local'): F {
  // One wrapper (or bound method) per method, made on first use: a call pays no allocation for it.
  const wrappers = new Map<string | symbol, { of: unknown; use: unknown }>();
  return new Proxy(fs, {
    get(target, property, receiver) {
      const value = Reflect.get(target, property, receiver) as unknown;
      if (typeof value !== 'function') return value;
      const cached = wrappers.get(property);
      if (cached?.of === value) return cached.use;
      const method = value as (...a: unknown[]) => unknown;
      const use = isAudited(property) ? wrap(target, method, property) : method.bind(target);
      wrappers.set(property, { of: value, use });
      return use;
    },
  });

  function wrap(target: F, method: (...a: unknown[]) => unknown, name: AuditedMethod): (...args: unknown[]) => unknown {
    const refused = (args: unknown[], err: unknown): never => {
      recordRefusal(recorder, name, args, actor, err);
      throw err;
    };
    return (...args: unknown[]) => {
      try {
        const result = method.apply(target, args);
        return result instanceof Promise ? result.catch((err: unknown) => refused(args, err)) : result;
      } catch (err) {
        return refused(args, err);
      }
    };
  }
}

function isAudited(property: string | symbol): property is AuditedMethod {
  return typeof property === 'string' && Object.hasOwn(AUDITED, property);
}

function pathsOf(args: unknown[], audited: Audited): string[] {
  if (audited.paths === 'items') {
    const items = Array.isArray(args[0]) ? (args[0] as Array<{ path?: unknown }>) : [];
    return items.map((item) => item?.path).filter((path): path is string => typeof path === 'string');
  }
  return args.slice(0, audited.paths).filter((a): a is string => typeof a === 'string');
}

function actorOf(args: unknown[], audited: Audited): string | undefined {
  if (audited.options === undefined) return undefined;
  const options = args[audited.options] as { actor?: unknown } | undefined;
  return typeof options?.actor === 'string' ? options.actor : undefined;
}

/**
 * `fs` acting as `actor`: every change it makes names that actor unless the
 * call names its own (for an agent's filesystem: `agent:<id>`), so its
 * events, history and audit entries say who did it.
 */
export function actingAs<F extends FileSystem>(fs: F, actor: string): F {
  const wrappers = new Map<string, (...args: unknown[]) => unknown>();
  return new Proxy(fs, {
    get(target, property, receiver) {
      const value = Reflect.get(target, property, receiver) as unknown;
      if (typeof value !== 'function') return value;
      const audited: Audited | undefined = isAudited(property) ? AUDITED[property] : undefined;
      if (audited?.options === undefined) return value.bind(target);
      const at = audited.options;
      let wrapper = wrappers.get(property as string);
      if (!wrapper) {
        const method = value as (...a: unknown[]) => unknown;
        wrapper = (...args: unknown[]) => {
          const options = (args[at] ?? {}) as { actor?: string };
          const given = [...args];
          while (given.length < at) given.push(undefined);
          given[at] = options.actor === undefined ? { ...options, actor } : options;
          return method.apply(target, given);
        };
        wrappers.set(property as string, wrapper);
      }
      return wrapper;
    },
  });
}

/**
 * A package-lock.json for a temp project that depends on nothing but the
 * packed tarball, with scopefs's dependencies pinned to the versions the
 * repo's own lockfile installs. With it, `npm ci --offline` installs from the
 * npm cache that the repo's `npm ci` filled: no registry, same tree every run.
 */
export interface Lockfile {
  name?: string;
  lockfileVersion: number;
  requires?: boolean;
  packages: Record<string, LockEntry>;
}

interface LockEntry {
  version?: string;
  resolved?: string;
  integrity?: string;
  dev?: boolean;
  dependencies?: Record<string, string>;
  [key: string]: unknown;
}

export function projectLockfile(repoLock: Lockfile, tarball: string, integrity: string): Lockfile {
  const root = repoLock.packages[''];
  if (!root) throw new Error('the repo lockfile has no root package');
  const packages: Record<string, LockEntry> = {
    '': { name: 'pack-test', dependencies: { scopefs: `file:${tarball}` } },
    'node_modules/scopefs': {
      version: String(root.version),
      resolved: `file:${tarball}`,
      integrity,
      license: root.license,
      dependencies: root.dependencies,
      engines: root.engines,
      bin: root.bin,
    },
  };
  for (const [path, entry] of Object.entries(repoLock.packages)) {
    // What the root needs at run time: everything the lockfile does not mark dev-only.
    if (path === '' || entry.dev === true || entry.link === true || !path.startsWith('node_modules/')) continue;
    packages[path] = entry;
  }
  return { name: 'pack-test', lockfileVersion: 3, requires: true, packages };
}

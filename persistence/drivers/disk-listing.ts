/**
 * Listing a disk root: metadata (and version tag) of every regular file,
 * without reading content. Links, non-files, the engine's own files and
 * names that are not valid virtual paths are left out; the latter are
 * reported, so a name scopefs cannot serve is never silently lost.
 */
import { lstatSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import PQueue from 'p-queue';
import { errorMessage } from '../../src/errors.js';
import { MAX_PATH_BYTES, RESERVED_SEGMENT, normalizePath } from '../../src/paths.js';
import { isEngineStatusFile } from '../../src/sync/engine-files.js';
import { ignoreCode, versionOf } from './disk-io.js';
import type { ListOptions, StoredFileMeta } from './types.js';

/**
 * Listing stats files synchronously, this many at a time, yielding to the
 * event loop between chunks. On Node 20 a sync lstat costs about a third of
 * the CPU of an async one (no thread-pool round trip), which decides whether
 * 100k files index in well under a second on a small machine; a chunk of 512
 * blocks the loop for about 2 ms on a local disk. (On a hung network mount a
 * sync stat would stall the loop; the async alternative would stall the
 * thread pool, which is not much better.)
 */
const LIST_STAT_CHUNK = 512;
const LIST_DIR_CONCURRENCY = 4;

type SkipReporter = NonNullable<ListOptions['onSkipped']>;

/**
 * Collects metadata of every regular file under `dir` (lstat only, content
 * never read). Skips links, non-files, names that are not valid virtual paths,
 * and the internal directory at the root. A few directories are visited at a
 * time, so reading one directory overlaps with stat work on another.
 */
export async function listTree(dir: string, virtualDir: string, onSkipped: SkipReporter): Promise<StoredFileMeta[]> {
  const out: StoredFileMeta[] = [];
  const queue = new PQueue({ concurrency: LIST_DIR_CONCURRENCY });
  let failure: unknown;
  const visit = (real: string, virtual: string): void => {
    queue
      .add(async () => {
        const subdirs = await listDirectory(real, virtual, out, onSkipped);
        for (const sub of subdirs) visit(sub.real, sub.virtual);
      })
      .catch((err: unknown) => (failure ??= err));
  };
  visit(dir, virtualDir);
  await queue.onIdle();
  if (failure !== undefined) throw failure;
  return out;
}

/** Stats the files of one directory into `out`; returns its subdirectories. */
async function listDirectory(
  dir: string,
  virtualDir: string,
  out: StoredFileMeta[],
  onSkipped: SkipReporter,
): Promise<Array<{ real: string; virtual: string }>> {
  const entries = await readdir(dir, { withFileTypes: true }).catch(ignoreCode('ENOENT', 'ENOTDIR'));
  if (!entries) return [];
  const files: Array<{ real: string; virtual: string }> = [];
  const dirs: Array<{ real: string; virtual: string }> = [];
  let names: Set<string> | undefined; // built only when a name is refused
  for (const entry of entries) {
    if (virtualDir === '/' && (entry.name.toLowerCase() === RESERVED_SEGMENT || isEngineStatusFile(`/${entry.name}`))) continue;
    const invalid = invalidName(virtualDir, entry.name);
    if (invalid !== undefined) {
      names ??= new Set(entries.map((e) => `/${e.name}`));
      onSkipped(`${virtualDir}${entry.name}`, invalid, names.has(canonicalName(entry.name) ?? ''));
      continue;
    }
    const item = { real: join(dir, entry.name), virtual: `${virtualDir}${entry.name}` };
    if (entry.isFile()) files.push(item);
    else if (entry.isDirectory()) dirs.push({ real: item.real, virtual: `${item.virtual}/` });
  }
  for (let i = 0; i < files.length; i += LIST_STAT_CHUNK) {
    for (const file of files.slice(i, i + LIST_STAT_CHUNK)) statInto(file, out);
    await new Promise((resolve) => setImmediate(resolve));
  }
  return dirs;
}

function statInto(file: { real: string; virtual: string }, out: StoredFileMeta[]): void {
  const stats = lstatSync(file.real, { bigint: true, throwIfNoEntry: false }); // undefined: deleted while listing
  if (!stats?.isFile() || stats.nlink > 1n) return; // see hardLinkError
  const modifiedAt = Number(stats.mtimeMs);
  const createdAt = stats.birthtimeMs > 0n ? Number(stats.birthtimeMs) : modifiedAt;
  out.push({ path: file.virtual, size: Number(stats.size), modifiedAt, createdAt, version: versionOf(stats) });
}

/**
 * Whether `name` inside the (already valid) `virtualDir` forms a valid,
 * canonical virtual path. Checks only the new segment and the total length,
 * since the directory part was checked on the way down.
 */
function invalidName(virtualDir: string, name: string): string | undefined {
  let canonical: string;
  try {
    canonical = normalizePath(`/${name}`);
  } catch (err) {
    return errorMessage(err);
  }
  if (canonical !== `/${name}`) return `the name is not in Unicode NFC form (${JSON.stringify(canonical.slice(1))} is)`;
  if (Buffer.byteLength(virtualDir) + Buffer.byteLength(name) > MAX_PATH_BYTES) return `the path is longer than ${MAX_PATH_BYTES} bytes`;
  return undefined;
}

/** The name's canonical form, or undefined when it has none. */
function canonicalName(name: string): string | undefined {
  try {
    return normalizePath(`/${name}`);
  } catch {
    return undefined;
  }
}


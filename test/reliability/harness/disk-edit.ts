/**
 * Edits made directly on an instance's disk, the way another program (an
 * editor, a shell) makes them, while the instance runs: an in-place save
 * (truncate and write on the open file), a temp file renamed over the
 * target, or a delete. Each keeps what it read and adds its tokens, so for
 * the oracle it replaces exactly what a delete took away.
 *
 * "Exactly" needs care: scopefs may rename a newer version over the file
 * between our read and our write. An in-place save writes through the
 * descriptor it read from and checks afterwards that the path still names
 * that file (if not, the save went to a file nobody will see: it did not
 * happen). A rename checks the target is still the file read right before
 * renaming, and reads again otherwise. A delete first renames the file
 * aside, so the tokens it removed are those of the very file it took.
 */
import { randomBytes } from 'node:crypto';
import { lstatSync, renameSync } from 'node:fs';
import { mkdir, open, readFile, rename, stat, unlink, writeFile, type FileHandle } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { appendsByLine, kindOf, line, render, tokensIn } from './content.js';

export type DiskEditHow = 'write' | 'rename' | 'delete';

export interface DiskEditResult {
  /** False when nothing happened: nothing to delete, or the save landed in a file already replaced. */
  applied: boolean;
  /** Tokens the edit took away (a delete: those of the file it removed). */
  removed: string[];
  /** CLOCK_MONOTONIC ns (as strings) between which the save took effect at the path. */
  from?: string;
  to?: string;
  /**
   * A rename save: when it checked that the target was still the file it
   * read (CLOCK_MONOTONIC ns), and the tokens of what it saved. A scopefs
   * write landing between that check and the rename is replaced by a save
   * that never read it (POSIX has no compare-and-rename).
   */
  checkedAt?: string;
  saved?: string[];
}

const now = (): string => process.hrtime.bigint().toString();

const ATTEMPTS = 20;

/** `content` with `tokens` added in the file's format, keeping everything it holds. */
function withTokens(path: string, content: Uint8Array | null, tokens: readonly string[]): Uint8Array {
  const kind = kindOf(path);
  const current = content ?? new Uint8Array();
  if (appendsByLine(kind)) return Buffer.concat([current, Buffer.from(tokens.map((t) => line(kind, t)).join(''), 'utf8')]);
  return render(kind, [...tokensIn(current), ...tokens]);
}

export async function editOnDisk(root: string, path: string, how: DiskEditHow, tokens: readonly string[]): Promise<DiskEditResult> {
  const real = join(root, path);
  if (how === 'delete') return deleteAside(root, real);
  for (let attempt = 0; attempt < ATTEMPTS; attempt++) {
    // Inside the loop: a pulled directory move can take the directory away between attempts, or
    // remove a parent while mkdir creates it (ENOENT): both are tried again.
    try {
      await mkdir(dirname(real), { recursive: true });
    } catch (err) {
      if (isChangedUnderUs(err)) continue;
      throw err;
    }
    const outcome = how === 'write' ? await saveInPlace(real, path, tokens) : await saveByRename(real, path, tokens);
    if (outcome !== 'changed') return outcome;
  }
  throw new Error(`${real} kept changing under a disk edit: gave up after ${ATTEMPTS} attempts`);
}

/** The file or its directory was created, removed or moved by someone else meanwhile: try again. */
function isChangedUnderUs(err: unknown): boolean {
  const code = (err as NodeJS.ErrnoException).code;
  return code === 'EEXIST' || code === 'ENOENT';
}

async function openExisting(real: string): Promise<FileHandle | null> {
  try {
    return await open(real, 'r+');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
}

/** Truncate and write through the descriptor the content was read from. */
async function saveInPlace(real: string, path: string, tokens: readonly string[]): Promise<DiskEditResult | 'changed'> {
  const handle = await openExisting(real);
  if (handle === null) {
    try {
      await writeFile(real, withTokens(path, null, tokens), { flag: 'wx' });
      return { applied: true, removed: [] };
    } catch (err) {
      if (isChangedUnderUs(err)) return 'changed';
      throw err;
    }
  }
  try {
    const next = withTokens(path, await handle.readFile(), tokens);
    const from = now();
    await handle.truncate(0);
    await handle.write(next, 0, next.byteLength, 0);
    const to = now();
    const ours = (await handle.stat({ bigint: true })).ino;
    const there = await stat(real, { bigint: true }).catch(() => undefined);
    return { applied: there?.ino === ours, removed: [], from, to };
  } finally {
    await handle.close();
  }
}

/** Write a temp file beside the target and rename it over, if the target is still what was read. */
async function saveByRename(real: string, path: string, tokens: readonly string[]): Promise<DiskEditResult | 'changed'> {
  const handle = await openExisting(real);
  try {
    const read = handle ? await handle.readFile() : null;
    const readIno = handle ? (await handle.stat({ bigint: true })).ino : undefined;
    const temp = join(dirname(real), `_tmp-disk-edit-${randomBytes(4).toString('hex')}`);
    const content = withTokens(path, read, tokens);
    try {
      await writeFile(temp, content);
    } catch (err) {
      if (isChangedUnderUs(err)) return 'changed'; // the directory went away (a directory move)
      throw err;
    }
    // Check and rename back to back, synchronously: the window left is the one scopefs has too.
    const checkedAt = now();
    if (lstatSync(real, { bigint: true, throwIfNoEntry: false })?.ino !== readIno) {
      await unlink(temp).catch(() => undefined);
      return 'changed';
    }
    const from = now();
    try {
      renameSync(temp, real);
    } catch (err) {
      if (!isChangedUnderUs(err)) throw err;
      await unlink(temp).catch(() => undefined);
      return 'changed';
    }
    return { applied: true, removed: [], from, to: now(), checkedAt, saved: tokensIn(content) };
  } finally {
    await handle?.close();
  }
}

/** Renames the file out of the root, then reads what was taken and removes it. */
async function deleteAside(root: string, real: string): Promise<DiskEditResult> {
  const aside = join(dirname(root), `.disk-edit-deleted-${randomBytes(4).toString('hex')}`);
  try {
    await rename(real, aside);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { applied: false, removed: [] };
    throw err;
  }
  const removed = tokensIn(await readFile(aside));
  await unlink(aside);
  return { applied: true, removed };
}

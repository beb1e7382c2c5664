import { readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { ScopeFsError } from '../../src/errors.js';
import { RESERVED_SEGMENT } from '../../src/paths.js';
import { makePrivateDirAsync } from '../../src/private-files.js';

const RETRY_MS = 50;

/**
 * Makes this process the only one working on `root` (its journal and sync
 * state must have a single owner): an exclusive `.scopefs/owner.lock` holding
 * our pid. A lock left by a dead process (a SIGKILL) is taken over; another
 * live process is waited for up to `waitMs`, then ELOCKED; a second scope on
 * the same root in this process is refused at once. Returns the release
 * function.
 */
export async function lockRoot(root: string, waitMs = 15_000): Promise<() => Promise<void>> {
  const file = join(root, RESERVED_SEGMENT, 'owner.lock');
  await makePrivateDirAsync(join(root, RESERVED_SEGMENT));
  const deadline = Date.now() + waitMs;
  for (;;) {
    if (await tryCreate(file)) return () => release(file);
    const holder = await holderOf(file);
    if (holder === process.pid) {
      throw new ScopeFsError('ELOCKED', `${root} is already open in this process (by another scope)`);
    }
    if (holder !== undefined && !processAlive(holder)) {
      await rm(file, { force: true });
      continue;
    }
    if (Date.now() >= deadline) {
      throw new ScopeFsError('ELOCKED', `${root} is in use by another scopefs process (pid ${holder ?? 'unknown'})`);
    }
    await delay(RETRY_MS);
  }
}

async function tryCreate(file: string): Promise<boolean> {
  try {
    await writeFile(file, `${process.pid}\n`, { flag: 'wx', mode: 0o600 });
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw err;
  }
}

async function holderOf(file: string): Promise<number | undefined> {
  try {
    const pid = Number((await readFile(file, 'utf8')).trim());
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined; // released meanwhile, or half written: try again
  }
}

async function release(file: string): Promise<void> {
  if ((await holderOf(file)) === process.pid) await rm(file, { force: true });
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

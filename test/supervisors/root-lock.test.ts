import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startScope } from 'scopefs';
import { lockRoot } from '../../supervisors/scope/root-lock.js';

let root: string;
beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'scopefs-lock-'));
  await mkdir(join(root, '.scopefs'), { recursive: true });
});
afterEach(() => rm(root, { recursive: true, force: true }));

describe('root owner lock: one process per root', () => {
  it('refuses a second owner in the same process at once, and frees the lock on release', async () => {
    const release = await lockRoot(root);
    await expect(lockRoot(root, 10_000)).rejects.toMatchObject({ code: 'ELOCKED' });
    await release();
    expect(existsSync(join(root, '.scopefs', 'owner.lock'))).toBe(false);
    await (await lockRoot(root))();
  });

  it('waits for another live process, then takes over once it is gone', async () => {
    const holder = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60000)']);
    await writeFile(join(root, '.scopefs', 'owner.lock'), `${holder.pid}\n`);
    await expect(lockRoot(root, 100)).rejects.toMatchObject({ code: 'ELOCKED', message: expect.stringContaining(`pid ${holder.pid}`) });
    const waiting = lockRoot(root, 20_000);
    holder.kill('SIGKILL');
    await (await waiting)();
  });

  it('takes over a lock left by a process killed with SIGKILL', async () => {
    const dead = spawnSync(process.execPath, ['-e', '0']).pid;
    await writeFile(join(root, '.scopefs', 'owner.lock'), `${dead}\n`);
    await (await lockRoot(root, 1_000))();
  });

  it('startScope holds the lock for the life of the scope', async () => {
    const scope = await startScope({ scopeKey: ['lock', root.slice(-6)], root });
    await expect(startScope({ scopeKey: ['lock-2', root.slice(-6)], root })).rejects.toMatchObject({ code: 'ELOCKED' });
    await scope.stop();
    const again = await startScope({ scopeKey: ['lock-2', root.slice(-6)], root });
    await again.stop();
  });
});

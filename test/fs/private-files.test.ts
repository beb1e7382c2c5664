import { chmodSync, mkdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { makePrivateDir, makePrivateDirAsync } from '../../src/private-files.js';
import { tempDir } from './helpers.js';

let dir: Awaited<ReturnType<typeof tempDir>>;
beforeEach(async () => {
  dir = await tempDir();
});
afterEach(() => dir.remove());

const modeOf = (path: string) => statSync(path).mode & 0o777;

describe.each([
  ['makePrivateDir', async (path: string) => makePrivateDir(path)],
  ['makePrivateDirAsync', makePrivateDirAsync],
])('%s', (_name, make) => {
  it('creates the directory 0700 and its missing parents', async () => {
    const target = join(dir.path, 'a', 'b', '.scopefs');
    await make(target);
    expect(modeOf(target)).toBe(0o700);
    expect(statSync(join(dir.path, 'a', 'b')).isDirectory()).toBe(true);
  });

  it('tightens an existing directory left readable by others, and leaves a private one as it is', async () => {
    const loose = join(dir.path, 'loose');
    mkdirSync(loose);
    chmodSync(loose, 0o755);
    await make(loose);
    expect(modeOf(loose)).toBe(0o700);
    await make(loose);
    expect(modeOf(loose)).toBe(0o700);
  });

  it('fails when a file is in the way', async () => {
    writeFileSync(join(dir.path, 'file'), '');
    await expect(make(join(dir.path, 'file', '.scopefs'))).rejects.toMatchObject({ code: 'ENOTDIR' });
  });
});

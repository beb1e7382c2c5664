import { afterEach, describe, expect, it } from 'vitest';
import { sha256 } from '../../src/content.js';
import { Servers } from './helpers.js';

const servers = new Servers();
afterEach(() => servers.stopAll());

describe('FileSystemServer: files and metadata', () => {
  it('writes and reads text', async () => {
    const fs = await servers.start();
    await fs.writeFile('/notes/a.md', '# Hello');
    expect(await fs.readFile('/notes/a.md')).toBe('# Hello');
    expect(await fs.fileExists('/notes/a.md')).toBe(true);
    expect(await fs.fileExists('/notes/b.md')).toBe(false);
  });

  it.each([
    ['empty', ''],
    ['whitespace-only', ' \n\t  \r\n'],
    ['unicode', 'héllo wörld ✓ 𝄞'],
  ])('round-trips %s content as text and as bytes', async (_name, content) => {
    const fs = await servers.start();
    await fs.writeFile('/f.txt', content);
    expect(await fs.readFile('/f.txt')).toBe(content);
    expect(await fs.readFile('/f.txt', { encoding: 'bytes' })).toEqual(new Uint8Array(Buffer.from(content)));
    expect((await fs.stat('/f.txt')).size).toBe(Buffer.byteLength(content));
  });

  it('round-trips binary content byte for byte', async () => {
    const fs = await servers.start();
    const bytes = new Uint8Array(256 * 4).map((_, i) => (i * 7 + 3) % 256); // includes invalid UTF-8 sequences
    await fs.writeFile('/blob.bin', bytes);
    const read = await fs.readFile('/blob.bin', { encoding: 'bytes' });
    expect(read).toEqual(bytes);
    expect((await fs.stat('/blob.bin')).checksum).toBe(sha256(bytes));
  });

  it('keeps its own copy of written bytes and hands out copies on read', async () => {
    const fs = await servers.start();
    const bytes = new Uint8Array([1, 2, 3]);
    await fs.writeFile('/b.bin', bytes);
    bytes[0] = 99;
    const read = await fs.readFile('/b.bin', { encoding: 'bytes' });
    read[1] = 99;
    expect(await fs.readFile('/b.bin', { encoding: 'bytes' })).toEqual(new Uint8Array([1, 2, 3]));
  });

  it('records size, times, mime type, checksum and an increasing revision', async () => {
    const fs = await servers.start();
    const first = await fs.writeFile('/docs/readme.md', 'one');
    expect(first).toMatchObject({ path: '/docs/readme.md', size: 3, mimeType: 'text/markdown', checksum: sha256('one'), loaded: true, memoryOnly: true, dirty: false });
    expect(first.modifiedAt).toBe(first.createdAt);
    const second = await fs.writeFile('/docs/readme.md', 'two!');
    expect(second.revision).toBeGreaterThan(first.revision);
    expect(second.createdAt).toBe(first.createdAt);
    expect(second.modifiedAt).toBeGreaterThanOrEqual(first.modifiedAt);
    expect(second).toMatchObject({ size: 4, checksum: sha256('two!') });
    expect(await fs.stat('/docs/readme.md')).toEqual(second);
  });

  it('uses an explicit mime type, keeps it on update, and defaults unknown extensions', async () => {
    const fs = await servers.start();
    expect((await fs.writeFile('/data', 'x')).mimeType).toBe('application/octet-stream');
    expect((await fs.writeFile('/a.txt', 'x', { mimeType: 'text/x-custom' })).mimeType).toBe('text/x-custom');
    expect((await fs.writeFile('/a.txt', 'y')).mimeType).toBe('text/x-custom');
    expect((await fs.writeFile('/p.PNG', new Uint8Array([1]))).mimeType).toBe('image/png');
  });

  it('normalises paths to NFC so both spellings name one file', async () => {
    const fs = await servers.start();
    await fs.writeFile('/cafe\u0301.md', 'x');
    expect(await fs.listFiles()).toEqual(['/caf\u00e9.md']);
    expect(await fs.readFile('/caf\u00e9.md')).toBe('x');
  });

  it('compare-and-swap: ifRevision 0 creates only, a current revision updates', async () => {
    const fs = await servers.start();
    const created = await fs.writeFile('/cas.txt', 'a', { ifRevision: 0 });
    const updated = await fs.writeFile('/cas.txt', 'b', { ifRevision: created.revision });
    expect(updated.revision).toBeGreaterThan(created.revision);
    expect(await fs.readFile('/cas.txt')).toBe('b');
  });

  it('appends, creating the file when missing', async () => {
    const fs = await servers.start();
    await fs.appendFile('/log.jsonl', '{"a":1}\n');
    await fs.appendFile('/log.jsonl', '{"b":2}\n');
    await fs.appendFile('/log.jsonl', new Uint8Array(Buffer.from('raw')));
    expect(await fs.readFile('/log.jsonl')).toBe('{"a":1}\n{"b":2}\nraw');
  });

  it('edits the single match of a string, literally (no $ patterns)', async () => {
    const fs = await servers.start();
    await fs.writeFile('/e.md', 'alpha beta gamma');
    await fs.editFile('/e.md', 'beta', '$& $1 delta');
    expect(await fs.readFile('/e.md')).toBe('alpha $& $1 delta gamma');
  });

  it('deletes files', async () => {
    const fs = await servers.start();
    await fs.writeFile('/d.txt', 'x');
    await fs.deleteFile('/d.txt');
    expect(await fs.fileExists('/d.txt')).toBe(false);
    expect(await fs.listFiles()).toEqual([]);
  });

  it('lists files and entries under a prefix, sorted', async () => {
    const fs = await servers.start();
    for (const path of ['/b/2.md', '/a/1.md', '/b/1.md', '/bb/x.md']) await fs.writeFile(path, path);
    expect(await fs.listFiles()).toEqual(['/a/1.md', '/b/1.md', '/b/2.md', '/bb/x.md']);
    expect(await fs.listFiles('/b')).toEqual(['/b/1.md', '/b/2.md']);
    expect(await fs.listFiles('/b/')).toEqual(['/b/1.md', '/b/2.md']);
    const entries = await fs.listEntries('/a');
    expect(entries.map((e) => [e.path, e.size])).toEqual([['/a/1.md', 7]]);
  });

  it('moves a file and a whole prefix', async () => {
    const fs = await servers.start();
    await fs.writeFile('/one.md', '1');
    expect(await fs.moveFile('/one.md', '/uno.md')).toEqual({ moved: [['/one.md', '/uno.md']] });
    await fs.writeFile('/dir/a.md', 'a');
    await fs.writeFile('/dir/sub/b.md', 'b');
    const result = await fs.moveFile('/dir', '/moved/here');
    expect(result.moved).toEqual([
      ['/dir/a.md', '/moved/here/a.md'],
      ['/dir/sub/b.md', '/moved/here/sub/b.md'],
    ]);
    expect(await fs.listFiles()).toEqual(['/moved/here/a.md', '/moved/here/sub/b.md', '/uno.md']);
    expect(await fs.readFile('/moved/here/sub/b.md')).toBe('b');
  });

  it('reports stats', async () => {
    const fs = await servers.start();
    await fs.writeFile('/a', '12345');
    await fs.writeFile('/b', '1');
    expect(await fs.stats()).toEqual({ total: 2, memoryOnly: 2, persisted: 0, loaded: 2, notLoaded: 0, dirty: 0, totalSize: 6, pendingTimers: 0, diskAlerts: [] });
  });

  it('applies calls in the order they were made', async () => {
    const fs = await servers.start();
    const calls = Array.from({ length: 50 }, (_, i) => fs.appendFile('/seq.txt', `${i},`));
    await Promise.all(calls);
    expect(await fs.readFile('/seq.txt')).toBe(Array.from({ length: 50 }, (_, i) => `${i},`).join(''));
  });

  it('is a Process: named, running, stopped after stop(), calls rejected after', async () => {
    const fs = await servers.start({ name: 'fs:user/1' });
    expect(fs.name).toBe('fs:user/1');
    expect(fs.status).toBe('running');
    const exited = new Promise((resolve) => fs.onExit(resolve));
    await fs.stop();
    expect(await exited).toBe('normal');
    expect(fs.status).toBe('stopped');
    await expect(fs.readFile('/x')).rejects.toMatchObject({ code: 'ESTOPPED' });
  });
});

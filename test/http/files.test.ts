import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { JSON_TYPE, rawRequest, startTestServer, TOKEN, type TestServer } from './helpers.js';

const auth = { authorization: `Bearer ${TOKEN}` };
let server: TestServer;

beforeAll(async () => {
  server = await startTestServer({ maxBodyBytes: 4096, maxJsonBytes: 1024 });
});
afterAll(() => server.close());

describe('files over HTTP', () => {
  it('round-trips every byte value and reports the revision as ETag', async () => {
    const bytes = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
    const put = await server.call('/v1/files/bin/all.bin', { method: 'PUT', body: bytes });
    expect(put.status).toBe(200);
    const meta = (await put.json()) as { revision: number; size: number };
    expect(meta.size).toBe(256);
    expect(put.headers.get('etag')).toBe(`"${meta.revision}"`);

    const get = await server.call('/v1/files/bin/all.bin');
    expect(get.status).toBe(200);
    expect(get.headers.get('etag')).toBe(`"${meta.revision}"`);
    expect(Buffer.from(await get.arrayBuffer()).equals(bytes)).toBe(true);
  });

  it('answers 304 when If-None-Match names the current revision', async () => {
    await server.call('/v1/files/cache.txt', { method: 'PUT', body: 'v1' });
    const etag = (await server.call('/v1/files/cache.txt')).headers.get('etag')!;
    expect((await server.call('/v1/files/cache.txt', { headers: { 'if-none-match': etag } })).status).toBe(304);
  });

  it('HEAD gives the metadata without the body', async () => {
    await server.call('/v1/files/head.md', { method: 'PUT', body: '# hi\n' });
    const head = await server.call('/v1/files/head.md', { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(head.headers.get('content-length')).toBe('5');
    expect(head.headers.get('content-type')).toMatch(/markdown/);
  });

  it('If-Match makes a write a compare-and-swap: 412 when the revision moved on', async () => {
    const first = await server.call('/v1/files/cas.txt', { method: 'PUT', body: 'one' });
    const etag = first.headers.get('etag')!;
    const second = await server.call('/v1/files/cas.txt', { method: 'PUT', body: 'two', headers: { 'if-match': etag } });
    expect(second.status).toBe(200);
    const stale = await server.call('/v1/files/cas.txt', { method: 'PUT', body: 'three', headers: { 'if-match': etag } });
    expect(stale.status).toBe(412);
    expect(((await stale.json()) as { error: { code: string } }).error.code).toBe('ESTALE');
    expect(await (await server.call('/v1/files/cas.txt')).text()).toBe('two');
  });

  it('If-None-Match: * creates only; If-Match: * updates only; a malformed If-Match is a 400', async () => {
    const created = await server.call('/v1/files/once.txt', { method: 'PUT', body: 'a', headers: { 'if-none-match': '*' } });
    expect(created.status).toBe(200);
    const again = await server.call('/v1/files/once.txt', { method: 'PUT', body: 'b', headers: { 'if-none-match': '*' } });
    expect(again.status).toBe(412);
    const refusal = ((await again.json()) as { error: { code: string; message: string } }).error;
    expect(refusal.code).toBe('EEXIST');
    expect(refusal.message).toMatch(/already exists "\/once\.txt" \(If-None-Match: \*\)/);
    expect(refusal.message).not.toMatch(/revision 0/);
    const missing = await server.call('/v1/files/absent.txt', { method: 'PUT', body: 'c', headers: { 'if-match': '*' } });
    expect(missing.status).toBe(412);
    const bad = await server.call('/v1/files/once.txt', { method: 'PUT', body: 'd', headers: { 'if-match': 'W/"x"' } });
    expect(bad.status).toBe(400);
    expect(await (await server.call('/v1/files/once.txt')).text()).toBe('a');
  });

  it('deletes (conditionally with If-Match) and then reads 404', async () => {
    const put = await server.call('/v1/files/gone.txt', { method: 'PUT', body: 'x' });
    const etag = put.headers.get('etag')!;
    await server.call('/v1/files/gone.txt', { method: 'PUT', body: 'y' });
    expect((await server.call('/v1/files/gone.txt', { method: 'DELETE', headers: { 'if-match': etag } })).status).toBe(412);
    expect((await server.call('/v1/files/gone.txt', { method: 'DELETE' })).status).toBe(204);
    const read = await server.call('/v1/files/gone.txt');
    expect(read.status).toBe(404);
    expect(((await read.json()) as { error: { code: string } }).error.code).toBe('ENOENT');
  });

  it('lists under a prefix and moves a directory', async () => {
    await server.call('/v1/files/dir/a.txt', { method: 'PUT', body: 'a' });
    await server.call('/v1/files/dir/sub/b.txt', { method: 'PUT', body: 'b' });
    const list = (await (await server.call('/v1/files?prefix=/dir')).json()) as { files: Array<{ path: string }> };
    expect(list.files.map((f) => f.path)).toEqual(['/dir/a.txt', '/dir/sub/b.txt']);

    const moved = await server.call('/v1/move', { method: 'POST', body: JSON.stringify({ from: '/dir', to: '/moved' }), headers: JSON_TYPE });
    expect(moved.status).toBe(200);
    expect(((await moved.json()) as { moved: string[][] }).moved).toHaveLength(2);
    expect(await (await server.call('/v1/files/moved/sub/b.txt')).text()).toBe('b');
  });

  it('decodes percent-encoding once: names with spaces and unicode work', async () => {
    const put = await server.call(`/v1/files/${encodeURIComponent('notes')}/${encodeURIComponent('é to do?.md')}`, { method: 'PUT', body: 'ok' });
    expect(put.status).toBe(200);
    expect(((await put.json()) as { path: string }).path).toBe('/notes/é to do?.md');
  });

  it.each([
    ['a .. segment', '/v1/files/a/../../escape.txt'],
    ['an encoded .. segment', '/v1/files/a/%2e%2e/%2E%2E/escape.txt'],
    ['an encoded backslash', '/v1/files/a%5C..%5Cescape.txt'],
    ['an encoded NUL', '/v1/files/a%00.txt'],
    ['malformed percent-encoding', '/v1/files/a%E0%A4%A.txt'],
    ['an empty segment', '/v1/files/a//b.txt'],
    ['a trailing slash', '/v1/files/dir/'],
  ])('refuses %s with 400 and writes nothing', async (_, target) => {
    const response = await rawRequest(server.url, 'PUT', target, auth, 'evil');
    expect(response.status).toBe(400);
    expect(JSON.parse(response.body)).toEqual({ error: { code: 'EINVAL', message: expect.stringMatching(/invalid path/) } });
    expect(await readdir(server.dir)).toEqual(['root']);
  });

  it('never serves the engine\'s own folder', async () => {
    for (const method of ['GET', 'PUT', 'DELETE']) {
      const response = await rawRequest(server.url, method, '/v1/files/.scopefs/journal.log', auth, method === 'PUT' ? 'x' : undefined);
      expect(response.status).toBe(400);
      expect(JSON.parse(response.body).error.message).toMatch(/reserved/);
    }
  });

  it('refuses a body over the limit with 413', async () => {
    const response = await server.call('/v1/files/big.bin', { method: 'PUT', body: Buffer.alloc(8192, 1) });
    expect(response.status).toBe(413);
    expect((await server.call('/v1/files/big.bin')).status).toBe(404);
    const json = await server.call('/v1/move', { method: 'POST', body: JSON.stringify({ from: '/a', to: 'x'.repeat(2000) }), headers: JSON_TYPE });
    expect(json.status).toBe(413);
  });

  it('answers bad JSON with 400, unknown routes with 404 and wrong methods with 405', async () => {
    expect((await server.call('/v1/move', { method: 'POST', body: '{nope', headers: JSON_TYPE })).status).toBe(400);
    expect((await server.call('/v1/nothing')).status).toBe(404);
    const wrong = await server.call('/v1/move', { method: 'GET' });
    expect(wrong.status).toBe(405);
    expect(wrong.headers.get('allow')).toBe('POST');
  });

  it('flushes: the written files are on disk', async () => {
    await server.call('/v1/files/flushed.txt', { method: 'PUT', body: 'on disk' });
    const flushed = await server.call('/v1/flush', { method: 'POST' });
    expect(flushed.status).toBe(200);
    expect(await readFile(join(server.root, 'flushed.txt'), 'utf8')).toBe('on disk');
  });
});

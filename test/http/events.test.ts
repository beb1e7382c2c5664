import { afterEach, describe, expect, it } from 'vitest';
import { EventLog } from '../../src/http/event-log.js';
import { JSON_TYPE, startTestServer, TOKEN, type TestServer } from './helpers.js';
import { fileEvent, SseClient } from './sse-client.js';

describe('EventLog', () => {
  it('replays what came after an id, within its window', () => {
    const log = new EventLog(3);
    const first = log.append('a', 1);
    log.append('b', 2);
    log.append('c', 3);
    expect(log.after(first.id)?.map((e) => e.type)).toEqual(['b', 'c']);
    expect(log.after(log.lastId)).toEqual([]);
    log.append('d', 4);
    expect(log.after(first.id)?.map((e) => e.type)).toEqual(['b', 'c', 'd']);
    log.append('e', 5);
    expect(log.after(first.id)).toBeUndefined(); // 'b' has left the window
  });

  it('does not honour ids from another run, from the future, or malformed', () => {
    const log = new EventLog();
    const other = new EventLog();
    other.append('x', 1);
    log.append('x', 1);
    expect(log.after(other.lastId)).toBeUndefined();
    expect(log.after(log.lastId.replace(/-\d+$/, '-99'))).toBeUndefined();
    expect(log.after('garbage')).toBeUndefined();
  });
});

describe('GET /v1/events', () => {
  let server: TestServer;
  const clients: SseClient[] = [];
  const connect = async (options: { lastEventId?: string } = {}) => {
    const client = await SseClient.connect(`${server.url}/v1/events`, { token: TOKEN, ...options });
    clients.push(client);
    return client;
  };

  afterEach(async () => {
    for (const client of clients.splice(0)) client.close();
    await server.close();
  });

  it('starts with a ready event, then carries file events', async () => {
    server = await startTestServer();
    const events = await connect();
    await events.waitFor((m) => m.event === 'ready');
    await server.call('/v1/files/a.md', { method: 'PUT', body: 'hello' });
    const updated = await events.waitFor(fileEvent('file_updated', '/a.md', 'local'));
    expect(JSON.parse(updated.data)).toMatchObject({ type: 'file_updated', path: '/a.md', created: true, meta: { size: 5 } });
    await server.call('/v1/move', { method: 'POST', body: JSON.stringify({ from: '/a.md', to: '/b.md' }), headers: JSON_TYPE });
    await events.waitFor(fileEvent('file_moved', '/b.md'));
    await server.call('/v1/files/b.md', { method: 'DELETE' });
    await events.waitFor(fileEvent('file_deleted', '/b.md'));
  });

  it('sends heartbeats', async () => {
    server = await startTestServer({ heartbeatMs: 50 });
    const events = await connect();
    await events.nextComment();
    await events.nextComment();
    expect(events.comments).toBeGreaterThanOrEqual(2);
  });

  it('replays missed events to a client reconnecting with Last-Event-ID', async () => {
    server = await startTestServer();
    const first = await connect();
    await server.call('/v1/files/one.txt', { method: 'PUT', body: '1' });
    const seen = await first.waitFor(fileEvent('file_updated', '/one.txt'));
    first.close();
    await server.call('/v1/files/two.txt', { method: 'PUT', body: '2' });
    await server.call('/v1/files/three.txt', { method: 'PUT', body: '3' });

    const again = await connect({ lastEventId: seen.id });
    const three = await again.waitFor(fileEvent('file_updated', '/three.txt'));
    const paths = again.messages.filter((m) => m.event === 'file_updated').map((m) => JSON.parse(m.data).path);
    expect(paths).toEqual(['/two.txt', '/three.txt']);
    expect(again.messages.some((m) => m.event === 'ready')).toBe(false);
    expect(three.id).not.toBe(seen.id);
  });

  it('tells a client whose Last-Event-ID left the window to re-list (reset)', async () => {
    server = await startTestServer({ replayEvents: 2 });
    const first = await connect();
    await server.call('/v1/files/old.txt', { method: 'PUT', body: 'x' });
    const seen = await first.waitFor(fileEvent('file_updated', '/old.txt'));
    first.close();
    for (const name of ['a', 'b', 'c']) await server.call(`/v1/files/${name}.txt`, { method: 'PUT', body: name });

    const again = await connect({ lastEventId: seen.id });
    const reset = await again.waitFor((m) => m.event === 'reset');
    expect(JSON.parse(reset.data).reason).toMatch(/list the files again/);
    await server.call('/v1/files/after.txt', { method: 'PUT', body: 'y' });
    await again.waitFor(fileEvent('file_updated', '/after.txt'));
    expect(again.messages.filter((m) => m.event === 'file_updated').map((m) => JSON.parse(m.data).path)).toEqual(['/after.txt']);
  });

  it('ends open streams when the server closes', async () => {
    server = await startTestServer();
    const events = await connect();
    await events.waitFor((m) => m.event === 'ready');
    await server.http.close();
    await expect.poll(() => events.ended, { timeout: 10_000 }).toBe(true);
  });
});

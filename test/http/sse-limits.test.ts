import { once } from 'node:events';
import { get, type IncomingMessage } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { startTestServer, TOKEN, type TestServer } from './helpers.js';
import { SseClient } from './sse-client.js';

/**
 * SSE under clients that stop reading: the server's buffered bytes stay
 * under the cap, the slowest are dropped, a client that reads gets every
 * event, and a dropped client that reconnects with Last-Event-ID gets what it
 * missed. Real sockets throughout: the stalled clients are real HTTP requests
 * whose responses are paused, so the kernel and then the server fill up.
 */
interface StalledClient {
  res: IncomingMessage;
  /** Starts reading; resolves with everything received once the server has closed the stream. */
  drain(): Promise<string>;
}

/** Events this large (a long path appears twice in each) fill socket buffers in a few hundred writes. */
const DIR = `/${Array.from({ length: 15 }, (_, i) => `${i}${'d'.repeat(250)}`).join('/')}`;

/**
 * One write, then a turn of the event loop, as when writes arrive over the
 * network: the sockets get to drain between writes (a tight loop of
 * in-memory writes would never let them) and the server's cap check runs.
 */
async function write(server: TestServer, i: number): Promise<void> {
  await server.scope.fs.writeFile(`${DIR}/file-${i % 40}.md`, `revision ${i}`);
  await new Promise((resolve) => setImmediate(resolve));
}

async function stalledClient(url: string, lastEventId?: string): Promise<StalledClient> {
  const headers: Record<string, string> = { authorization: `Bearer ${TOKEN}`, accept: 'text/event-stream' };
  if (lastEventId) headers['last-event-id'] = lastEventId;
  const request = get(`${url}/v1/events`, { headers });
  request.on('error', () => undefined); // a dropped stream ends in a reset: expected
  const [res] = (await once(request, 'response')) as [IncomingMessage];
  res.on('error', () => undefined);
  res.on('aborted', () => undefined);
  res.pause(); // never read: the http parser stops reading the socket, the kernel buffers fill, then the server's
  return {
    res,
    drain: async () => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      const closed = new Promise((resolve) => res.once('close', resolve)); // not once(): it rejects on 'aborted'
      res.resume();
      await closed;
      return Buffer.concat(chunks).toString('utf8');
    },
  };
}

/** The ids of the file events in a raw SSE text (a torn last frame is ignored). */
function fileEventIds(text: string): string[] {
  return text
    .split('\n\n')
    .slice(0, -1)
    .filter((block) => block.includes('\nevent: file_updated\n'))
    .map((block) => /^id: (.*)$/m.exec(block)![1]!);
}

const seqOf = (id: string) => Number(id.split('-')[1]);

describe('SSE memory limits', () => {
  let server: TestServer;
  const readers: SseClient[] = [];
  afterEach(async () => {
    for (const reader of readers.splice(0)) reader.close();
    await server.close();
  });

  it('keeps buffered bytes under the cap, drops the slowest, and loses no event for readers or reconnects', async () => {
    const cap = 96 * 1024;
    const writes = 1_000;
    // Debounced: the writes stay in memory, so the test spends its time on the event streams, not on fsync.
    server = await startTestServer({ maxEventBufferBytes: cap, replayEvents: writes + 10, durability: 'debounced' });
    const reader = await SseClient.connect(`${server.url}/v1/events`, { token: TOKEN });
    readers.push(reader);
    await reader.waitFor((m) => m.event === 'ready');
    const stalled = await Promise.all(Array.from({ length: 12 }, () => stalledClient(server.url)));
    expect(server.http.eventStreams().streams).toBe(13);

    let peak = 0;
    for (let i = 0; i < writes; i++) {
      await write(server, i);
      // Measured once the sockets have taken what they can (the server checks its cap then, too):
      // right after a write every stream still holds it, until Node uncorks the response on the next tick.
      peak = Math.max(peak, server.http.eventStreams().bufferedBytes);
    }
    const updates = () => reader.messages.filter((m) => m.event === 'file_updated');
    await reader.waitFor((m) => m.event === 'file_updated' && updates().length === writes);
    const last = updates().at(-1)!;

    expect(peak).toBeLessThanOrEqual(cap);
    const stats = server.http.eventStreams();
    expect(stats.dropped).toBeGreaterThan(0);
    expect(stats.streams).toBe(13 - stats.dropped);

    // The reader got every event, in order, none twice.
    const seqs = updates().map((m) => seqOf(m.id!));
    expect(seqs).toHaveLength(writes);
    expect(seqs.every((seq, i) => i === 0 || seq === seqs[i - 1]! + 1)).toBe(true);
    expect(seqOf(last.id!)).toBe(seqs.at(-1));

    // A dropped client (the first stalled one to see its stream end once it reads again): what it got
    // before the drop, then the rest by Last-Event-ID, is everything.
    const before = fileEventIds(await Promise.race(stalled.map((client) => client.drain())));
    expect(before.length).toBeGreaterThan(0);
    expect(before.length).toBeLessThan(writes);
    const again = await SseClient.connect(`${server.url}/v1/events`, { token: TOKEN, lastEventId: before.at(-1) });
    readers.push(again);
    await again.waitFor((m) => m.id === last.id);
    const after = again.messages.filter((m) => m.event === 'file_updated').map((m) => m.id!);
    expect([...before, ...after].map(seqOf)).toEqual(seqs);
    for (const client of stalled) client.res.destroy();
  }, 60_000);

  it('drops a stalled stream that fell out of the replay window; it reconnects to a reset', async () => {
    server = await startTestServer({ replayEvents: 50, durability: 'debounced' });
    const stalled = await stalledClient(server.url);
    for (let i = 0; i < 3_000 && server.http.eventStreams().dropped === 0; i++) {
      await write(server, i);
    }
    expect(server.http.eventStreams()).toMatchObject({ streams: 0, dropped: 1 });
    const seen = fileEventIds(await stalled.drain());
    const again = await SseClient.connect(`${server.url}/v1/events`, { token: TOKEN, lastEventId: seen.at(-1) });
    readers.push(again);
    const reset = await again.waitFor((m) => m.event === 'reset');
    expect(JSON.parse(reset.data).reason).toMatch(/list the files again/);
  }, 60_000);

  it('refuses streams over the limit with 503 and a JSON error, and accepts again once one closes', async () => {
    server = await startTestServer({ maxEventStreams: 2 });
    const first = await SseClient.connect(`${server.url}/v1/events`, { token: TOKEN });
    const second = await SseClient.connect(`${server.url}/v1/events`, { token: TOKEN });
    readers.push(first, second);
    const refused = await server.call('/v1/events');
    expect(refused.status).toBe(503);
    expect(refused.headers.get('retry-after')).toBe('5');
    expect(await refused.json()).toEqual({
      error: { code: 'EBUSY', message: 'too many event streams are open (the limit is 2); retry later, with Last-Event-ID to resume' },
    });
    first.close();
    await expect.poll(() => server.http.eventStreams().streams, { timeout: 10_000 }).toBe(1);
    const third = await SseClient.connect(`${server.url}/v1/events`, { token: TOKEN });
    readers.push(third);
    await third.waitFor((m) => m.event === 'ready');
  });
});

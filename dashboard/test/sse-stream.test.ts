/** streamEvents: the token in the Authorization header, and a dropped stream resumed with Last-Event-ID. */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { streamEvents, type SseEvent } from '../src/sse.js';

const body = (text: string) => new Response(new ReadableStream({ start: (c) => { c.enqueue(new TextEncoder().encode(text)); c.close(); } }), { status: 200 });

afterEach(() => vi.unstubAllGlobals());

describe('streamEvents', () => {
  it('sends the token as a header, never in the URL, and resumes after a drop from the last id', async () => {
    const calls: Array<{ url: string; headers: Record<string, string> }> = [];
    const abort = new AbortController();
    const events: SseEvent[] = [];
    vi.stubGlobal('fetch', async (url: string, init: { headers: Record<string, string> }) => {
      calls.push({ url, headers: init.headers });
      if (calls.length === 1) return body('id: run-1\nevent: ready\ndata: {}\n\nid: run-2\nevent: file_updated\ndata: {"path":"/a"}\n\n');
      abort.abort(); // the second connection is enough
      return body('');
    });
    const opens: boolean[] = [];
    await streamEvents({ url: '/v1/events', token: 'secret-token', onEvent: (e) => events.push(e), onOpen: (open) => opens.push(open), signal: abort.signal, retryMs: 1 });
    expect(events.map((e) => e.id)).toEqual(['run-1', 'run-2']);
    expect(calls).toHaveLength(2);
    expect(calls.every((call) => !call.url.includes('secret-token'))).toBe(true);
    expect(calls[0]!.headers).toMatchObject({ authorization: 'Bearer secret-token' });
    expect(calls[0]!.headers['last-event-id']).toBeUndefined();
    expect(calls[1]!.headers['last-event-id']).toBe('run-2');
    expect(opens.slice(0, 2)).toEqual([true, false]);
  });

  it('stops, and says so, when the server refuses the token', async () => {
    vi.stubGlobal('fetch', async () => new Response('{"error":{"code":"EAUTH","message":"missing or invalid bearer token"}}', { status: 401 }));
    const refused: number[] = [];
    await streamEvents({ url: '/v1/events', token: 't', onEvent: () => undefined, onRefused: (status) => refused.push(status), signal: new AbortController().signal });
    expect(refused).toEqual([401]);
  });
});
